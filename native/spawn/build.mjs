// Builds the posix_spawn module at install time. Porthole runs without it (through Node's
// child_process, which slows down as the server grows), so a failed build warns instead of
// failing the install; `porthole serve` then says so in its log.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

if (process.platform !== 'linux') {
  console.log(`porthole: posix_spawn module skipped on ${process.platform} (Linux only)`);
  process.exit(0);
}

// npm names its bundled node-gyp for install scripts; otherwise one on PATH.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const result = spawnSync(command, args, { cwd: here, stdio: 'inherit' });
if (result.status !== 0) {
  console.warn(
    '\n!!! porthole: the posix_spawn module did not build; commands will start through ' +
      "Node's child_process instead (slower). Install python3, make and a C compiler, then " +
      'run `npm rebuild porthole` or `npm ci` again. !!!\n',
  );
}
