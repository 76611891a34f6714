/**
 * Faults in the processes Porthole runs: a command that ignores SIGTERM, a command that
 * forks many children, and SIGTERM to `porthole serve` while 100 runs are in flight.
 * Expected: clear outcomes, no orphan process, no lost history record. About 15 s.
 */
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, writeConfig } from '../helpers/config.js';
import { startServeProcess } from '../helpers/serve-process.js';
import { processesMatching, waitForNoProcess } from '../helpers/processes.js';
import { request, startServer, type Response, type TestServer } from '../helpers/server.js';


/** A `sleep` duration no other process on the machine uses: it marks this test's processes in ps. */
const marker = (whole: number) => `${whole}.${randomInt(100_000, 999_999)}`;

interface TextBody {
  outcome: string;
  stdout: string;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  error?: { code: string; message: string };
}

const post = (port: number, action: string) => request(port, `/api/actions/${action}/runs`, { method: 'POST', headers: { accept: 'application/json' } });

describe('commands that resist being stopped or leave children behind', () => {
  const ignoring = marker(61);
  const nodeIgnoring = marker(62);
  const forkExit = marker(63);
  const forkWait = marker(64);
  const dir = tempDir();
  let server: TestServer;

  beforeAll(async () => {
    // A node program that ignores SIGTERM and starts a child that ignores it too.
    const script = path.join(dir, 'stubborn.mjs');
    writeFileSync(
      script,
      `import { spawn } from 'node:child_process';
process.on('SIGTERM', () => console.log('parent ignored SIGTERM'));
const child = 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000); // ' + process.argv[2];
spawn(process.execPath, ['-e', child], { stdio: 'inherit' });
setInterval(() => {}, 1000);
console.log('started');
`,
    );
    server = await startServer(
      `
defaults: { killGrace: 1s }
actions:
  ignores-term:
    shell: "trap '' TERM; sleep ${ignoring} & sleep ${ignoring}; wait"
    timeout: 1s
  node-ignores-term:
    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}, "${nodeIgnoring}"]
    timeout: 1s
  forks-and-exits:
    shell: "for i in $(seq 50); do sleep ${forkExit} & done; echo forked; exit 0"
    timeout: 20s
  forks-and-waits:
    shell: "for i in $(seq 50); do sleep ${forkWait} & done; echo forked; wait"
    timeout: 1500ms
`,
      { dir },
    );
  });

  afterAll(async () => {
    await server?.close();
  });

  const check = (res: Response) => JSON.parse(res.body) as TextBody;

  it('a shell script whose children also ignore SIGTERM is killed with SIGKILL after killGrace, leaving no process', async () => {
    const started = Date.now();
    const pending = post(server.port, 'ignores-term');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(processesMatching(`sleep ${ignoring}`).length).toBeGreaterThanOrEqual(2);
    const res = await pending;
    const elapsed = Date.now() - started;
    expect(res.status, res.body).toBe(504);
    const body = check(res);
    expect(body).toMatchObject({ outcome: 'timed-out', error: { code: 'TIMEOUT' }, signal: 'SIGKILL', exitCode: null });
    // 1 s timeout + 1 s grace: SIGTERM alone did not stop it.
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(6000);
    expect(await waitForNoProcess(ignoring, 3000)).toEqual([]);
  });

  it('a node program and its child that ignore SIGTERM are killed after killGrace, leaving no process', async () => {
    const started = Date.now();
    const res = await post(server.port, 'node-ignores-term');
    const elapsed = Date.now() - started;
    expect(res.status, res.body).toBe(504);
    const body = check(res);
    expect(body).toMatchObject({ outcome: 'timed-out', signal: 'SIGKILL' });
    expect(body.stdout).toContain('started');
    expect(body.stdout).toContain('parent ignored SIGTERM');
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(6000);
    expect(await waitForNoProcess(nodeIgnoring, 3000)).toEqual([]);
  });

  it('a command that forks 50 background children and exits: its run succeeds at once and all the children are gone', async () => {
    const started = Date.now();
    const res = await post(server.port, 'forks-and-exits');
    expect(res.status, res.body).toBe(200);
    expect(check(res)).toMatchObject({ outcome: 'succeeded', exitCode: 0, stdout: 'forked\n' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await waitForNoProcess(forkExit, 3000)).toEqual([]);
  });

  it('a command that forks 50 children and waits: timed out, then all of them are gone', async () => {
    const pending = post(server.port, 'forks-and-waits');
    await new Promise((resolve) => setTimeout(resolve, 700));
    // The shell's own command line mentions the marker too; count the sleeps.
    expect(processesMatching(`sleep ${forkWait}`).filter((line) => /^\s*\d+ sleep /.test(line))).toHaveLength(50);
    const res = await pending;
    expect(res.status, res.body).toBe(504);
    expect(check(res)).toMatchObject({ outcome: 'timed-out', stdout: 'forked\n' });
    expect(await waitForNoProcess(forkWait, 3000)).toEqual([]);
  });
});


describe('porthole serve: SIGTERM under load', () => {
  it('with 100 one-second runs in flight: exits 0, leaves no process, and every run answered 200 is recorded as finished', { timeout: 60_000 }, async () => {
    const work = marker(1);
    const dir = tempDir();
    const file = writeConfig(
      `listen: 127.0.0.1:0
server: { shutdownGrace: 10s }
defaults: { killGrace: 500ms }
limits: { concurrency: 128, queue: 128 }
actions:
  second: { command: [sleep, "${work}"], concurrency: 128, timeout: 20s }
`,
      dir,
    );
    const { server, port, log, exited } = await startServeProcess(file, dir);
    try {
      type Outcome = { res: Response } | { error: string };
      const fire = (): Promise<Outcome> =>
        post(port, 'second').then(
          (res) => ({ res }),
          (error: unknown) => ({ error: (error as NodeJS.ErrnoException).code ?? String(error) }),
        );
      const firstWave = Array.from({ length: 100 }, fire);
      // Midway through the one-second runs.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const runningAtSignal = processesMatching(`sleep ${work}`).length;
      server.kill('SIGTERM');
      // Requests after the signal must be refused (503 or a closed port), never lost.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const lateWave = Array.from({ length: 10 }, fire);
      const outcomes = await Promise.all([...firstWave, ...lateWave]);

      expect(await exited, log().slice(-3000)).toBe(0);
      expect(await waitForNoProcess(`sleep ${work}`, 3000)).toEqual([]);

      const ok = outcomes.flatMap((o) => ('res' in o && o.res.status === 200 ? [o.res] : []));
      const refused = outcomes.filter((o) => 'res' in o && o.res.status !== 200) as { res: Response }[];
      const failed = outcomes.filter((o) => 'error' in o) as { error: string }[];
      const tally = {
        runningAtSignal,
        ok: ok.length,
        statuses: refused.map((o) => o.res.status),
        connectionErrors: failed.map((o) => o.error),
      };
      console.log('SIGTERM under load:', JSON.stringify(tally));
      expect(runningAtSignal, 'runs were in flight when SIGTERM came').toBeGreaterThan(0);
      expect(ok.length).toBeGreaterThan(0);
      // Anything not answered 200 was refused: a 503 while closing, or a connection the server
      // never took up (reset in the accept queue or idle when it closed). A refused request ran nothing.
      for (const { res } of refused) expect(res.status, res.body).toBe(503);
      for (const { error } of failed) expect(['ECONNRESET', 'ECONNREFUSED', 'EPIPE']).toContain(error);

      const db = new Database(path.join(dir, 'data', 'porthole.db'), { readonly: true });
      try {
        const row = db.prepare('SELECT status, outcome FROM runs WHERE id = ?');
        for (const res of ok) {
          const id = res.headers['x-porthole-run'] as string;
          expect(row.get(id), `run ${id}`).toEqual({ status: 'finished', outcome: 'succeeded' });
        }
        // No run was left half-recorded by the shutdown, and no run happened whose client was not told.
        expect(db.prepare("SELECT COUNT(*) AS n FROM runs WHERE status <> 'finished'").get()).toEqual({ n: 0 });
        expect(db.prepare('SELECT COUNT(*) AS n FROM runs').get()).toEqual({ n: ok.length });
      } finally {
        db.close();
      }
    } finally {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    }
  });
});
