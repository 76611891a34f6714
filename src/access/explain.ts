import type { Config } from '../config/load.js';
import { decide, type Decision } from './decide.js';
import type { Principal } from './principal.js';

export interface Explanation {
  user: string;
  groups: readonly string[];
  action: string;
  view: Decision;
  run: Decision;
}

/**
 * Whether a user may view and run an action, and which rule decided: the answer to
 * "why can't I see this action?". Groups come from the config unless given (for people
 * whose groups come from single sign-on or a proxy).
 */
export function explain(config: Config, user: string, actionId: string, groups?: readonly string[]): Explanation | { error: string } {
  const action = config.actions.get(actionId);
  if (!action) return { error: `no action "${actionId}"; defined: ${[...config.actions.keys()].join(', ')}` };
  const principal: Principal = { kind: 'user', ip: undefined, user, groups: groups ?? config.auth?.users[user]?.groups ?? [], via: 'session' };
  return { user, groups: principal.groups, action: actionId, view: decide(config.auth, principal, action, 'view'), run: decide(config.auth, principal, action, 'run') };
}

export function formatExplanation(e: Explanation): string {
  const verdict = (d: Decision) => `${d.allowed ? 'yes' : 'no'} — ${d.rule}`;
  return [`${e.user} (groups: ${e.groups.join(', ') || 'none'}) and action "${e.action}":`, `  may view: ${verdict(e.view)}`, `  may run:  ${verdict(e.run)}`].join('\n');
}
