import type { FastifyReply, FastifyRequest } from 'fastify';
import { ParamsInvalidError, PortholeError } from '../core/errors.js';
import { barePage, escapeHtml, page } from './renderers/html.js';
import { CONTENT_TYPES, negotiate, type Format } from './negotiate.js';

/** What an error response says; never a stack trace, never a secret. */
export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  problems?: ParamsInvalidError['problems'];
}

/** Fastify's own errors that mean "your request was wrong", mapped to what we say about them. */
const FRAMEWORK_ERRORS: Record<string, { status: number; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, message: 'the request body is larger than the server accepts' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, message: 'send the request body as application/json or application/x-www-form-urlencoded' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, message: 'the JSON body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, message: 'the request body is not valid JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, message: 'the Content-Length header does not match the body' },
  FST_ERR_BAD_URL: { status: 400, message: 'the URL is malformed' },
};

export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof ParamsInvalidError) {
    return { status: 400, code: error.code, message: error.summary, problems: error.problems };
  }
  if (error instanceof PortholeError) return { status: error.statusCode, code: error.code, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && FRAMEWORK_ERRORS[code]) return { ...FRAMEWORK_ERRORS[code], code: 'BAD_REQUEST' };
  const status = (error as { statusCode?: unknown }).statusCode;
  if (error instanceof SyntaxError || (typeof status === 'number' && status >= 400 && status < 500)) {
    return { status: typeof status === 'number' ? status : 400, code: 'BAD_REQUEST', message: 'the request could not be understood' };
  }
  return { status: 500, code: 'INTERNAL', message: 'something went wrong inside Porthole; the details are in its log' };
}

/** API paths answer JSON by default; everything else answers what a browser or curl expects. */
export function defaultFormat(request: FastifyRequest): Format {
  return request.url.startsWith('/api/') ? 'json' : 'text';
}

export function sendError(request: FastifyRequest, reply: FastifyReply, body: ErrorBody): FastifyReply {
  const format = negotiate(request.raw, defaultFormat(request));
  if (body.status === 429 || body.status === 503) void reply.header('retry-after', '1');
  void reply.code(body.status).type(CONTENT_TYPES[format === 'csv' ? 'text' : format]);
  if (format === 'json') return reply.send({ error: { code: body.code, message: body.message, ...(body.problems ? { problems: body.problems } : {}) } });
  const problems = body.problems?.map((p) => `${p.param}: ${p.reason} (allowed: ${p.allowed})`) ?? [];
  if (format === 'html') {
    const list = problems.length > 0 ? `<ul>${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul>` : '';
    return reply.send(page('Error', `<h1>${escapeHtml(reasonPhrase(body.status))}</h1>\n<p>${escapeHtml(body.message)}</p>${list}`));
  }
  return reply.send([body.message, ...problems.map((p) => `  ${p}`)].join('\n') + '\n');
}

/**
 * The one "not found" answer, the same for an unknown route, a hidden action and a denied
 * client, so a 404 reveals nothing about what exists.
 */
export function sendNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendPlainStatus(request, reply, 404, 'The requested URL was not found on the server.');
}

export function sendForbidden(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendPlainStatus(request, reply, 403, 'You do not have permission to access this resource.');
}

function sendPlainStatus(request: FastifyRequest, reply: FastifyReply, status: 403 | 404, message: string): FastifyReply {
  const format = negotiate(request.raw, 'text');
  void reply.code(status);
  if (format === 'json') return reply.type(CONTENT_TYPES.json).send({ error: { code: status === 404 ? 'NOT_FOUND' : 'FORBIDDEN', message } });
  if (format === 'html') return reply.type(CONTENT_TYPES.html).send(barePage(reasonPhrase(status), `<h1>${reasonPhrase(status)}</h1>\n<p>${message}</p>`));
  return reply.type(CONTENT_TYPES.text).send(`${message}\n`);
}

const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method not allowed', 409: 'Conflict', 413: 'Request too large',
  415: 'Unsupported media type', 429: 'Too busy', 500: 'Internal error', 502: 'The action failed', 503: 'Unavailable', 504: 'Timed out',
};

function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? `Error ${status}`;
}
