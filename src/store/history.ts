import type { ParamValue } from '../core/params-types.js';
import type { Outcome, RunFailure, RunResult } from '../core/result.js';
import type { Run } from '../core/run.js';

export type RecordStatus = 'queued' | 'running' | 'finished' | 'interrupted';

/** One run as history keeps it: secret parameters masked, output cut to the stored cap. */
export interface RunRecord {
  id: string;
  actionId: string;
  status: RecordStatus;
  outcome?: Outcome;
  source: 'cli' | 'http';
  clientIp?: string;
  user?: string;
  params: Record<string, ParamValue>;
  queuedAt: string;
  startedAt?: string;
  durationMs?: number;
  exitCode?: number | null;
  error?: RunFailure;
  /** The result as stored; its output may be shorter than what the run produced. */
  result?: RunResult;
  /** The stored output was cut to history.maxOutput. */
  storedTruncated: boolean;
}

export interface HistoryQuery {
  limit: number;
  /** Only runs queued before this ISO time (for paging back). */
  before?: string;
}

/** Where runs are recorded. SQLite when embedded; the interface leaves room for PostgreSQL. */
export interface RunHistory {
  recordCreated(run: Run, params: Record<string, ParamValue>): Promise<void>;
  recordFinished(run: Run, result: RunResult): Promise<void>;
  list(actionId: string, query: HistoryQuery): Promise<RunRecord[]>;
  get(runId: string): Promise<RunRecord | undefined>;
  /** Applies retention (age and count); returns how many runs were removed. */
  prune(): Promise<number>;
}
