import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { processesMatching } from '../helpers/processes.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** The port the server chose, read from its "listening" log line. */
async function listeningPort(log: () => string): Promise<number> {
  for (let i = 0; i < 150; i++) {
    const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(log());
    if (match) return Number(match[1]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server did not start:\n${log()}`);
}

describe('porthole serve: SIGTERM with runs in flight', () => {
  it('lets short runs finish, stops long ones after the grace period, records both, exits 0 and leaves no process', async () => {
    const dir = tempDir();
    const file = writeConfig(
      `listen: 127.0.0.1:0
server: { shutdownGrace: 1500ms }
defaults: { killGrace: 500ms }
actions:
  short: { command: [sleep, "0.8137"] }
  long: { command: [sleep, "63.4242"] }
`,
      dir,
    );
    const server = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/main.ts'), 'serve', '-c', file], {
      cwd: dir,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    server.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));

    const port = await listeningPort(() => log);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const start = async (id: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/actions/${id}/runs?wait=false`, { method: 'POST' });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const shortRun = await start('short');
    const longRun = await start('long');
    expect(processesMatching('sleep 63.4242')).toHaveLength(1);

    const stoppedAt = Date.now();
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(8000);
    expect(processesMatching('sleep 63.4242')).toEqual([]);
    expect(processesMatching('sleep 0.8137')).toEqual([]);
    expect(log).toContain('shutting down');

    const db = new Database(path.join(dir, 'data', 'porthole.db'), { readonly: true });
    const outcome = (id: string) => (db.prepare('SELECT status, outcome FROM runs WHERE id = ?').get(id) as { status: string; outcome: string });
    expect(outcome(shortRun)).toEqual({ status: 'finished', outcome: 'succeeded' });
    expect(outcome(longRun)).toEqual({ status: 'finished', outcome: 'cancelled' });
    db.close();
  });
});
