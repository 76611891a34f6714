/**
 * Runs one SQLite datasource's statements in a child process. better-sqlite3 is
 * synchronous and cannot be interrupted inside a statement (a worker thread stuck in
 * sqlite3_step ignores terminate()), so the parent kills this process on timeout or
 * cancel and starts a new one. Protocol: one JSON message per request and per reply.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Cell, Column, TableOutput } from '../core/result.js';
import { binaryCell, integerCell } from './cells.js';

export interface WorkerOptions {
  /** Absolute path of the database file. */
  file: string;
  readOnly: boolean;
  /** Absolute path of the SQL script that creates the file when it is missing. */
  initScript?: string;
}

export interface WorkerRequest {
  id: number;
  sql: string;
  values: (string | number | null)[];
  maxRows: number;
}

/** The failures a worker reports; the parent words them (see errors.ts). */
export type WorkerErrorCode = 'READ_ONLY' | 'DATASOURCE_UNAVAILABLE' | 'QUERY_FAILED';

export type WorkerReply =
  | { id: number; ok: true; output: TableOutput }
  | { id: number; ok: false; code: WorkerErrorCode; message: string };

class WorkerError extends Error {
  constructor(
    readonly code: WorkerErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const options = JSON.parse(process.argv[2] ?? '{}') as WorkerOptions;
let db: Database.Database | undefined;
/**
 * Statements of the open file by SQL text. An action's SQL never changes, so each is prepared
 * once rather than on every run; only the config's SQL reaches a worker, so this stays small.
 */
const statements = new Map<string, Database.Statement>();

/** Builds the file from the init script in a temporary file, then links it into place, once. */
function create(file: string, initScript: string): void {
  const script = fs.readFileSync(initScript, 'utf8');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const fresh = new Database(temp);
    try {
      fresh.exec(script);
    } finally {
      fresh.close();
    }
    try {
      // link, unlike rename, never replaces a file another process created meanwhile.
      fs.linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function open(): Database.Database {
  const { file, readOnly, initScript } = options;
  if (!fs.existsSync(file)) {
    if (initScript === undefined) throw new WorkerError('DATASOURCE_UNAVAILABLE', `database file ${file} does not exist`);
    try {
      create(file, initScript);
    } catch (error) {
      throw new WorkerError('DATASOURCE_UNAVAILABLE', `creating ${file} from ${initScript} failed: ${(error as Error).message}`);
    }
  }
  const handle = new Database(file, { readonly: readOnly, fileMustExist: true });
  // A second lock on writes, for statements that would write through some other path.
  if (readOnly) handle.pragma('query_only = ON');
  return handle;
}

/** Declared types without size (`VARCHAR(20)` → `varchar`); expressions get one from their values. */
function columnTypes(declared: (string | null)[], raw: unknown[][]): string[] {
  return declared.map((type, i) => {
    if (type) return type.toLowerCase().replace(/\s*\(.*$/, '');
    const sample = raw.find((row) => row[i] !== null)?.[i];
    if (sample === undefined) return 'null';
    if (typeof sample === 'bigint') return 'integer';
    if (typeof sample === 'number') return 'real';
    if (typeof sample === 'string') return 'text';
    return 'blob';
  });
}

function toCell(value: unknown): Cell {
  if (typeof value === 'bigint') return integerCell(value);
  if (value instanceof Uint8Array) return binaryCell(value);
  return value as Cell;
}

/** Whole numbers bind as INTEGER (a plain JS number would bind as REAL, which LIMIT rejects). */
function toBind(value: string | number | null): string | number | bigint | null {
  return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
}

function prepare(sql: string): Database.Statement {
  db ??= open();
  let stmt = statements.get(sql);
  if (stmt === undefined) {
    stmt = db.prepare(sql);
    if (stmt.reader) stmt.raw(true).safeIntegers(true);
    statements.set(sql, stmt);
  }
  return stmt;
}

function run(request: WorkerRequest): TableOutput {
  const stmt = prepare(request.sql);
  const values = request.values.map(toBind);
  if (!stmt.reader) {
    stmt.run(...values);
    return { columns: [], rows: [], truncated: false };
  }
  const declared = stmt.columns();
  const raw: unknown[][] = [];
  let truncated = false;
  for (const row of stmt.iterate(...values) as IterableIterator<unknown[]>) {
    if (raw.length === request.maxRows) {
      truncated = true;
      break; // ends the iteration, which resets the statement
    }
    raw.push(row);
  }
  const types = columnTypes(
    declared.map((c) => c.type),
    raw,
  );
  const columns: Column[] = declared.map((c, i) => ({ name: c.name, type: types[i] ?? 'null' }));
  return { columns, rows: raw.map((row) => row.map(toCell)), truncated };
}

function failure(id: number, error: unknown): WorkerReply {
  if (error instanceof WorkerError) return { id, ok: false, code: error.code, message: error.message };
  const raw = (error as { code?: unknown }).code;
  const code = typeof raw === 'string' ? raw : '';
  const message = error instanceof Error ? error.message : String(error);
  if (code.startsWith('SQLITE_READONLY')) return { id, ok: false, code: 'READ_ONLY', message };
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'SQLITE_NOTADB') {
    db = undefined;
    statements.clear();
    return { id, ok: false, code: 'DATASOURCE_UNAVAILABLE', message };
  }
  return { id, ok: false, code: 'QUERY_FAILED', message };
}

process.on('message', (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = { id: request.id, ok: true, output: run(request) };
  } catch (error) {
    reply = failure(request.id, error);
  }
  process.send?.(reply);
});
// The parent is gone: nobody is left to answer.
process.on('disconnect', () => process.exit(0));
