import type * as Pg from 'pg';
import type { FieldDef, PoolClient } from 'pg';
import type CursorClass from 'pg-cursor';
import type { PostgresDatasourceConfig } from '../config/schema.js';
import { PortholeError } from '../core/errors.js';
import type { Cell, TableOutput } from '../core/result.js';
import { decimalCell, integerCell, localDateTimeCell, pgByteaCell, utcTimestampCell } from './cells.js';
import type { Datasource, QueryRequest } from './datasource.js';
import { closedError, queryFailedError, readOnlyError, redactPassword, timeoutError, unreachableError } from './errors.js';
import { BACKSTOP_MS, QueryGuard } from './guard.js';
import { lazyDriver } from './lazy-driver.js';
import { bindValues, placeholderTranslator } from './placeholders.js';

const pg = lazyDriver<typeof Pg>('pg');
const Cursor = lazyDriver<typeof CursorClass>('pg-cursor');

/** pg_type.typname of the common built-in types; arrays are shown as `elem[]`. */
const TYPE_NAMES: Record<number, string> = {
  16: 'bool',
  17: 'bytea',
  18: 'char',
  19: 'name',
  20: 'int8',
  21: 'int2',
  23: 'int4',
  24: 'regproc',
  25: 'text',
  26: 'oid',
  114: 'json',
  142: 'xml',
  600: 'point',
  650: 'cidr',
  700: 'float4',
  701: 'float8',
  705: 'unknown',
  790: 'money',
  829: 'macaddr',
  869: 'inet',
  1000: 'bool[]',
  1001: 'bytea[]',
  1005: 'int2[]',
  1007: 'int4[]',
  1009: 'text[]',
  1014: 'bpchar[]',
  1015: 'varchar[]',
  1016: 'int8[]',
  1021: 'float4[]',
  1022: 'float8[]',
  1042: 'bpchar',
  1043: 'varchar',
  1082: 'date',
  1083: 'time',
  1114: 'timestamp',
  1115: 'timestamp[]',
  1182: 'date[]',
  1184: 'timestamptz',
  1185: 'timestamptz[]',
  1186: 'interval',
  1231: 'numeric[]',
  1266: 'timetz',
  1560: 'bit',
  1562: 'varbit',
  1700: 'numeric',
  2249: 'record',
  2278: 'void',
  2950: 'uuid',
  2951: 'uuid[]',
  3614: 'tsvector',
  3802: 'jsonb',
  3807: 'jsonb[]',
};

const number = (text: string): Cell => {
  const n = Number(text);
  return Number.isFinite(n) ? n : text; // NaN and Infinity stay text: JSON has no such numbers
};

/**
 * Text-format parsers for this pool only (pg's global parsers stay untouched). Types not
 * listed keep the database's own text, so arrays, intervals and the like arrive as printed.
 */
const PARSERS: Record<number, (text: string) => Cell> = {
  16: (text) => text === 't',
  17: pgByteaCell,
  20: integerCell,
  21: number,
  23: number,
  26: number,
  700: number,
  701: number,
  1082: (text) => text,
  1114: localDateTimeCell,
  1184: utcTimestampCell,
  1700: decimalCell,
};
const asText = (text: string): Cell => text;
const types = {
  getTypeParser: ((oid: number) => PARSERS[oid] ?? asText) as Pg.CustomTypesConfig['getTypeParser'],
};

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
  '3D000', // invalid_catalog_name: the database does not exist
  '53300', // too_many_connections
]);
const READ_ONLY_SQL_TRANSACTION = '25006';
const QUERY_CANCELED = '57014';

interface DriverError {
  code?: string;
  message?: string;
}

function isConnectionError(error: unknown): boolean {
  const e = error as DriverError;
  if (e.code !== undefined) return UNAVAILABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code) || e.code.startsWith('08');
  // pg reports lost and timed-out connections with plain Errors and no code.
  return /connection (terminated|timeout)|not queryable|timeout expired/i.test(e.message ?? '');
}

/** PostgreSQL through pg: one pool, read-only transactions, statement_timeout, cursors. */
export class PostgresDatasource implements Datasource {
  readonly driver = 'postgres';
  private pool: Pg.Pool | undefined;
  private closed = false;
  private ended: Promise<void> | undefined;
  private readonly listening = new WeakSet<PoolClient>();
  private readonly translate = placeholderTranslator('postgres');

  constructor(
    readonly name: string,
    private readonly config: PostgresDatasourceConfig,
  ) {}

  async query(request: QueryRequest): Promise<TableOutput> {
    const { sql, names } = this.translate(request.sql);
    const values = bindValues(names, request.params);
    const guard = new QueryGuard(this.name, request.timeoutMs, BACKSTOP_MS, request.signal);
    return guard.run(this.execute(sql, values, request, guard));
  }

  async ping(): Promise<void> {
    const client = await this.acquire();
    try {
      await client.query('SELECT 1');
      client.release();
    } catch (error) {
      client.release(error instanceof Error ? error : true);
      throw this.mapError(error);
    }
  }

