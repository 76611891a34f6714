/**
 * Errors with stable codes, in the manner of Fastify's: callers branch on `code`,
 * the HTTP layer maps `statusCode`, and `message` is safe to show (never a secret).
 */
export const ERRORS = {
  PARAMS_INVALID: 400,
  ACTION_UNKNOWN: 404,
  BUSY: 429,
  COMMAND_FAILED: 502,
  OUTPUT_LIMIT: 502,
  QUERY_FAILED: 502,
  READ_ONLY: 502,
  DATASOURCE_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  TIMEOUT: 504,
  CANCELLED: 409,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class PortholeError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PortholeError';
    this.code = code;
    this.statusCode = ERRORS[code];
  }
}

/** One parameter that failed validation, with what would have been accepted. */
export interface ParamProblem {
  param: string;
  reason: string;
  allowed: string;
}

export class ParamsInvalidError extends PortholeError {
  readonly problems: readonly ParamProblem[];
  /** One line saying what went wrong; `message` adds a line per problem. */
  readonly summary: string;

  constructor(actionId: string, problems: readonly ParamProblem[]) {
    const summary = `invalid parameters for action "${actionId}"`;
    const lines = problems.map((p) => `  ${p.param}: ${p.reason} (allowed: ${p.allowed})`);
    super('PARAMS_INVALID', `${summary}:\n${lines.join('\n')}`);
    this.summary = summary;
    this.problems = problems;
  }
}
