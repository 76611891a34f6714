import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostgresDatasourceConfig } from '../../src/config/schema.js';
import { PostgresDatasource } from '../../src/datasources/postgres.js';
import { requireService } from '../helpers/services.js';
import { queryFailure as failure, queryRequest as request } from '../helpers/datasource-contract.js';

const ok = await requireService('postgres');

const base: PostgresDatasourceConfig = {
  driver: 'postgres',
  host: '127.0.0.1',
  port: 5432,
  user: 'postgres',
  database: 'test',
  readOnly: true,
  connectTimeout: 3000,
  poolSize: 2,
};

const schema = `porthole_${randomBytes(4).toString('hex')}`;

describe.skipIf(!ok)('postgres datasource', () => {
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  const ro = new PostgresDatasource('reports', base);
  const rw = new PostgresDatasource('reports-rw', { ...base, readOnly: false });

  async function running(marker: string): Promise<number> {
    const result = await admin.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`,
      [`%${marker}%`],
    );
    return Number(result.rows[0]?.n);
  }

  async function waitGone(marker: string): Promise<number> {
    for (let i = 0; i < 20 && (await running(marker)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    return running(marker);
  }

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`CREATE TABLE ${schema}.t (
      id int PRIMARY KEY, name varchar(50), big bigint, price numeric(30,10), day date,
      at timestamp, stamp timestamptz, data bytea, flag boolean, note text, doc jsonb)`);
    await admin.query(`INSERT INTO ${schema}.t VALUES
      (1, 'alice', 9223372036854775807, 12345678901234567890.1234567890, '2024-02-29', '2024-02-29 13:14:15.123456',
       '2024-02-29 13:14:15+02', '\\x00ff10', true, NULL, '{"a": [1, 2]}'),
      (2, 'bob', 42, 1.5, '1999-12-31', '1999-12-31 23:59:59', NULL, NULL, false, 'x', NULL)`);
    await admin.query(`CREATE TABLE ${schema}.n AS SELECT i FROM generate_series(1, 20) AS i`);
  });

  afterAll(async () => {
    await ro.close();
    await rw.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it('returns names, types and exact values', async () => {
    const out = await ro.query(request(`SELECT * FROM ${schema}.t ORDER BY id`));
    expect(out.columns).toEqual([
      { name: 'id', type: 'int4' },
      { name: 'name', type: 'varchar' },
      { name: 'big', type: 'int8' },
      { name: 'price', type: 'numeric' },
      { name: 'day', type: 'date' },
      { name: 'at', type: 'timestamp' },
      { name: 'stamp', type: 'timestamptz' },
      { name: 'data', type: 'bytea' },
      { name: 'flag', type: 'bool' },
      { name: 'note', type: 'text' },
      { name: 'doc', type: 'jsonb' },
    ]);
    expect(out.rows).toEqual([
      [1, 'alice', '9223372036854775807', '12345678901234567890.1234567890', '2024-02-29', '2024-02-29T13:14:15.123456', '2024-02-29T11:14:15Z', 'AP8Q', true, null, '{"a": [1, 2]}'],
      [2, 'bob', 42, 1.5, '1999-12-31', '1999-12-31T23:59:59', null, null, false, 'x', null],
    ]);
    expect(out.truncated).toBe(false);
  });

  it('returns a small COUNT(*) as a number and leaves pg global parsers alone', async () => {
    const out = await ro.query(request(`SELECT COUNT(*) AS n FROM ${schema}.n`));
    expect(out.columns).toEqual([{ name: 'n', type: 'int8' }]);
    expect(out.rows).toEqual([[20]]);
    const plain = await admin.query<{ n: unknown }>('SELECT 5::int8 AS n');
    expect(plain.rows[0]?.n).toBe('5');
  });

  it('binds parameters as data, including repeated names and injection attempts', async () => {
    const sql = `SELECT id FROM ${schema}.t WHERE name = :name OR :name = 'everyone' ORDER BY id`;
    expect((await ro.query(request(sql, { name: 'bob' }))).rows).toEqual([[2]]);
    expect((await ro.query(request(sql, { name: 'everyone' }))).rows).toEqual([[1], [2]]);
    for (const evil of ["' OR 1=1 --", `'; DROP TABLE ${schema}.t; --`]) {
      expect((await ro.query(request(sql, { name: evil }))).rows).toEqual([]);
    }
    expect((await ro.query(request(`SELECT COUNT(*) FROM ${schema}.t`))).rows).toEqual([[2]]);
    const typed = await ro.query(
      request('SELECT :i::int + 1 AS i, :b::boolean AS b, :d::date AS d, :ts::timestamptz AS ts, :n::text AS n', {
        i: 41,
        b: true,
        d: '2024-01-02',
        ts: '2024-01-02 03:04:05',
        n: null,
      }),
    );
    expect(typed.rows).toEqual([[42, true, '2024-01-02', '2024-01-02T03:04:05Z', null]]);
  });

  it('rejects writes on a read-only datasource and changes nothing', async () => {
    const insert = await failure(ro.query(request(`INSERT INTO ${schema}.n VALUES (:i)`, { i: 99 })));
    expect(insert.code).toBe('READ_ONLY');
    expect(insert.message).toContain('"reports"');
    expect(insert.message).toContain('readOnly: false');
    expect((await failure(ro.query(request(`CREATE TABLE ${schema}.nope (i int)`)))).code).toBe('READ_ONLY');
    expect((await ro.query(request(`SELECT COUNT(*) FROM ${schema}.n`))).rows).toEqual([[20]]);
  });

  it('allows writes when readOnly is false', async () => {
    await rw.query(request(`CREATE TABLE ${schema}.w (i int)`));
    await rw.query(request(`INSERT INTO ${schema}.w VALUES (:i)`, { i: 7 }));
    expect((await ro.query(request(`SELECT i FROM ${schema}.w`))).rows).toEqual([[7]]);
  });

  it('caps rows and flags truncation', async () => {
    const capped = await ro.query(request(`SELECT i FROM ${schema}.n ORDER BY i`, {}, { maxRows: 5 }));
    expect(capped.rows).toEqual([[1], [2], [3], [4], [5]]);
    expect(capped.truncated).toBe(true);
    const exact = await ro.query(request(`SELECT i FROM ${schema}.n WHERE i <= 5 ORDER BY i`, {}, { maxRows: 5 }));
    expect(exact.rows).toHaveLength(5);
    expect(exact.truncated).toBe(false);
    // A cursor stops early: an endless series still returns at once.
    const endless = await ro.query(request('SELECT generate_series(1, 1000000000000) AS i', {}, { maxRows: 3 }));
    expect(endless.rows).toEqual([[1], [2], [3]]);
    expect(endless.truncated).toBe(true);
  });

  it('times out a slow statement on the server', async () => {
    const marker = `timeout_${schema}`;
    const started = Date.now();
    const error = await failure(ro.query(request(`SELECT pg_sleep(5) /* ${marker} */`, {}, { timeoutMs: 1000 })));
    expect(error.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2500);
    expect(await waitGone(marker)).toBe(0);
  });

  it('cancels on abort and stops the statement on the server', async () => {
    const marker = `abort_${schema}`;
    const controller = new AbortController();
    const pending = ro.query(request(`SELECT pg_sleep(20) /* ${marker} */`, {}, { timeoutMs: 30_000, signal: controller.signal }));
    for (let i = 0; i < 40 && (await running(marker)) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await running(marker)).toBe(1);
    controller.abort();
    const error = await failure(pending);
    expect(error.code).toBe('CANCELLED');
    expect(await waitGone(marker)).toBe(0);
    expect((await ro.query(request('SELECT 2 AS two'))).rows).toEqual([[2]]);
  });

  it('reports bad SQL as QUERY_FAILED', async () => {
    const error = await failure(ro.query(request('SELEC nonsense')));
    expect(error.code).toBe('QUERY_FAILED');
    expect(error.message).toContain('"reports"');
    expect(error.message).toMatch(/syntax/i);
  });

  it('reports an unreachable server without leaking the password', async () => {
    const password = 'Sekr1t-Pa55word-xyz';
    const down = new PostgresDatasource('offline', { ...base, port: 1, password });
    try {
      const error = await failure(down.query(request('SELECT 1')));
      expect(error.code).toBe('DATASOURCE_UNAVAILABLE');
      expect(error.message).toContain('"offline"');
      expect(error.message).not.toContain(password);
      expect((await failure(down.ping())).code).toBe('DATASOURCE_UNAVAILABLE');
    } finally {
      await down.close();
    }
  });

  it('recovers when the server drops a pooled connection', async () => {
    const solo = new PostgresDatasource('solo', { ...base, poolSize: 1 });
    try {
      const first = (await solo.query(request('SELECT pg_backend_pid()'))).rows[0]?.[0];
      await admin.query('SELECT pg_terminate_backend($1)', [first]);
      const second = (await solo.query(request('SELECT pg_backend_pid()'))).rows[0]?.[0];
      expect(second).not.toBe(first);
      await solo.ping();
    } finally {
      await solo.close();
    }
  });
});
