import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type * as Mysql from 'mysql2/promise';
import type { ExecuteValues, FieldPacket, Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { MysqlDatasourceConfig } from '../config/schema.js';
import { PortholeError } from '../core/errors.js';
import type { ParamValue } from '../core/params-types.js';
import type { Cell, Column, TableOutput } from '../core/result.js';
import { binaryCell, decimalCell, genericCell, integerCell, localDateTimeCell, utcTimestampCell } from './cells.js';
import type { Datasource, QueryRequest } from './datasource.js';
import { closedError, queryFailedError, readOnlyError, redactPassword, timeoutError, unreachableError } from './errors.js';
import { BACKSTOP_MS, QueryGuard } from './guard.js';
import { lazyDriver } from './lazy-driver.js';
import { bindValues, placeholderTranslator } from './placeholders.js';

const mysql = lazyDriver<typeof Mysql>('mysql2/promise');

/** mysql2's column type codes (lib/constants/types.js) to MySQL's type names. */
const TYPE_NAMES: Record<number, string> = {
  0: 'decimal',
  1: 'tinyint',
  2: 'smallint',
  3: 'int',
  4: 'float',
  5: 'double',
  6: 'null',
  7: 'timestamp',
  8: 'bigint',
  9: 'mediumint',
  10: 'date',
  11: 'time',
  12: 'datetime',
  13: 'year',
  14: 'date',
  16: 'bit',
  245: 'json',
  246: 'decimal',
  247: 'enum',
  248: 'set',
  255: 'geometry',
};
const BINARY_CHARSET = 63;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_HOST_IS_BLOCKED',
  'ER_HOST_NOT_PRIVILEGED',
  'ER_SERVER_SHUTDOWN',
]);
const ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION = 1792;
const ER_STATEMENT_TIMEOUT = 1969; // MariaDB max_statement_time
const ER_QUERY_TIMEOUT = 3024; // MySQL MAX_EXECUTION_TIME

interface DriverError {
  code?: string;
  errno?: number;
  fatal?: boolean;
  message?: string;
}

function columnType(field: FieldPacket): string {
  if (field.extendedTypeName) return field.extendedTypeName.toLowerCase();
  const code = field.columnType ?? field.type ?? -1;
  const binary = field.characterSet === BINARY_CHARSET;
  const flags = typeof field.flags === 'number' ? field.flags : 0;
  switch (code) {
    case 15:
    case 253:
      return binary ? 'varbinary' : 'varchar';
    case 254:
      if (flags & ENUM_FLAG) return 'enum';
      if (flags & SET_FLAG) return 'set';
      return binary ? 'binary' : 'char';
    case 249:
      return binary ? 'tinyblob' : 'tinytext';
    case 250:
      return binary ? 'mediumblob' : 'mediumtext';
    case 251:
      return binary ? 'longblob' : 'longtext';
    case 252:
      return binary ? 'blob' : 'text';
    default:
      return TYPE_NAMES[code] ?? `type:${code}`;
  }
}

function cell(value: unknown, type: string): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    switch (type) {
      case 'bigint':
        return integerCell(value);
      case 'decimal':
        return decimalCell(value);
      case 'datetime':
        return localDateTimeCell(value);
      case 'timestamp':
        return utcTimestampCell(value);
      default:
        return value;
    }
  }
  if (value instanceof Uint8Array) return binaryCell(value);
  return genericCell(value);
}

/** Integers go over the wire as BIGINT; left to itself mysql2 sends every number as DOUBLE. */
function toWire(value: ParamValue): ExecuteValues {
  return typeof value === 'number' && Number.isInteger(value) ? mysql().TypedParameter.BIGINT(value) : value;
}

/**
 * Takes a connection out of the pool and closes its socket at once. mysql2's destroy() only
 * half-closes it, and a server still sending rows then blocks writing to it, where KILL QUERY
 * does not reach it, until net_write_timeout.
 */
function discard(conn: PoolConnection): void {
  conn.destroy();
  // The socket is internal to mysql2 and not in its typings.
  (conn.connection as unknown as { stream?: Socket }).stream?.destroy();
}

