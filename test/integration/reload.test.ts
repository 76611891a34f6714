import { renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Reloader } from '../../src/http/reload.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { startServeProcess, type ServeProcess } from '../helpers/serve-process.js';
import { request, startServer, type TestServer } from '../helpers/server.js';

/** The parts of JSON answers these tests look at. */
interface Answer {
  stdout?: string;
  rows?: unknown[][];
  reload?: { ok: boolean; trigger: string; error?: string; needsRestart?: string[] };
}
const json = (res: { body: string }) => JSON.parse(res.body) as Answer;

/** Polls until `check` passes, or fails with its last error after 4 s. */
const eventually = (check: () => Promise<void> | void) => vi.waitFor(check, { timeout: 4000, interval: 100 });

const started: ServeProcess[] = [];
afterAll(async () => {
  for (const p of started) {
    p.server.kill('SIGTERM');
    await p.exited;
  }
});

async function serve(yaml: string, dir = tempDir()): Promise<ServeProcess & { dir: string; file: string }> {
  const file = writeConfig(yaml, dir);
  const p = await startServeProcess(file, dir);
  started.push(p);
  return { ...p, dir, file };
}

const get = (port: number, url: string, headers: Record<string, string> = {}) => request(port, url, { headers });

const V1 = `listen: 127.0.0.1:0
actions:
  old-action: { command: [echo, old], safe: true, path: /before/ }
  kept: { command: [echo, kept-v1], safe: true }
`;
const V2 = `listen: 127.0.0.1:0
actions:
  new-action: { command: [echo, new], safe: true }
  kept: { command: [echo, kept-v2], safe: true, path: /after/ }
`;

describe('porthole serve: reloading the config', () => {
  it('on SIGHUP: a new action appears, a removed one is gone, an action path moves', async () => {
    const p = await serve(V1);
    expect((await get(p.port, '/before/')).body).toBe('old\n');
    expect((await get(p.port, '/api/actions/kept/result')).status).toBe(200);

    writeConfig(V2, p.dir);
    p.server.kill('SIGHUP');
    await eventually(async () => expect((await get(p.port, '/api/actions/new-action/result')).status).toBe(200));
    expect((await get(p.port, '/api/actions/old-action/result')).status).toBe(404);
    expect((await get(p.port, '/before/')).status).toBe(404);
    expect((await get(p.port, '/before.json')).status).toBe(404);
    expect((await get(p.port, '/after/')).body).toBe('kept-v2\n');
    expect(json(await get(p.port, '/after.json')).stdout).toBe('kept-v2\n');
    const ready = json(await get(p.port, '/readyz'));
    expect(ready.reload).toMatchObject({ ok: true, trigger: 'SIGHUP', needsRestart: [] });
    expect(p.log()).toContain('config reloaded');
  });

  it('on SIGHUP with an invalid file: the old config keeps serving, and the error is logged and on /readyz', async () => {
    const p = await serve(V1);
    writeFileSync(p.file, `${V1}  broken: { command: [echo], typo: 1 }\n`);
    p.server.kill('SIGHUP');
    await eventually(async () => expect(json(await get(p.port, '/readyz')).reload?.ok).toBe(false));
    const ready = await get(p.port, '/readyz');
    // Still ready: the last good config is serving (see health.ts).
    expect(ready.status).toBe(200);
    const { reload } = json(ready);
    expect(reload?.error).toContain(`${p.file}:5:`);
    expect(reload?.error).toContain('actions.broken');
    expect(reload?.error).toContain('typo');
    expect(p.log()).toContain('config reload failed');
    expect((await get(p.port, '/before/')).body).toBe('old\n');
  });

  it('keeps settings that need a restart, and says so', async () => {
    const p = await serve(V1);
    writeFileSync(p.file, V1.replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1:1\nserver: { bodyLimit: 1MiB }'));
    p.server.kill('SIGHUP');
    await eventually(async () => expect(json(await get(p.port, '/readyz')).reload?.ok).toBe(true));
    const { reload } = json(await get(p.port, '/readyz'));
    expect(reload?.needsRestart?.sort()).toEqual(['listen', 'server.bodyLimit']);
    expect(p.log()).toContain('only a restart applies it');
  });

  it('picks up a file written in place, one renamed over it, and a symlink swapped, without a signal', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'one.yaml'), V1);
    symlinkSync('one.yaml', path.join(dir, 'porthole.yaml'));
    const p = await startServeProcess(path.join(dir, 'porthole.yaml'), dir);
    started.push(p);
    const body = async (url: string) => (await get(p.port, url)).body;

    // Written in place, through the symlink.
    writeFileSync(path.join(dir, 'one.yaml'), V1.replace('echo, kept-v1', 'echo, in-place'));
    await eventually(async () => expect(await body('/api/actions/kept/result.txt')).toBe('in-place\n'));

    // An editor's save: a new file renamed over the target.
    writeFileSync(path.join(dir, 'tmp.yaml'), V1.replace('echo, kept-v1', 'echo, renamed'));
    renameSync(path.join(dir, 'tmp.yaml'), path.join(dir, 'one.yaml'));
    await eventually(async () => expect(await body('/api/actions/kept/result.txt')).toBe('renamed\n'));

    // A Kubernetes-style swap: the config path's symlink now points at another file.
    writeFileSync(path.join(dir, 'two.yaml'), V2);
    symlinkSync('two.yaml', path.join(dir, 'next-link'));
    renameSync(path.join(dir, 'next-link'), path.join(dir, 'porthole.yaml'));
    await eventually(async () => expect(await body('/api/actions/kept/result.txt')).toBe('kept-v2\n'));
    expect(p.log()).toContain('"trigger":"file changed"');
  });

  it('lets a run in flight finish under the config it started with', async () => {
    const yaml = (word: string) => `listen: 127.0.0.1:0
actions:
  slow: { shell: "sleep 1; echo ${word}" }
`;
    const p = await serve(yaml('old'));
    const inFlight = request(p.port, '/api/actions/slow/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    writeConfig(yaml('new'), p.dir);
    p.server.kill('SIGHUP');
    await eventually(async () => expect(json(await get(p.port, '/readyz')).reload?.ok).toBe(true));
    const after = await request(p.port, '/api/actions/slow/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json(after).stdout).toBe('new\n');
    const before = await inFlight;
    expect(before.status).toBe(200);
    expect(json(before).stdout).toBe('old\n');
  });

  it('applies a changed allowlist to the next request', async () => {
    const yaml = (allow: string) => `listen: 127.0.0.1:0
network: { allow: [${allow}] }
actions:
  hello: { command: [echo, hi], safe: true }
`;
    const p = await serve(yaml('127.0.0.1'));
    const from = (localAddress: string) => request(p.port, '/api/actions/hello/result', { localAddress });
    expect((await from('127.0.0.1')).status).toBe(200);
    expect((await from('127.0.0.2')).status).toBe(404);
    writeConfig(yaml('127.0.0.2'), p.dir);
    p.server.kill('SIGHUP');
    await eventually(async () => expect((await from('127.0.0.2')).status).toBe(200));
    expect((await from('127.0.0.1')).status).toBe(404);
  });

  it('points a SQLite datasource at another database: new runs see its rows', async () => {
    const dir = tempDir();
    for (const [name, rows] of [['a', ['from-a']], ['b', ['from-b', 'also-b']]] as const) {
      const db = new Database(path.join(dir, `${name}.sqlite`));
      db.exec('CREATE TABLE t (v TEXT)');
      for (const row of rows) db.prepare('INSERT INTO t VALUES (?)').run(row);
      db.close();
    }
    const yaml = (file: string) => `listen: 127.0.0.1:0
datasources:
  db: { driver: sqlite, path: ${file} }
actions:
  rows: { query: { datasource: db, sql: SELECT v FROM t ORDER BY v } }
`;
    const p = await serve(yaml('a.sqlite'), dir);
    const values = async () => json(await get(p.port, '/api/actions/rows/result')).rows?.map((r) => r[0]);
    expect(await values()).toEqual(['from-a']);
    writeConfig(yaml('b.sqlite'), dir);
    p.server.kill('SIGHUP');
    await eventually(async () => expect(await values()).toEqual(['also-b', 'from-b']));
  });
});

