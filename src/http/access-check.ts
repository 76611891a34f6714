import type { FastifyReply, FastifyRequest } from 'fastify';
import { decide, type Need } from '../access/decide.js';
import type { Action } from '../core/action.js';
import type { App } from './app.js';
import { sendError } from './errors.js';
import { pathOf } from './params-input.js';

/**
 * The one place routes ask "may this person see / run this action". Every route that
 * touches an action goes through here: lists, pages, API, results, history, streams,
 * downloads. A hidden action answers exactly like one that does not exist.
 */
export function may(app: App, request: FastifyRequest, action: Action, need: Need): boolean {
  const { auth } = request.generation.config;
  const decision = decide(auth, request.principal, action, need);
  if (!decision.allowed && auth) {
    app.metrics.denied('forbidden');
    app.store.audit.record({
      event: 'denied',
      user: request.principal.kind === 'user' ? request.principal.user : undefined,
      ip: request.clientIp,
      action: action.id,
      outcome: need,
      detail: `${request.method} ${pathOf(request.url)}`,
    });
  }
  return decision.allowed;
}

/** The action named in the URL if this person may see it; otherwise undefined, to be answered with 404. */
export function visibleAction(app: App, request: FastifyRequest, id: string): Action | undefined {
  const action = request.generation.config.actions.get(id);
  return action && may(app, request, action, 'view') ? action : undefined;
}

/** Actions this person may see, in config order, for lists and the dashboard. */
export function visibleActions(request: FastifyRequest): Action[] {
  const { actions, auth } = request.generation.config;
  return [...actions.values()].filter((action) => decide(auth, request.principal, action, 'view').allowed);
}

/** Sends 403 when the person may see the action but not run it; returns whether they may. */
export function ensureMayRun(app: App, request: FastifyRequest, reply: FastifyReply, action: Action): boolean {
  if (may(app, request, action, 'run')) return true;
  void sendError(request, reply, { status: 403, code: 'FORBIDDEN', message: `you may look at action "${action.id}" but not run it; ask an administrator, who can check with porthole explain` });
  return false;
}
