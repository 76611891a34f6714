import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { tempDir, writeConfig } from '../helpers/config.js';
import { processesMatching, waitForProcess } from '../helpers/processes.js';
import { startServeProcess } from '../helpers/serve-process.js';


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
    const { server, port, log, exited } = await startServeProcess(file, dir);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const start = async (id: string) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/actions/${id}/runs?wait=false`, { method: 'POST' });
      expect(res.status).toBe(202);
      return ((await res.json()) as { id: string }).id;
    };
    const shortRun = await start('short');
    const longRun = await start('long');
    // The run is accepted before its process starts; on a busy machine that can take a moment.
    expect(await waitForProcess('sleep 63.4242')).toHaveLength(1);

    const stoppedAt = Date.now();
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(8000);
    expect(processesMatching('sleep 63.4242')).toEqual([]);
    expect(processesMatching('sleep 0.8137')).toEqual([]);
    expect(log()).toContain('shutting down');

    const db = new Database(path.join(dir, 'data', 'porthole.db'), { readonly: true });
    const outcome = (id: string) => (db.prepare('SELECT status, outcome FROM runs WHERE id = ?').get(id) as { status: string; outcome: string });
    expect(outcome(shortRun)).toEqual({ status: 'finished', outcome: 'succeeded' });
    expect(outcome(longRun)).toEqual({ status: 'finished', outcome: 'cancelled' });
    db.close();
  });
});
