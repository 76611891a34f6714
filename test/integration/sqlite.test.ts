import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteDatasourceConfig } from '../../src/config/schema.js';
import { PortholeError } from '../../src/core/errors.js';
import { Datasources } from '../../src/datasources/create.js';
import type { QueryRequest } from '../../src/datasources/datasource.js';
import { SqliteDatasource } from '../../src/datasources/sqlite.js';
import { queryFailure as failure, queryRequest } from '../helpers/datasource-contract.js';

const request = (sql: string, params: QueryRequest['params'] = {}, extra: Partial<QueryRequest> = {}) => queryRequest(sql, params, extra, 10_000);

const INIT = `
CREATE TABLE t (id INTEGER PRIMARY KEY, name VARCHAR(50), big INTEGER, price DECIMAL(10,2), data BLOB, note TEXT);
INSERT INTO t VALUES (1, 'alice', 9223372036854775807, 1.5, X'00FF10', NULL), (2, 'bob', 42, 2.25, NULL, 'x');
CREATE TABLE n (i INTEGER);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20) INSERT INTO n SELECT i FROM c;
`;

const SLOW = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c';

describe('sqlite datasource', () => {
  let dir: string;
  let ro: SqliteDatasource;
  let rw: SqliteDatasource;
  const base: SqliteDatasourceConfig = { driver: 'sqlite', path: 'data/app.db', readOnly: true, initScript: 'init.sql' };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'porthole-sqlite-'));
    fs.mkdirSync(path.join(dir, 'data'));
    fs.writeFileSync(path.join(dir, 'init.sql'), INIT);
    ro = new SqliteDatasource('local', base, dir);
    rw = new SqliteDatasource('local-rw', { ...base, readOnly: false }, dir);
  });

  afterAll(async () => {
    await ro.close();
    await rw.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates the database from the init script, once, relative to baseDir', async () => {
    const out = await ro.query(request('SELECT COUNT(*) AS n FROM n'));
    expect(out.rows).toEqual([[20]]);
    expect(fs.existsSync(path.join(dir, 'data/app.db'))).toBe(true);
    expect(fs.readdirSync(path.join(dir, 'data'))).toEqual(['app.db']);
  });

  it('returns names, declared types and exact values', async () => {
    const out = await ro.query(request('SELECT id, name, big, price, data, note, 1.5 AS r, 7 AS i, NULL AS z, :s AS s FROM t ORDER BY id', { s: 'p' }));
    expect(out.columns).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'name', type: 'varchar' },
      { name: 'big', type: 'integer' },
      { name: 'price', type: 'decimal' },
      { name: 'data', type: 'blob' },
      { name: 'note', type: 'text' },
      { name: 'r', type: 'real' },
      { name: 'i', type: 'integer' },
      { name: 'z', type: 'null' },
      { name: 's', type: 'text' },
    ]);
    expect(out.rows).toEqual([
      [1, 'alice', '9223372036854775807', 1.5, 'AP8Q', null, 1.5, 7, null, 'p'],
      [2, 'bob', 42, 2.25, null, 'x', 1.5, 7, null, 'p'],
    ]);
  });

  it('binds parameters as data, including repeated names, booleans and injection attempts', async () => {
    const sql = "SELECT id FROM t WHERE name = :name OR :name = 'everyone' ORDER BY id";
    expect((await ro.query(request(sql, { name: 'bob' }))).rows).toEqual([[2]]);
    expect((await ro.query(request(sql, { name: 'everyone' }))).rows).toEqual([[1], [2]]);
    for (const evil of ["' OR 1=1 --", "'; DROP TABLE t; --"]) {
      expect((await ro.query(request(sql, { name: evil }))).rows).toEqual([]);
    }
    expect((await ro.query(request('SELECT COUNT(*) FROM t'))).rows).toEqual([[2]]);
    const typed = await ro.query(request('SELECT :b AS b, :f AS f, :r AS r FROM n ORDER BY i LIMIT :n', { b: true, f: false, r: 0.5, n: 1 }));
    expect(typed.columns.map((c) => c.type)).toEqual(['integer', 'integer', 'real']);
    expect(typed.rows).toEqual([[1, 0, 0.5]]);
  });

  it('rejects writes on a read-only handle and changes nothing', async () => {
    const error = await failure(ro.query(request('INSERT INTO n VALUES (:i)', { i: 99 })));
    expect(error.code).toBe('READ_ONLY');
    expect(error.message).toContain('"local"');
    expect(error.message).toContain('readOnly: false');
    expect((await failure(ro.query(request('CREATE TABLE x (i INTEGER)')))).code).toBe('READ_ONLY');
    expect((await ro.query(request('SELECT COUNT(*) FROM n'))).rows).toEqual([[20]]);
  });

  it('allows writes when readOnly is false', async () => {
    await rw.query(request('CREATE TABLE w (i INTEGER)'));
    await rw.query(request('INSERT INTO w VALUES (:i)', { i: 7 }));
    expect((await ro.query(request('SELECT i FROM w'))).rows).toEqual([[7]]);
  });

  it('caps rows and flags truncation', async () => {
    const capped = await ro.query(request('SELECT i FROM n ORDER BY i', {}, { maxRows: 5 }));
    expect(capped.rows).toEqual([[1], [2], [3], [4], [5]]);
    expect(capped.truncated).toBe(true);
    const exact = await ro.query(request('SELECT i FROM n WHERE i <= 5', {}, { maxRows: 5 }));
    expect(exact.truncated).toBe(false);
    const endless = await ro.query(request('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c', {}, { maxRows: 3 }));
    expect(endless.rows).toEqual([[1], [2], [3]]);
    expect(endless.truncated).toBe(true);
  });

  it('stops a long statement on timeout without blocking the event loop, then works again', async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    const started = Date.now();
    try {
      const error = await failure(ro.query(request(SLOW, {}, { timeoutMs: 1000 })));
      expect(error.code).toBe('TIMEOUT');
    } finally {
      clearInterval(ticker);
    }
    expect(Date.now() - started).toBeLessThan(2500);
    expect(ticks).toBeGreaterThan(25);
    expect((await ro.query(request('SELECT COUNT(*) FROM t'))).rows).toEqual([[2]]);
  });

  it('cancels on abort', async () => {
    const controller = new AbortController();
    const pending = ro.query(request(SLOW, {}, { timeoutMs: 30_000, signal: controller.signal }));
    setTimeout(() => controller.abort(), 200);
    expect((await failure(pending)).code).toBe('CANCELLED');
    expect((await ro.query(request('SELECT 3'))).rows).toEqual([[3]]);
  });

  it('reports bad SQL as QUERY_FAILED', async () => {
    const error = await failure(ro.query(request('SELEC nonsense')));
    expect(error.code).toBe('QUERY_FAILED');
    expect(error.message).toContain('"local"');
  });

  it('reports a missing file without an init script as unavailable', async () => {
    const missing = new SqliteDatasource('missing', { driver: 'sqlite', path: 'nope.db', readOnly: true }, dir);
    try {
      expect((await failure(missing.ping())).code).toBe('DATASOURCE_UNAVAILABLE');
      expect(fs.existsSync(path.join(dir, 'nope.db'))).toBe(false);
    } finally {
      await missing.close();
    }
  });

  it('Datasources creates datasources lazily and rejects unknown names', async () => {
    const all = new Datasources({ local: base }, dir);
    const local = all.get('local');
    expect(all.get('local')).toBe(local);
    expect(local.driver).toBe('sqlite');
    expect(() => all.get('other')).toThrow(PortholeError);
    await local.ping();
    await all.closeAll();
  });
});
