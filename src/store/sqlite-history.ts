import type Database from 'better-sqlite3';
import { isoTime } from '../core/iso-time.js';
import type { ParamValue } from '../core/params-types.js';
import type { RunResult } from '../core/result.js';
import type { Run } from '../core/run.js';
import type { HistoryQuery, RecordStatus, RunHistory, RunRecord } from './history.js';
import { storedResultJson } from './stored-result.js';
import { immediateWriter, type StoreWriter } from './write-batch.js';

export interface HistoryLimits {
  maxRuns: number;
  maxAgeMs: number;
  maxOutputBytes: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  action_id TEXT NOT NULL,
  status TEXT NOT NULL,
  outcome TEXT,
  source TEXT NOT NULL,
  client_ip TEXT,
  user TEXT,
  params TEXT NOT NULL,
  queued_at TEXT NOT NULL,
  started_at TEXT,
  duration_ms INTEGER,
  exit_code INTEGER,
  error_code TEXT,
  error_message TEXT,
  result TEXT,
  stored_truncated INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_action ON runs (action_id, queued_at DESC);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (queued_at);
`;

interface Row {
  id: string;
  action_id: string;
  status: RecordStatus;
  outcome: RunRecord['outcome'] | null;
  source: RunRecord['source'];
  client_ip: string | null;
  user: string | null;
  params: string;
  queued_at: string;
  started_at: string | null;
  duration_ms: number | null;
  exit_code: number | null;
  error_code: string | null;
  error_message: string | null;
  result: string | null;
  stored_truncated: number;
}

/** What a run adds to its row when it finishes. */
type FinishedFields = {
  outcome: RunRecord['outcome'] | null;
  startedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  result: string | null;
  storedTruncated: number;
};

/** A run's row as first written: queued, or already finished if it ended before the write. */
type NewRow = {
  id: string;
  actionId: string;
  status: 'queued' | 'finished';
  source: RunRecord['source'];
  clientIp: string | null;
  user: string | null;
  params: string;
  queuedAt: string;
} & FinishedFields;

const UNFINISHED: FinishedFields = {
  outcome: null,
  startedAt: null,
  durationMs: null,
  exitCode: null,
  errorCode: null,
  errorMessage: null,
  result: null,
  storedTruncated: 0,
};

/** Run history in Porthole's SQLite file (see database.ts). */
export class SqliteHistory implements RunHistory {
  private readonly insert: Database.Statement;
  private readonly finish: Database.Statement;
  /**
   * Rows whose insert still waits in the writer. A run that finishes before then (most
   * queries do) is written once, finished, instead of inserted and then updated.
   */
  private readonly unwritten = new Map<string, NewRow>();
  private readonly trim: Database.Statement;
  /**
   * The table is trimmed to maxRuns every this many runs: left to the periodic prune, a busy
   * server's table would grow by millions of rows between prunes, and each prune would stop
   * the event loop for seconds to delete them.
   */
  private readonly trimEvery: number;
  /** Runs recorded since the table was last trimmed. */
  private sinceTrim = 0;
  private readonly page: Database.Statement;
  private readonly one: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly limits: HistoryLimits,
    private readonly writer: StoreWriter = immediateWriter,
  ) {
    this.db.exec(SCHEMA);
    // Runs that were in flight when a previous server died did not finish; say so.
    this.db.prepare("UPDATE runs SET status = 'interrupted' WHERE status IN ('queued', 'running')").run();
    // Values are bound by position (see finishedValues): by name, better-sqlite3 looks each one
    // up on the object, which cost more than the rest of the insert together.
    this.insert = this.db.prepare(
      `INSERT INTO runs (id, action_id, status, source, client_ip, user, params, queued_at,
         outcome, started_at, duration_ms, exit_code, error_code, error_message, result, stored_truncated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.finish = this.db.prepare(
      `UPDATE runs SET status = 'finished', outcome = ?, started_at = ?, duration_ms = ?,
         exit_code = ?, error_code = ?, error_message = ?, result = ?, stored_truncated = ?
       WHERE id = ?`,
    );
    this.trim = this.db.prepare(
      `DELETE FROM runs WHERE status NOT IN ('queued', 'running') AND id IN (
         SELECT id FROM runs ORDER BY queued_at DESC LIMIT -1 OFFSET ?)`,
    );
    this.trimEvery = Math.max(100, Math.ceil(limits.maxRuns / 10));
    this.page = this.db.prepare('SELECT * FROM runs WHERE action_id = ? AND queued_at < ? ORDER BY queued_at DESC LIMIT ?');
    this.one = this.db.prepare('SELECT * FROM runs WHERE id = ?');
  }

