import type { ErrorCode } from './errors.js';

/** How a run ended. Only `succeeded` is a success. */
export type Outcome = 'succeeded' | 'failed' | 'timed-out' | 'cancelled' | 'unavailable';

export interface RunFailure {
  code: ErrorCode;
  message: string;
}

export interface Column {
  name: string;
  /** The database's own type name, lower case (e.g. `bigint`, `varchar`, `timestamptz`). */
  type: string;
}

/**
 * A cell as it leaves the datasource: numbers that fit a double exactly are numbers;
 * larger integers and decimals are exact strings; dates are ISO 8601; binary is base64.
 */
export type Cell = string | number | boolean | null;

export interface TableOutput {
  columns: Column[];
  rows: Cell[][];
  /** More rows existed than the row cap allowed. */
  truncated: boolean;
}

export interface TextOutput {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  truncated: { stdout: boolean; stderr: boolean };
}

interface ResultBase {
  runId: string;
  actionId: string;
  startedAt: string;
  durationMs: number;
  outcome: Outcome;
  error?: RunFailure;
}

export interface TableResult extends ResultBase, TableOutput {
  kind: 'table';
}

export interface TextResult extends ResultBase, TextOutput {
  kind: 'text';
}

export type RunResult = TableResult | TextResult;