/** MySQL and MariaDB through mysql2: one pool, read-only transactions, server-side timeouts. */
export class MysqlDatasource implements Datasource {
  readonly driver = 'mysql';
  private pool: Pool | undefined;
  private closed = false;
  private ended: Promise<void> | undefined;
  private mariadb: Promise<boolean> | undefined;
  /** The statement timeout last set on each pooled connection, so it is set only when it changes. */
  private readonly sessionTimeouts = new WeakMap<object, number>();
  private readonly listening = new WeakSet<object>();
  private readonly translate = placeholderTranslator('mysql');

  constructor(
    readonly name: string,
    private readonly config: MysqlDatasourceConfig,
  ) {}

  async query(request: QueryRequest): Promise<TableOutput> {
    const { sql, names } = this.translate(request.sql);
    const values = bindValues(names, request.params).map(toWire);
    const guard = new QueryGuard(this.name, request.timeoutMs, BACKSTOP_MS, request.signal);
    return guard.run(this.execute(sql, values, request, guard));
  }

  async ping(): Promise<void> {
    const conn = await this.acquire(this.config.connectTimeout);
    try {
      await conn.query('SELECT 1');
      conn.release();
    } catch (error) {
      discard(conn);
      throw this.mapError(error);
    }
  }

  /** Safe to call again: the pool ends once, and every caller waits for that. */
  close(): Promise<void> {
    this.closed = true;
    this.ended ??= this.pool?.end() ?? Promise.resolve();
    return this.ended;
  }

  private getPool(): Pool {
    if (this.closed) throw closedError(this.name);
    this.pool ??= mysql().createPool({
      ...this.connectionOptions(),
      connectionLimit: this.config.poolSize,
      maxIdle: this.config.poolSize,
      enableKeepAlive: true,
      // Rows as arrays, set here rather than per statement: execute(sql, values) takes mysql2's
      // short path, while execute({ sql, values, rowsAsArray }) spreads its options into a new
      // object on every call.
      rowsAsArray: true,
      // Exact values: big integers and decimals as strings, dates as text; cells.ts decides.
      supportBigNumbers: true,
      bigNumberStrings: true,
      decimalNumbers: false,
      dateStrings: true,
      jsonStrings: true,
      multipleStatements: false,
    });
    return this.pool;
  }

  private connectionOptions() {
    const c = this.config;
    return {
      host: c.host,
      port: c.port,
      socketPath: c.socketPath,
      user: c.user,
      password: c.password,
      database: c.database,
      connectTimeout: c.connectTimeout,
    };
  }

  private async execute(sql: string, values: ExecuteValues[], request: QueryRequest, guard: QueryGuard): Promise<TableOutput> {
    const conn = await this.acquire(request.timeoutMs);
    if (guard.reason !== undefined) {
      conn.release();
      throw guard.error();
    }
    const threadId = conn.threadId;
    guard.onStop(async () => {
      await this.killQuery(threadId);
      discard(conn);
    });
    // A read-only datasource's session is read-only (prepareSession), so each statement runs in
    // a read-only transaction of its own: no BEGIN/ROLLBACK round trips around it.
    try {
      const result = await this.stream(conn, sql, values, request.maxRows);
      if (result.truncated) {
        // The rest of the result is still coming; stop it on the server and drop the connection.
        void this.killQuery(threadId);
        discard(conn);
      } else {
        conn.release();
      }
      return result;
    } catch (error) {
      if (guard.reason !== undefined) throw guard.error();
      if ((error as DriverError).fatal) discard(conn);
      else conn.release();
      throw this.mapError(error, request.timeoutMs);
    }
  }