  /** Safe to call again: the pool ends once, and every caller waits for that. */
  close(): Promise<void> {
    this.closed = true;
    this.ended ??= this.pool?.end() ?? Promise.resolve();
    return this.ended;
  }

  private connectionOptions(): Pg.ClientConfig {
    const c = this.config;
    return {
      // A socketPath is a directory for pg; it goes in `host`.
      host: c.socketPath ?? c.host,
      port: c.port,
      user: c.user,
      password: c.password,
      database: c.database,
      connectionTimeoutMillis: c.connectTimeout,
      application_name: 'porthole',
    };
  }

  private getPool(): Pg.Pool {
    if (this.closed) throw closedError(this.name);
    if (!this.pool) {
      this.pool = new (pg().Pool)({ ...this.connectionOptions(), max: this.config.poolSize, types });
      // An idle client whose server session dies is removed by the pool; without a
      // listener the 'error' event would crash the process.
      this.pool.on('error', () => undefined);
    }
    return this.pool;
  }

  private async acquire(): Promise<PoolClient> {
    let client: PoolClient;
    try {
      client = await this.getPool().connect();
    } catch (error) {
      throw this.mapError(error);
    }
    if (!this.listening.has(client)) {
      // A checked-out client has no pool listener: a session dying under it must not crash us.
      this.listening.add(client);
      client.on('error', () => undefined);
    }
    return client;
  }

  private async execute(sql: string, values: unknown[], request: QueryRequest, guard: QueryGuard): Promise<TableOutput> {
    const readOnly = this.config.readOnly;
    const ms = Math.max(1, Math.ceil(request.timeoutMs));
    const begin = `${readOnly ? 'BEGIN READ ONLY' : 'BEGIN'}; SET LOCAL statement_timeout = ${ms}; SET LOCAL TIME ZONE 'UTC'`;
    let client = await this.acquire();
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(begin);
        break;
      } catch (error) {
        client.release(error instanceof Error ? error : true);
        // A pooled client killed by the server fails on first use; a fresh one may work.
        if (isConnectionError(error) && attempt < this.config.poolSize) {
          client = await this.acquire();
          continue;
        }
        throw this.mapError(error);
      }
    }
    if (guard.reason !== undefined) {
      client.release(true);
      throw guard.error();
    }
    let released = false;
    const release = (error?: Error | boolean) => {
      if (released) return;
      released = true;
      client.release(error);
    };
    const pid = (client as unknown as { processID: number | null }).processID;
    guard.onStop(async () => {
      if (pid !== null) await this.cancelBackend(pid);
      release(true);
    });
    try {
      const cursor = client.query(new (Cursor())(sql, values, { rowMode: 'array' }));
      const { rows, fields } = await new Promise<{ rows: Cell[][]; fields: FieldDef[] }>((resolve, reject) => {
        cursor.read(request.maxRows + 1, (error, rows: Cell[][], result) => {
          if (error) reject(error);
          else resolve({ rows, fields: result.fields });
        });
      });
      await cursor.close();
      await client.query(readOnly ? 'ROLLBACK' : 'COMMIT');
      release();
      const truncated = rows.length > request.maxRows;
      return {
        columns: fields.map((f) => ({ name: f.name, type: TYPE_NAMES[f.dataTypeID] ?? `oid:${f.dataTypeID}` })),
        rows: truncated ? rows.slice(0, request.maxRows) : rows,
        truncated,
      };
    } catch (error) {
      if (guard.reason !== undefined) throw guard.error();
      if (isConnectionError(error)) {
        release(error instanceof Error ? error : true);
      } else {
        await client.query('ROLLBACK').then(
          () => release(),
          (rollbackError: unknown) => release(rollbackError instanceof Error ? rollbackError : true),
        );
      }
      throw this.mapError(error, request.timeoutMs);
    }
  }

  /** Stops the statement of backend `pid`, from a connection of its own (the pool may be full). */
  private async cancelBackend(pid: number): Promise<void> {
    const admin = new (pg().Client)(this.connectionOptions());
    admin.on('error', () => undefined);
    try {
      await admin.connect();
      await admin.query('SELECT pg_cancel_backend($1)', [pid]);
    } finally {
      await admin.end().catch(() => undefined);
    }
  }

  private mapError(error: unknown, timeoutMs?: number): PortholeError {
    if (error instanceof PortholeError) return error;
    const e = error as DriverError;
    const reason = redactPassword(e.message ?? String(error), this.config.password);
    if (isConnectionError(error)) return unreachableError(this.name, reason, error);
    if (e.code === READ_ONLY_SQL_TRANSACTION) return readOnlyError(this.name, error);
    if (e.code === QUERY_CANCELED && timeoutMs !== undefined) return timeoutError(this.name, timeoutMs);
    return queryFailedError(this.name, reason, error);
  }
}
