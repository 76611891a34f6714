import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Action } from '../../core/action.js';
import type { App } from '../app.js';
import { FORMAT_SUFFIXES, negotiate, type Format } from '../negotiate.js';
import { paramsFromBody, paramsFromUrl } from '../params-input.js';
import { runAndRespond } from '../run-request.js';
import { sendMethodNotAllowed } from './api.js';
import { ensureMayRun, may } from '../access-check.js';
import { sendNotFound } from '../errors.js';


/** `/status/` → `/status.json`, `/status.csv`, …; `/report` → `/report.json`, … */
function suffixed(path: string, suffix: string): string {
  return `${path.endsWith('/') && path.length > 1 ? path.slice(0, -1) : path}${suffix}`;
}

/**
 * Each action's `path:`, for old links and scripts such as the seed's `/status/`. A browser
 * gets a page, curl gets text, an API client gets JSON; a suffix picks the format outright.
 */
export const aliasRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  for (const action of app.config.actions.values()) {
    if (!action.path) continue;
    register(action, action.path, undefined);
    for (const [suffix, format] of Object.entries(FORMAT_SUFFIXES)) register(action, suffixed(action.path, suffix), format);
  }

  function register(action: Action, url: string, format: Format | undefined): void {
    fastify.get(url, async (request, reply) => {
      if (!may(app, request, action, 'view')) return sendNotFound(request, reply);
      if (!action.safe) return sendMethodNotAllowed(request, reply, action);
      return runAndRespond(app, request, reply, action, paramsFromUrl(request.url, app.config.server.maxParams), format ?? negotiate(request.raw, 'text'));
    });
    fastify.post(url, async (request: FastifyRequest, reply) => {
      if (!may(app, request, action, 'view')) return sendNotFound(request, reply);
      if (!ensureMayRun(app, request, reply, action)) return reply;
      const raw = paramsFromBody(request, app.config.server.maxParams);
      return runAndRespond(app, request, reply, action, raw, format ?? negotiate(request.raw, 'text'));
    });
  }
};