describe('reloading in process: replaced datasources', () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  it('closes the old datasources only after the runs that started under them have finished', async () => {
    const dir = tempDir();
    const yaml = (word: string) => `listen: 127.0.0.1:0
datasources:
  db: { driver: sqlite, path: ${word}.sqlite }
actions:
  slow: { shell: "sleep 1; echo ${word}" }
  ping: { query: { datasource: db, sql: SELECT 1 AS one } }
`;
    for (const word of ['old', 'new']) new Database(path.join(dir, `${word}.sqlite`)).close();
    s = await startServer(yaml('old'), { dir });
    const { app } = s.service;
    const old = app.generations.current;
    expect((await request(s.port, '/api/actions/ping/result')).status).toBe(200);
    const closed = vi.spyOn(old.datasources, 'closeAll');

    const inFlight = request(s.port, '/api/actions/slow/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    writeConfig(yaml('new'), dir);
    const status = await new Reloader(s.service, path.join(dir, 'porthole.yaml'), s.service.fastify.log).reload('test');
    expect(status?.ok).toBe(true);
    expect(app.generations.current).not.toBe(old);
    expect((await request(s.port, '/api/actions/ping/result')).status).toBe(200);
    expect(closed).not.toHaveBeenCalled();

    expect(json(await inFlight).stdout).toBe('old\n');
    await eventually(() => expect(closed).toHaveBeenCalledTimes(1));
  });

  it('keeps the old config when the new file refers to a secret that is not there', async () => {
    const dir = tempDir();
    s = await startServer('actions:\n  hello: { command: [echo, hi], safe: true }\n', { dir });
    writeConfig('actions:\n  hello: { command: [echo, hi], safe: true }\n  nope: { command: [echo], cwd: "${env:MISSING_VAR}" }\n', dir);
    const status = await new Reloader(s.service, path.join(dir, 'porthole.yaml'), s.service.fastify.log, {}).reload('test');
    expect(status).toMatchObject({ ok: false });
    expect(status?.ok === false && status.error).toContain('MISSING_VAR');
    expect(s.service.app.reload).toBe(status);
    expect((await request(s.port, '/api/actions/hello/result')).status).toBe(200);
  });
});
