import { PortholeError } from '../core/errors.js';

/**
 * The errors every driver reports, worded once so a datasource fails the same way whichever
 * database is behind it. Each names the datasource; none may carry its password.
 */

export function timeoutError(datasource: string, timeoutMs: number): PortholeError {
  return new PortholeError('TIMEOUT', `query on datasource "${datasource}" timed out after ${timeoutMs}ms`);
}

export function cancelledError(datasource: string): PortholeError {
  return new PortholeError('CANCELLED', `query on datasource "${datasource}" was cancelled`);
}

export function closedError(datasource: string): PortholeError {
  return new PortholeError('DATASOURCE_UNAVAILABLE', `datasource "${datasource}" is closed`);
}

export function unreachableError(datasource: string, reason: string, cause?: unknown): PortholeError {
  return new PortholeError('DATASOURCE_UNAVAILABLE', `datasource "${datasource}" is unreachable: ${reason}`, causedBy(cause));
}

export function readOnlyError(datasource: string, cause?: unknown): PortholeError {
  return new PortholeError(
    'READ_ONLY',
    `datasource "${datasource}" is read-only, so the statement was rejected: it tries to write. ` +
      `To allow writes, set readOnly: false on the datasource.`,
    causedBy(cause),
  );
}

export function queryFailedError(datasource: string, reason: string, cause?: unknown): PortholeError {
  return new PortholeError('QUERY_FAILED', `query on datasource "${datasource}" failed: ${reason}`, causedBy(cause));
}

/** A message relayed from a worker process has no error object behind it: no `cause` then. */
function causedBy(cause: unknown): { cause: unknown } | undefined {
  return cause === undefined ? undefined : { cause };
}

/** Driver messages do not carry the password, but a message is shown to users: make sure. */
export function redactPassword(message: string, password: string | undefined): string {
  return password ? message.split(password).join('***') : message;
}
