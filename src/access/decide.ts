import type { AuthConfig, PrincipalList } from '../config/schema.js';
import type { Action } from '../core/action.js';
import { AddressList } from './address-list.js';
import type { Principal } from './principal.js';

export type Need = 'view' | 'run';

export interface Decision {
  allowed: boolean;
  /** Which rule decided, in words, for `porthole explain` and the admin page. */
  rule: string;
}

// Parsed once per list, not on every check: decide() runs for every action on every request.
const networkLists = new WeakMap<PrincipalList, AddressList>();

function networksOf(list: PrincipalList): AddressList {
  let parsed = networkLists.get(list);
  if (!parsed) networkLists.set(list, (parsed = new AddressList(list.networks)));
  return parsed;
}

function matches(list: PrincipalList, principal: Principal): string | undefined {
  if (principal.kind !== 'user') return undefined;
  if (list.networks.length > 0 && !networksOf(list).contains(principal.ip)) return undefined;
  const where = list.networks.length > 0 ? ` from ${principal.ip ?? 'an unknown address'}` : '';
  if (list.users.includes('*')) return `users lists "*" (anyone signed in)${where}`;
  if (list.users.includes(principal.user)) return `users lists ${principal.user}${where}`;
  const group = principal.groups.find((g) => list.groups.includes(g));
  return group === undefined ? undefined : `groups lists ${group}, a group of ${principal.user}${where}`;
}

/** Admins are named by user and group only. */
function adminList(auth: AuthConfig): PrincipalList {
  return { ...auth.admins, networks: [] };
}

/**
 * The one access check. Without an auth section everyone past the network gate may view
 * and run everything. With one, nobody may until a rule says so; admins may do anything.
 */
export function decide(auth: AuthConfig | undefined, principal: Principal, action: Action, need: Need): Decision {
  if (!auth) return { allowed: true, rule: 'no auth: section, so the network allowlist alone decides' };
  if (principal.kind !== 'user') return { allowed: false, rule: 'not signed in' };
  const admin = matches(adminList(auth), principal);
  if (admin) return { allowed: true, rule: `auth.admins: ${admin}` };
  if (!action.allow) return { allowed: false, rule: `action "${action.id}" has no allow: section, so only admins may use it` };
  const run = matches(action.allow.run, principal);
  if (run) return { allowed: true, rule: `allow.run: ${run}${need === 'view' ? ' (running includes viewing)' : ''}` };
  if (need === 'view') {
    const view = matches(action.allow.view, principal);
    if (view) return { allowed: true, rule: `allow.view: ${view}` };
  }
  const lists = need === 'view' ? 'allow.view and allow.run' : 'allow.run';
  return { allowed: false, rule: `no rule in ${lists} of action "${action.id}" matches ${principal.user} (groups: ${principal.groups.join(', ') || 'none'})` };
}

export function isAdmin(auth: AuthConfig | undefined, principal: Principal): boolean {
  return auth !== undefined && principal.kind === 'user' && matches(adminList(auth), principal) !== undefined;
}
