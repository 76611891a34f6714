import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthConfig } from '../config/schema.js';
import type { AuditLog, SessionStore, TokenStore } from '../store/auth-store.js';
import { AddressList } from './address-list.js';
import type { Principal } from './principal.js';

/** What identity resolution needs to see of a request; decided once, after the network gate. */
export interface IdentityInput {
  ip: string | undefined;
  /** The TCP peer, for deciding whether identity headers may be believed. */
  peer: string | undefined;
  headers: IncomingHttpHeaders;
  sessionId: string | undefined;
}

export type IdentityResult = { principal: Principal } | { invalidToken: true };

/** Ties a password session to the hash it was opened with: changing the password ends the session. */
export function passwordFingerprint(hash: string | undefined): string {
  return hash === undefined ? '' : createHash('sha256').update(hash).digest('hex').slice(0, 32);
}

/**
 * Whether a token may act for `user`: a local user still in the config, or anyone when
 * people also come from single sign-on or a proxy (which Porthole cannot list).
 */
export function mayHoldToken(auth: AuthConfig, user: string): boolean {
  return auth.users[user] !== undefined || auth.oidc !== undefined || auth.trustedHeader !== undefined;
}

/**
 * Who is asking: a bearer token, an identity header from a trusted proxy, or a session
 * cookie, in that order. Anything that fails to check out leaves the request anonymous,
 * except a bad bearer token, which is refused outright (a script should hear about it).
 */
export class IdentityResolver {
  private readonly proxies: AddressList;

  constructor(
    private readonly auth: AuthConfig,
    trustedProxies: readonly string[],
    private readonly stores: { sessions: SessionStore; tokens: TokenStore; audit: AuditLog },
  ) {
    this.proxies = new AddressList(trustedProxies);
  }

  resolve(input: IdentityInput): IdentityResult {
    const { ip } = input;
    const authorization = input.headers.authorization;
    if (authorization !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(authorization);
      const token = m ? this.stores.tokens.verify(m[1]!) : undefined;
      if (!token || !mayHoldToken(this.auth, token.user)) return { invalidToken: true };
      this.stores.audit.record({ event: 'token-used', user: token.user, ip, detail: token.name });
      return { principal: { kind: 'user', ip, user: token.user, groups: this.groupsOf(token.user), via: 'token' } };
    }
    const header = this.auth.trustedHeader;
    if (header && this.proxies.contains(input.peer)) {
      const user = single(input.headers[header.user.toLowerCase()]);
      if (user) {
        const given = header.groups ? (single(input.headers[header.groups.toLowerCase()]) ?? '').split(',').map((g) => g.trim()).filter(Boolean) : [];
        return { principal: { kind: 'user', ip, user, groups: [...new Set([...given, ...this.groupsOf(user)])], via: 'header' } };
      }
    }
    if (input.sessionId) {
      const session = this.stores.sessions.get(input.sessionId, this.auth.session.idleTimeout);
      if (session && this.stillValid(session.user, session.via, session.fingerprint)) {
        // Local users' groups come from the config as it is now; a provider's, from when they signed in.
        const groups = session.via === 'password' ? this.groupsOf(session.user) : session.groups;
        return { principal: { kind: 'user', ip, user: session.user, groups, via: 'session' } };
      }
      if (session) this.stores.sessions.delete(input.sessionId);
    }
    return { principal: { kind: 'anonymous', ip } };
  }

  /** Groups the config gives a user (local users; others get theirs from the provider or proxy). */
  groupsOf(user: string): string[] {
    return this.auth.users[user]?.groups ?? [];
  }

  private stillValid(user: string, via: 'password' | 'oidc', fingerprint: string): boolean {
    if (via === 'oidc') return true;
    const hash = this.auth.users[user]?.passwordHash;
    return hash !== undefined && passwordFingerprint(hash) === fingerprint;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.trim() || undefined;
}