  recordCreated(run: Run, params: Record<string, ParamValue>): Promise<void> {
    const row: NewRow = {
      id: run.id,
      actionId: run.action.id,
      status: 'queued',
      source: run.context.source,
      clientIp: run.context.clientIp ?? null,
      user: run.context.user ?? null,
      params: JSON.stringify(params),
      queuedAt: isoTime(run.queuedAt.getTime()),
      ...UNFINISHED,
    };
    this.unwritten.set(row.id, row);
    this.writer.write(() => {
      this.unwritten.delete(row.id);
      this.insert.run(row.id, row.actionId, row.status, row.source, row.clientIp, row.user, row.params, row.queuedAt, ...finishedValues(row));
    });
    if (++this.sinceTrim >= this.trimEvery) {
      this.sinceTrim = 0;
      this.writer.write(() => this.trim.run(this.limits.maxRuns));
    }
    return Promise.resolve();
  }

  recordFinished(run: Run, result: RunResult): Promise<void> {
    const stored = storedResultJson(result, this.limits.maxOutputBytes);
    const finished: FinishedFields = {
      outcome: result.outcome,
      startedAt: result.startedAt,
      durationMs: result.durationMs,
      exitCode: result.kind === 'text' ? result.exitCode : null,
      errorCode: result.error?.code ?? null,
      errorMessage: result.error?.message ?? null,
      result: stored.json,
      storedTruncated: stored.cut ? 1 : 0,
    };
    const waiting = this.unwritten.get(run.id);
    if (waiting) Object.assign(waiting, finished, { status: 'finished' });
    else this.writer.write(() => this.finish.run(...finishedValues(finished), run.id));
    return Promise.resolve();
  }

  list(actionId: string, query: HistoryQuery): Promise<RunRecord[]> {
    this.writer.flush();
    const rows = this.page.all(actionId, query.before ?? '9999', query.limit) as Row[];
    return Promise.resolve(rows.map((row) => toRecord(row, false)));
  }

  get(runId: string): Promise<RunRecord | undefined> {
    this.writer.flush();
    const row = this.one.get(runId) as Row | undefined;
    return Promise.resolve(row && toRecord(row, true));
  }

  prune(): Promise<number> {
    this.writer.flush();
    const cutoff = new Date(Date.now() - this.limits.maxAgeMs).toISOString();
    const old = this.db.prepare("DELETE FROM runs WHERE queued_at < ? AND status NOT IN ('queued', 'running')").run(cutoff).changes;
    const extra = this.trim.run(this.limits.maxRuns).changes;
    return Promise.resolve(old + extra);
  }
}

/** A finished run's fields in the order both statements take them. */
function finishedValues(f: FinishedFields): unknown[] {
  return [f.outcome, f.startedAt, f.durationMs, f.exitCode, f.errorCode, f.errorMessage, f.result, f.storedTruncated];
}

function toRecord(row: Row, withResult: boolean): RunRecord {
  return {
    id: row.id,
    actionId: row.action_id,
    status: row.status,
    ...(row.outcome ? { outcome: row.outcome } : {}),
    source: row.source,
    ...(row.client_ip ? { clientIp: row.client_ip } : {}),
    ...(row.user ? { user: row.user } : {}),
    params: JSON.parse(row.params) as Record<string, ParamValue>,
    queuedAt: row.queued_at,
    ...(row.started_at ? { startedAt: row.started_at } : {}),
    ...(row.duration_ms !== null ? { durationMs: row.duration_ms } : {}),
    ...(row.status === 'finished' ? { exitCode: row.exit_code } : {}),
    ...(row.error_code ? { error: { code: row.error_code as NonNullable<RunRecord['error']>['code'], message: row.error_message ?? '' } } : {}),
    ...(withResult && row.result ? { result: JSON.parse(row.result) as RunResult } : {}),
    storedTruncated: row.stored_truncated === 1,
  };
}
