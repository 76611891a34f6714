import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Action } from '../core/action.js';
import { validateParams } from '../core/params.js';
import type { Run } from '../core/run.js';
import type { App } from './app.js';
import type { RawParams } from './params-input.js';
import { sendResult } from './respond.js';
import type { Format } from './negotiate.js';

/**
 * Validates raw parameters and starts (or joins) a run for this request. Throws
 * ParamsInvalidError (400), BUSY (429) or SHUTTING_DOWN (503) before anything runs.
 * `cachedAgeMs` is set when the answer is a stored result rather than a run now.
 */
export function startRun(app: App, request: FastifyRequest, action: Action, raw: RawParams): { run: Run; cachedAgeMs?: number } {
  const params = validateParams(action, raw);
  const who = request.principal.kind === 'user' ? { user: request.principal.user } : {};
  const { generation } = request;
  const run = app.executor.start(action, params, { source: 'http', clientIp: request.clientIp, ...who }, generation.scope);
  // The run may outlive the request (?wait=false): its datasources stay open until it ends.
  generation.users.holdUntil(run.result);
  // Only a cached result is finished the moment it is handed out.
  return run.finishedAt ? { run, cachedAgeMs: Date.now() - run.finishedAt.getTime() } : { run };
}

/** Runs and answers with the result once it is there. */
export async function runAndRespond(app: App, request: FastifyRequest, reply: FastifyReply, action: Action, raw: RawParams, format: Format): Promise<FastifyReply> {
  const { run, cachedAgeMs } = startRun(app, request, action, raw);
  const result = await run.result;
  return sendResult(reply, run, result, format, cachedAgeMs);
}
