import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { ROOT } from '../helpers/cli.js';

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
/** The Node flags of a `node … dist/cli/main.js` command line, in order. */
const flagsOf = (line: string) => line.split(/\s+/).filter((word) => word.startsWith('--'));

/**
 * Every way Porthole is launched gives Node the same flags; a launcher that dropped them would
 * bring back Node 24's memory growth under load without any test noticing.
 */
describe('the Node flags porthole serve is launched with', () => {
  const launchers: [string, () => string][] = [
    ['the porthole command (shebang of src/cli/main.ts)', () => read('src/cli/main.ts').split('\n')[0]!],
    ['npm start', () => (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start!.split(' dist/')[0]!],
    ['deploy/supervisor/porthole.conf', () => /^command=(.*?) \S+\/dist\/cli\/main\.js/m.exec(read('deploy/supervisor/porthole.conf'))![1]!],
    ['deploy/systemd/porthole.service', () => /^ExecStart=(.*?) \S+\/dist\/cli\/main\.js/m.exec(read('deploy/systemd/porthole.service'))![1]!],
    ['the Dockerfile ENTRYPOINT', () => (JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(read('Dockerfile'))![1]!) as string[]).join(' ')],
  ];

  it.each(launchers)('%s', (_name, line) => {
    expect(flagsOf(line())).toEqual([...SERVE_NODE_FLAGS]);
  });

  it('are flags this Node accepts (it refuses to start on an unknown one)', () => {
    const result = spawnSync(process.execPath, [...SERVE_NODE_FLAGS, '-e', 'process.exit(0)'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