  /** Streams rows so at most maxRows + 1 are ever held, whatever the statement returns. */
  private stream(conn: PoolConnection, sql: string, values: ExecuteValues[], maxRows: number): Promise<TableOutput> {
    return new Promise((resolve, reject) => {
      // The callback-less core execute() is an event emitter; its typings do not say so.
      const command = conn.connection.execute(sql, values) as unknown as EventEmitter;
      let columns: Column[] = [];
      const rows: Cell[][] = [];
      let settled = false;
      // mysql2 tells only the connection, not the running command, when the server goes away.
      const lost = () => fail(Object.assign(new Error('the connection to the server was lost'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }));
      const settle = (done: () => void) => {
        if (settled) return;
        settled = true;
        conn.connection.off('error', lost);
        conn.connection.off('end', lost);
        done();
      };
      const fail = (error: unknown) => settle(() => reject(error instanceof Error ? error : new Error(String(error))));
      command.on('fields', (fields: FieldPacket[] | undefined, index = 0) => {
        if (index === 0 && Array.isArray(fields)) {
          columns = fields.map((f) => ({ name: f.name, type: columnType(f) }));
        }
      });
      command.on('result', (row: unknown, index = 0) => {
        // Only the first result set counts; non-arrays are OK packets of statements without rows.
        if (settled || index !== 0 || !Array.isArray(row)) return;
        if (rows.length === maxRows) {
          conn.connection.pause();
          settle(() => resolve({ columns, rows, truncated: true }));
          return;
        }
        rows.push(row.map((value, i) => cell(value, columns[i]?.type ?? '')));
      });
      command.on('end', () => settle(() => resolve({ columns, rows, truncated: false })));
      command.on('error', fail);
      conn.connection.once('error', lost);
      conn.connection.once('end', lost);
    });
  }

  /** A pooled connection with the session set up; connections the server dropped are replaced. */
  private async acquire(timeoutMs: number): Promise<PoolConnection> {
    for (let attempt = 0; ; attempt++) {
      let conn: PoolConnection;
      try {
        conn = await this.getPool().getConnection();
      } catch (error) {
        throw this.mapError(error);
      }
      if (!this.listening.has(conn.connection)) {
        // mysql2 listens for only the first 'error' of a pooled connection; a later one,
        // unheard, would crash the process.
        this.listening.add(conn.connection);
        conn.connection.on('error', () => undefined);
      }
      try {
        await this.prepareSession(conn, timeoutMs);
        return conn;
      } catch (error) {
        discard(conn);
        // An idle connection killed by the server fails on first use; a fresh one may work.
        if ((error as DriverError).fatal && attempt < this.config.poolSize) continue;
        throw this.mapError(error);
      }
    }
  }

  private async prepareSession(conn: PoolConnection, timeoutMs: number): Promise<void> {
    if (this.sessionTimeouts.get(conn.connection) === timeoutMs) return;
    this.mariadb ??= conn.query<RowDataPacket[]>({ sql: 'SELECT VERSION() AS v', rowsAsArray: false }).then(([rows]) => /mariadb/i.test(String(rows[0]?.v)));
    let mariadb: boolean;
    try {
      mariadb = await this.mariadb;
    } catch (error) {
      this.mariadb = undefined;
      throw error;
    }
    const ms = Math.max(1, Math.ceil(timeoutMs));
    // MariaDB counts seconds (fractions allowed), MySQL milliseconds (SELECT only).
    const limit = mariadb ? `max_statement_time = ${ms / 1000}` : `MAX_EXECUTION_TIME = ${ms}`;
    await conn.query(`SET time_zone = '+00:00', SESSION ${limit}`);
    // Every later statement on this connection, DDL (DROP, ALTER, TRUNCATE) included, then runs
    // as a read-only transaction and is refused if it writes.
    if (this.config.readOnly) await conn.query('SET SESSION TRANSACTION READ ONLY');
    this.sessionTimeouts.set(conn.connection, timeoutMs);
  }

  /** Stops the statement running on `threadId`, from a connection of its own (the pool may be full). */
  private async killQuery(threadId: number): Promise<void> {
    if (!Number.isSafeInteger(threadId)) return;
    let admin: Mysql.Connection | undefined;
    try {
      admin = await mysql().createConnection(this.connectionOptions());
      await admin.query(`KILL QUERY ${threadId}`);
    } catch {
      // The statement (or the whole connection, or the server) may already be gone: that is the goal.
    } finally {
      admin?.destroy();
    }
  }

  private mapError(error: unknown, timeoutMs?: number): PortholeError {
    if (error instanceof PortholeError) return error;
    const e = error as DriverError;
    const reason = redactPassword(e.message ?? String(error), this.config.password);
    if (e.code !== undefined && UNAVAILABLE_CODES.has(e.code)) return unreachableError(this.name, reason, error);
    if (e.errno === ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION) return readOnlyError(this.name, error);
    if ((e.errno === ER_STATEMENT_TIMEOUT || e.errno === ER_QUERY_TIMEOUT) && timeoutMs !== undefined) {
      return timeoutError(this.name, timeoutMs);
    }
    return queryFailedError(this.name, reason, error);
  }
}
