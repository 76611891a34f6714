import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SERVE_NODE_FLAGS } from '../../src/cli/node-flags.js';
import { ROOT } from './cli.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface ServeProcess {
  server: ChildProcess;
  /** The port it chose (the config should say `listen: 127.0.0.1:0`). */
  port: number;
  /** The tail of what it has logged so far. */
  log: () => string;
  /** Its exit code, once it has exited. */
  exited: Promise<number | null>;
}

/**
 * Starts the real `porthole serve` (from source) as its own process, as an operator would (with
 * the Node flags the shipped launchers give it), and waits for its "listening" log line.
 */
export async function startServeProcess(configFile: string, cwd: string): Promise<ServeProcess> {
  const server = spawn(process.execPath, [...SERVE_NODE_FLAGS, '--import', TSX, path.join(ROOT, 'src/cli/main.ts'), 'serve', '-c', configFile], {
    cwd,
    env: { PATH: process.env.PATH },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Only the tail is kept: under load the log is long.
  let text = '';
  const keep = (chunk: Buffer) => (text = (text + chunk.toString()).slice(-50_000));
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 150; i++) {
    const match = /Server listening at https?:\/\/127\.0\.0\.1:(\d+)/.exec(text);
    if (match) return { server, port: Number(match[1]), log: () => text, exited };
    if (server.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.kill('SIGKILL');
  throw new Error(`porthole serve did not start:\n${text}`);
}
