import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Action } from '../../core/action.js';
import type { Run } from '../../core/run.js';
import { PortholeError } from '../../core/errors.js';
import { actionInfo } from '../action-info.js';
import { ensureMayRun, visibleAction, visibleActions } from '../access-check.js';
import type { App } from '../app.js';
import { sendError, sendNotFound } from '../errors.js';
import { FORMAT_SUFFIXES, negotiate } from '../negotiate.js';
import { paramsFromBody, paramsFromUrl } from '../params-input.js';
import { runAndRespond, startRun } from '../run-request.js';
import { sendResult as sendStoredResult } from '../respond.js';

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type ActionRequest = FastifyRequest<{ Params: { id: string } }>;
type RunRequest = FastifyRequest<{ Params: { id: string; run: string } }>;

export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}

/** The run with this id if it is one of the action's and has not finished yet. */
export function unfinishedRun(app: App, action: Action, runId: string): Run | undefined {
  const run = app.executor.get(runId);
  return run && run.action.id === action.id && run.status !== 'finished' ? run : undefined;
}

/** Where a run and its event stream are found. */
function runLinks(actionId: string, runId: string): { self: string; events: string } {
  const self = `/api/actions/${actionId}/runs/${runId}`;
  return { self, events: `${self}/events` };
}

/** Refuses GET for an action with side effects: it may only run on POST. */
export function sendMethodNotAllowed(request: FastifyRequest, reply: FastifyReply, action: Action): FastifyReply {
  void reply.header('allow', 'POST');
  return sendError(request, reply, {
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    message: `action "${action.id}" changes things on the server, so it runs only on POST`,
  });
}

export const apiRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  fastify.get('/api/actions', async (request) => ({ actions: visibleActions(request).map(actionInfo) }));

  fastify.get('/api/actions/:id', async (request: ActionRequest, reply) => {
    const action = visibleAction(app, request, request.params.id);
    return action ? actionInfo(action) : sendNotFound(request, reply);
  });

  for (const [suffix, format] of Object.entries({ '': undefined, ...FORMAT_SUFFIXES })) {
    fastify.get(`/api/actions/:id/result${suffix}`, async (request: ActionRequest, reply) => {
      const action = visibleAction(app, request, request.params.id);
      if (!action) return sendNotFound(request, reply);
      if (!action.safe) return sendMethodNotAllowed(request, reply, action);
      return runAndRespond(app, request, reply, action, paramsFromUrl(request.url, request.generation.config.server.maxParams), format ?? negotiate(request.raw, 'json'));
    });
  }

  fastify.post('/api/actions/:id/runs', async (request: FastifyRequest<{ Params: { id: string }; Querystring: { wait?: string } }>, reply) => {
    const action = visibleAction(app, request, request.params.id);
    if (!action) return sendNotFound(request, reply);
    if (!ensureMayRun(app, request, reply, action)) return reply;
    const raw = paramsFromBody(request, request.generation.config.server.maxParams);
    if (request.query.wait === 'false' || request.query.wait === '0') {
      const { run } = startRun(app, request, action, raw);
      const links = runLinks(action.id, run.id);
      return reply.code(202).header('location', links.self).send({ id: run.id, actionId: action.id, status: run.status, links });
    }
    return runAndRespond(app, request, reply, action, raw, negotiate(request.raw, 'json'));
  });

  fastify.get('/api/actions/:id/runs', async (request: FastifyRequest<{ Params: { id: string }; Querystring: { limit?: string; before?: string } }>, reply) => {
    const action = visibleAction(app, request, request.params.id);
    if (!action) return sendNotFound(request, reply);
    const limit = request.query.limit === undefined ? 50 : Number(request.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      throw new PortholeError('PARAMS_INVALID', 'limit must be a whole number from 1 to 500');
    }
    const before = request.query.before;
    if (before !== undefined && Number.isNaN(Date.parse(before))) throw new PortholeError('PARAMS_INVALID', 'before must be an ISO 8601 time');
    const records = await app.store.history.list(action.id, { limit, ...(before ? { before: new Date(before).toISOString() } : {}) });
    return { runs: records.map((r) => ({ ...r, status: app.executor.get(r.id)?.status ?? r.status })) };
  });

  fastify.get('/api/actions/:id/runs/:run', async (request: RunRequest, reply) => {
    const action = visibleAction(app, request, request.params.id);
    if (!action || !isRunId(request.params.run)) return sendNotFound(request, reply);
    const active = unfinishedRun(app, action, request.params.run);
    if (active) return { id: active.id, actionId: action.id, status: active.status, queuedAt: active.queuedAt.toISOString(), links: runLinks(action.id, active.id) };
    const record = await app.store.history.get(request.params.run);
    return record && record.actionId === action.id ? record : sendNotFound(request, reply);
  });

  for (const [suffix, format] of Object.entries(FORMAT_SUFFIXES)) {
    fastify.get(`/api/actions/:id/runs/:run/result${suffix}`, async (request: RunRequest, reply) => {
      const action = visibleAction(app, request, request.params.id);
      if (!action || !isRunId(request.params.run)) return sendNotFound(request, reply);
      const record = await app.store.history.get(request.params.run);
      if (!record?.result || record.actionId !== action.id) return sendNotFound(request, reply);
      void reply.header('content-disposition', `attachment; filename="${action.id}-${record.id.slice(0, 8)}${suffix}"`);
      return sendStoredResult(reply, { id: record.id, action }, record.result, format);
    });
  }

  fastify.delete('/api/actions/:id/runs/:run', async (request: RunRequest, reply) => {
    const action = visibleAction(app, request, request.params.id);
    if (!action || !isRunId(request.params.run)) return sendNotFound(request, reply);
    const active = unfinishedRun(app, action, request.params.run);
    if (active) {
      if (!ensureMayRun(app, request, reply, action)) return reply;
      active.cancel();
      request.log.info({ runId: active.id, action: action.id, ip: request.clientIp }, 'run cancelled');
      return reply.code(202).send({ id: active.id, status: 'cancelling' });
    }
    const record = await app.store.history.get(request.params.run);
    if (!record || record.actionId !== action.id) return sendNotFound(request, reply);
    return sendError(request, reply, { status: 409, code: 'ALREADY_FINISHED', message: 'the run has already finished' });
  });
};
