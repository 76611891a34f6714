import { expect } from 'vitest';
import { PortholeError } from '../../src/core/errors.js';
import type { QueryRequest } from '../../src/datasources/datasource.js';

/**
 * What the mysql, postgres and sqlite datasource tests share. Their cases check one contract
 * (datasource.ts), but the SQL, data and types differ in nearly every case, so only these
 * helpers are shared, not the cases.
 */

/** A query request with the tests' defaults: 100 rows, `timeoutMs` unless `extra` says otherwise. */
export function queryRequest(sql: string, params: QueryRequest['params'] = {}, extra: Partial<QueryRequest> = {}, timeoutMs = 5000): QueryRequest {
  return { sql, params, timeoutMs, maxRows: 100, ...extra };
}

/** The PortholeError the query fails with; the test fails if it succeeds or throws anything else. */
export async function queryFailure(promise: Promise<unknown>): Promise<PortholeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PortholeError);
    return error as PortholeError;
  }
  throw new Error('expected the query to fail');
}
