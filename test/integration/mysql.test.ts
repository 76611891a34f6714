import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MysqlDatasourceConfig } from '../../src/config/schema.js';
import { MysqlDatasource } from '../../src/datasources/mysql.js';
import { requireService } from '../helpers/services.js';
import { queryFailure as failure, queryRequest as request } from '../helpers/datasource-contract.js';

const ok = await requireService('mariadb');

const base: MysqlDatasourceConfig = {
  driver: 'mysql',
  host: '127.0.0.1',
  port: 3306,
  user: 'root',
  database: 'test',
  readOnly: true,
  connectTimeout: 3000,
  poolSize: 2,
};

const suffix = randomBytes(4).toString('hex');
const table = (name: string) => `porthole_${name}_${suffix}`;

describe.skipIf(!ok)('mysql datasource (MariaDB)', () => {
  let admin: mysql.Connection;
  const ro = new MysqlDatasource('tasks', base);
  const rw = new MysqlDatasource('tasks-rw', { ...base, readOnly: false });

  async function running(marker: string): Promise<number> {
    const [rows] = await admin.query<mysql.RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO NOT LIKE '%PROCESSLIST%'`,
      [`%${marker}%`],
    );
    return Number(rows[0]?.n);
  }

  /** Gives the server a moment to unwind a killed statement. */
  async function waitGone(marker: string): Promise<number> {
    // Up to 5 s: the server notices a dropped client, or gets the KILL, a little later under load.
    for (let i = 0; i < 100 && (await running(marker)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    return running(marker);
  }

  beforeAll(async () => {
    admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
    await admin.query(`CREATE TABLE ${table('t')} (
      id INT PRIMARY KEY, name VARCHAR(50), big BIGINT, price DECIMAL(30,10), day DATE,
      at DATETIME(6), stamp TIMESTAMP NULL, data VARBINARY(16), flag TINYINT(1), note TEXT)`);
    await admin.query(`INSERT INTO ${table('t')} VALUES
      (1, 'alice', 9223372036854775807, 12345678901234567890.1234567890, '2024-02-29', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15', X'00FF10', 1, NULL),
      (2, 'bob', 42, 1.5, '1999-12-31', '1999-12-31 23:59:59', NULL, NULL, 0, 'x')`);
    await admin.query(`CREATE TABLE ${table('n')} (i INT PRIMARY KEY)`);
    await admin.query(`INSERT INTO ${table('n')} SELECT seq FROM seq_1_to_20`);
  });

  afterAll(async () => {
    await ro.close();
    await rw.close();
    if (admin) {
      await admin.query(`DROP TABLE IF EXISTS ${table('t')}, ${table('n')}, ${table('w')}`);
      await admin.end();
    }
  });

  it('returns names, types and exact values', async () => {
    const out = await ro.query(request(`SELECT id, name, big, price, day, at, stamp, data, flag, note FROM ${table('t')} ORDER BY id`));
    expect(out.columns).toEqual([
      { name: 'id', type: 'int' },
      { name: 'name', type: 'varchar' },
      { name: 'big', type: 'bigint' },
      { name: 'price', type: 'decimal' },
      { name: 'day', type: 'date' },
      { name: 'at', type: 'datetime' },
      { name: 'stamp', type: 'timestamp' },
      { name: 'data', type: 'varbinary' },
      { name: 'flag', type: 'tinyint' },
      { name: 'note', type: 'text' },
    ]);
    expect(out.rows).toEqual([
      [1, 'alice', '9223372036854775807', '12345678901234567890.1234567890', '2024-02-29', '2024-02-29T13:14:15.123456', '2024-02-29T13:14:15Z', 'AP8Q', 1, null],
      [2, 'bob', 42, 1.5, '1999-12-31', '1999-12-31T23:59:59', null, null, 0, 'x'],
    ]);
    expect(out.truncated).toBe(false);
  });

  it('returns a small COUNT(*) as a number', async () => {
    const out = await ro.query(request(`SELECT COUNT(*) AS n FROM ${table('n')}`));
    expect(out.columns).toEqual([{ name: 'n', type: 'bigint' }]);
    expect(out.rows).toEqual([[20]]);
  });

  it('binds parameters as data, including repeated names and injection attempts', async () => {
    const sql = `SELECT id FROM ${table('t')} WHERE name = :name OR :name = 'everyone' ORDER BY id`;
    expect((await ro.query(request(sql, { name: 'bob' }))).rows).toEqual([[2]]);
    expect((await ro.query(request(sql, { name: 'everyone' }))).rows).toEqual([[1], [2]]);
    for (const evil of ["' OR 1=1 --", `'; DROP TABLE ${table('t')}; --`]) {
      expect((await ro.query(request(sql, { name: evil }))).rows).toEqual([]);
    }
    expect((await ro.query(request(`SELECT COUNT(*) FROM ${table('t')}`))).rows).toEqual([[2]]);
    const typed = await ro.query(request('SELECT :i + 1 AS i, :f AS f, :b AS b, :n AS n', { i: 41, f: 0.5, b: true, n: null }));
    expect(typed.rows).toEqual([[42, 0.5, 1, null]]);
    const limited = await ro.query(request(`SELECT i FROM ${table('n')} ORDER BY i LIMIT :n`, { n: 2 }));
    expect(limited.rows).toEqual([[1], [2]]);
  });

  it('rejects writes on a read-only datasource and changes nothing', async () => {
    const insert = await failure(ro.query(request(`INSERT INTO ${table('n')} VALUES (:i)`, { i: 99 })));
    expect(insert.code).toBe('READ_ONLY');
    expect(insert.message).toContain('"tasks"');
    expect(insert.message).toContain('readOnly: false');
    expect((await failure(ro.query(request(`UPDATE ${table('t')} SET name = 'x'`)))).code).toBe('READ_ONLY');
    // DDL commits any open transaction implicitly; the read-only session must refuse it anyway.
    for (const ddl of [`DROP TABLE ${table('n')}`, `TRUNCATE TABLE ${table('n')}`, `ALTER TABLE ${table('n')} ADD COLUMN extra INT`, `CREATE TABLE ${table('w')} (i INT)`]) {
      expect((await failure(ro.query(request(ddl)))).code, ddl).toBe('READ_ONLY');
    }
    expect((await ro.query(request(`SELECT COUNT(*) FROM ${table('n')}`))).rows).toEqual([[20]]);
    expect((await ro.query(request(`SELECT COUNT(*) FROM ${table('t')} WHERE name = 'x'`))).rows).toEqual([[0]]);
  });

  it('allows writes when readOnly is false', async () => {
    await rw.query(request(`CREATE TABLE ${table('w')} (i INT)`));
    await rw.query(request(`INSERT INTO ${table('w')} VALUES (:i)`, { i: 7 }));
    expect((await ro.query(request(`SELECT i FROM ${table('w')}`))).rows).toEqual([[7]]);
  });

  it('caps rows and flags truncation', async () => {
    const capped = await ro.query(request(`SELECT i FROM ${table('n')} ORDER BY i`, {}, { maxRows: 5 }));
    expect(capped.rows).toEqual([[1], [2], [3], [4], [5]]);
    expect(capped.truncated).toBe(true);
    const exact = await ro.query(request(`SELECT i FROM ${table('n')} WHERE i <= 5 ORDER BY i`, {}, { maxRows: 5 }));
    expect(exact.rows).toHaveLength(5);
    expect(exact.truncated).toBe(false);
    // Rows are streamed: an endless sequence still returns at once, and is stopped on the server.
    const marker = `endless_${suffix}`;
    const endless = await ro.query(request(`SELECT seq /* ${marker} */ FROM seq_1_to_1000000000000`, {}, { maxRows: 3 }));
    expect(endless.rows).toEqual([[1], [2], [3]]);
    expect(endless.truncated).toBe(true);
    expect(await waitGone(marker)).toBe(0);
    expect((await ro.query(request('SELECT 1'))).rows).toEqual([[1]]);
  });

  it('stops a truncated statement even when the stop reaches the server late', async () => {
    // Wide rows fill both socket buffers at once, and a busy event loop (held here for 300 ms)
    // delays the stop: by then the server is blocked writing, where KILL QUERY alone does not
    // reach it before net_write_timeout (60 s by default).
    const marker = `wide_${suffix}`;
    const wide = await ro.query(request(`SELECT REPEAT('x', 100000) AS pad /* ${marker} */ FROM seq_1_to_1000000000`, {}, { maxRows: 3 }));
    const busyUntil = Date.now() + 300;
    while (Date.now() < busyUntil);
    expect(wide.rows).toHaveLength(3);
    expect(wide.truncated).toBe(true);
    expect(await waitGone(marker)).toBe(0);
  });

  it('times out a slow statement on the server', async () => {
    const marker = `timeout_${suffix}`;
    const started = Date.now();
    const error = await failure(ro.query(request(`SELECT SLEEP(5) /* ${marker} */`, {}, { timeoutMs: 1000 })));
    expect(error.code).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2500);
    expect(await waitGone(marker)).toBe(0);
  });

  it('cancels on abort and stops the statement on the server', async () => {
    const marker = `abort_${suffix}`;
    const controller = new AbortController();
    const pending = ro.query(request(`SELECT SLEEP(20) /* ${marker} */`, {}, { timeoutMs: 30_000, signal: controller.signal }));
    for (let i = 0; i < 40 && (await running(marker)) === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await running(marker)).toBe(1);
    controller.abort();
    const error = await failure(pending);
    expect(error.code).toBe('CANCELLED');
    expect(await waitGone(marker)).toBe(0);
    expect((await ro.query(request('SELECT 2'))).rows).toEqual([[2]]);
  });

  it('reports bad SQL as QUERY_FAILED', async () => {
    const error = await failure(ro.query(request('SELEC nonsense')));
    expect(error.code).toBe('QUERY_FAILED');
    expect(error.message).toContain('"tasks"');
    expect(error.message).toMatch(/syntax/i);
  });

  it('reports an unreachable server without leaking the password', async () => {
    const password = 'Sekr1t-Pa55word-xyz';
    const down = new MysqlDatasource('offline', { ...base, port: 1, password });
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
    const solo = new MysqlDatasource('solo', { ...base, poolSize: 1 });
    try {
      const first = (await solo.query(request('SELECT CONNECTION_ID()'))).rows[0]?.[0];
      await admin.query(`KILL ${Number(first)}`);
      const second = (await solo.query(request('SELECT CONNECTION_ID()'))).rows[0]?.[0];
      expect(second).not.toBe(first);
      await solo.ping();
    } finally {
      await solo.close();
    }
  });
});
