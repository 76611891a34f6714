import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Action } from '../../core/action.js';
import type { App } from '../app.js';
import { FORMAT_SUFFIXES, negotiate, type Format } from '../negotiate.js';
import { paramsFromBody, paramsFromUrl } from '../params-input.js';
import { runAndRespond } from '../run-request.js';
import { sendMethodNotAllowed } from './api.js';
import { ensureMayRun, may } from '../access-check.js';
import { sendNotFound } from '../errors.js';

export interface Alias {
  action: Action;
  /** Set by a suffix such as `.json`; otherwise the request's Accept header decides. */
  format: Format | undefined;
}

/** Action paths by URL path, without a trailing slash (the router ignores one). */
export type AliasTable = ReadonlyMap<string, Alias>;

function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** `/status/` → `/status`, `/status.json`, `/status.csv`, …; `/report` → `/report`, `/report.json`, … */
export function aliasTable(actions: ReadonlyMap<string, Action>): AliasTable {
  const table = new Map<string, Alias>();
  for (const action of actions.values()) {
    if (!action.path) continue;
    const bare = withoutTrailingSlash(action.path);
    table.set(bare, { action, format: undefined });
    for (const [suffix, format] of Object.entries(FORMAT_SUFFIXES)) table.set(`${bare}${suffix}`, { action, format });
  }
  return table;
}

/**
 * Each action's `path:`, for old links and scripts such as the seed's `/status/`. A browser
 * gets a page, curl gets text, an API client gets JSON; a suffix picks the format outright.
 * Routes cannot be removed once registered, so one catch-all route looks the path up in the
 * request's config: a reload adds, moves and removes paths. Every other route wins over it.
 */
export const aliasRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  fastify.route({
    method: ['GET', 'POST'],
    url: '*',
    handler: async (request: FastifyRequest<{ Params: { '*': string } }>, reply) => {
      const alias = request.generation.aliases.get(request.params['*']);
      if (!alias || !may(app, request, alias.action, 'view')) return sendNotFound(request, reply);
      const { action, format } = alias;
      const { maxParams } = request.generation.config.server;
      if (request.method === 'POST') {
        if (!ensureMayRun(app, request, reply, action)) return reply;
        return runAndRespond(app, request, reply, action, paramsFromBody(request, maxParams), format ?? negotiate(request.raw, 'text'));
      }
      if (!action.safe) return sendMethodNotAllowed(request, reply, action);
      return runAndRespond(app, request, reply, action, paramsFromUrl(request.url, maxParams), format ?? negotiate(request.raw, 'text'));
    },
  });
};
