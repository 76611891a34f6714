import type { FastifyRequest } from 'fastify';
import { PortholeError } from '../core/errors.js';

/** Raw, unvalidated parameters as they arrived; only validateParams turns them into something runnable. */
export type RawParams = Record<string, unknown>;

function tooMany(count: number, max: number): PortholeError {
  return new PortholeError('PARAMS_INVALID', `too many parameters: ${count} given, at most ${max} accepted`);
}

/** A request URL without its query string, for logs and the audit trail. */
export function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Parameters from a query string. A repeated name becomes a list, which validation refuses. */
export function paramsFromUrl(url: string, maxParams: number): RawParams {
  const query = url.indexOf('?');
  const search = new URLSearchParams(query === -1 ? '' : url.slice(query + 1));
  const names = [...search.keys()];
  if (names.length > maxParams) throw tooMany(names.length, maxParams);
  return Object.fromEntries([...new Set(names)].map((name) => {
    const values = search.getAll(name);
    return [name, values.length === 1 ? values[0] : values];
  }));
}

/**
 * Parameters from a request body: JSON `{"params": {...}}`, or form fields from an HTML form.
 * Anything else is refused with a message saying what to send.
 */
export function paramsFromBody(request: FastifyRequest, maxParams: number): RawParams {
  const { body } = request;
  const isForm = String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new PortholeError('PARAMS_INVALID', 'send parameters as a JSON object: {"params": {"name": "value"}}');
  }
  let params: unknown = body;
  if (!isForm) {
    const extra = Object.keys(body).filter((key) => key !== 'params');
    if (extra.length > 0) throw new PortholeError('PARAMS_INVALID', `unknown field ${JSON.stringify(extra[0])} in the request body; send {"params": {"name": "value"}}`);
    params = (body as { params?: unknown }).params ?? {};
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      throw new PortholeError('PARAMS_INVALID', '"params" must be an object of name: value pairs');
    }
  }
  // Form fields starting with "_" are Porthole's own (_csrf, _confirm), never parameters.
  const own = isForm ? Object.fromEntries(Object.entries(params as object).filter(([name]) => !name.startsWith('_'))) : (params as RawParams);
  const count = Object.keys(own).length;
  if (count > maxParams) throw tooMany(count, maxParams);
  return own;
}
