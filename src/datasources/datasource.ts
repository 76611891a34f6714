import type { ParamValue } from '../core/params-types.js';
import type { TableOutput } from '../core/result.js';

export interface QueryRequest {
  /** SQL as the operator wrote it, with `:name` placeholders. */
  sql: string;
  /** Values for the placeholders, already validated. */
  params: Readonly<Record<string, ParamValue>>;
  /** Enforced inside the database where it can be, and on the client as a backstop. */
  timeoutMs: number;
  /** Rows beyond this are not fetched; the output is flagged truncated. */
  maxRows: number;
  /** Aborting stops the query on the server. */
  signal?: AbortSignal;
}

/**
 * One named connection pool. Implementations throw PortholeError with code
 * DATASOURCE_UNAVAILABLE (cannot connect), TIMEOUT, READ_ONLY (a write on a
 * read-only datasource), CANCELLED or QUERY_FAILED; messages name the datasource
 * and never contain its password.
 */
export interface Datasource {
  readonly name: string;
  readonly driver: 'mysql' | 'postgres' | 'sqlite';
  query(request: QueryRequest): Promise<TableOutput>;
  /** Resolves when a connection can be made and a trivial statement runs. */
  ping(): Promise<void>;
  /** Closes every connection; later queries fail. Closing again waits for the first close. */
  close(): Promise<void>;
}
