import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Datasource } from '../../src/datasources/datasource.js';
import { Reloader } from '../../src/http/reload.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { request, startServer, type TestServer } from '../helpers/server.js';
import { requireService } from '../helpers/services.js';

const up = await requireService('mariadb');

const yaml = (poolSize: number) => `listen: 127.0.0.1:0
server: { shutdownGrace: 1s }
datasources:
  db: { driver: mysql, host: 127.0.0.1, port: 3306, user: root, database: test, poolSize: ${poolSize} }
actions:
  ping: { query: { datasource: db, sql: SELECT 1 AS one } }
`;

describe.skipIf(!up)('reloading while the service shuts down (MariaDB pools)', () => {
  let s: TestServer | undefined;
  /** Datasources a test opened that must not outlive it, whatever the outcome. */
  const opened: Datasource[] = [];
  afterEach(async () => {
    await s?.close();
    s = undefined;
    await Promise.all(opened.splice(0).map((d) => d.close()));
  });

  async function start(): Promise<{ s: TestServer; reloader: Reloader }> {
    const dir = tempDir();
    s = await startServer(yaml(2), { dir });
    // A real connection in the pool of the config in force.
    expect((await request(s.port, '/api/actions/ping/result')).status).toBe(200);
    writeConfig(yaml(3), dir);
    return { s, reloader: new Reloader(s.service, path.join(dir, 'porthole.yaml'), s.service.fastify.log) };
  }

  it('a reload under way when shutdown begins is waited for; none begins after; closing then closes the pool it put in force', async () => {
    const { s, reloader } = await start();
    const reloading = reloader.reload('before shutdown');
    const stopping = reloader.stop();
    expect(await reloader.reload('after shutdown began')).toBeUndefined();
    await stopping;
    expect((await reloading)?.ok).toBe(true);

    const db = s.service.app.generations.current.datasources.get('db');
    opened.push(db);
    // A request under the new config opens a connection in the new pool.
    expect((await request(s.port, '/readyz')).status).toBe(200);
    await s.service.close();
    await expect(db.ping()).rejects.toThrow(/is closed/);
  });

  it('a reload that finishes after shutdown has closed the pools is not put in force, and its own pool is closed', async () => {
    const { s, reloader } = await start();
    const { generations } = s.service.app;
    const before = generations.current;
    let built: Datasource | undefined;
    const replace = generations.replace.bind(generations);
    vi.spyOn(generations, 'replace').mockImplementation((next, onCloseError) => {
      built = next.datasources.get('db');
      opened.push(built);
      return replace(next, onCloseError);
    });

    await s.service.close();
    expect(await reloader.reload('after shutdown')).toBeUndefined();
    expect(generations.current).toBe(before);
    expect(built).toBeDefined();
    // Had it been left open, this would reach MariaDB and leave a pool behind.
    await expect(built!.ping()).rejects.toThrow(/is closed/);
  });
});
