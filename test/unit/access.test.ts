import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, isAdmin, type Need } from '../../src/access/decide.js';
import { IdentityResolver, passwordFingerprint } from '../../src/access/identity.js';
import { LoginThrottle } from '../../src/access/login-throttle.js';
import { hashPassword, isPasswordHash, verifyPassword } from '../../src/access/passwords.js';
import type { Principal } from '../../src/access/principal.js';
import type { Config } from '../../src/config/load.js';
import type { AuthConfig } from '../../src/config/schema.js';
import { AuditLog, SessionStore, TokenStore } from '../../src/store/auth-store.js';
import { openDatabase } from '../../src/store/database.js';
import { configFrom, tempDir } from '../helpers/config.js';

// ---------------------------------------------------------------------------------------------
// decide(): the one access check
// ---------------------------------------------------------------------------------------------

const ACTIONS = `
actions:
  open-to-all:
    command: [echo, a]
    allow: { view: { users: ["*"] } }
  by-user:
    command: [echo, b]
    allow: { view: { users: [vera] }, run: { users: [rune] } }
  by-group:
    command: [echo, c]
    allow: { view: { groups: [viewers] }, run: { groups: [runners] } }
  run-for-all:
    command: [echo, d]
    allow: { run: { users: ["*"] } }
  office-only:
    command: [echo, e]
    allow: { view: { groups: [viewers], networks: [10.1.0.0/16] }, run: { users: [rune], networks: [10.1.2.3] } }
  admins-only:
    command: [echo, f]
  empty-allow:
    command: [echo, g]
    allow: {}
`;

const withAuth = configFrom(`
auth:
  users:
    vera: { groups: [viewers] }
    rune: { groups: [runners] }
  admins: { users: [ada], groups: [ops] }
${ACTIONS}`);
// allow: needs an auth: section (a config error otherwise), so without auth the actions have none.
const withoutAuth = configFrom(`
actions:
  admins-only: { command: [echo, f] }
  by-user: { command: [echo, b] }
`);

function user(name: string, groups: string[] = [], ip: string | undefined = '127.0.0.1'): Principal {
  return { kind: 'user', user: name, groups, ip, via: 'session' };
}
const anonymous: Principal = { kind: 'anonymous', ip: '127.0.0.1' };

interface DecideCase {
  name: string;
  config: Config;
  who: Principal;
  action: string;
  need: Need;
  allowed: boolean;
  /** A piece of the rule text: it must name what decided. */
  rule: string;
}

const cases: DecideCase[] = [
  { name: 'no auth section: anonymous may run', config: withoutAuth, who: anonymous, action: 'admins-only', need: 'run', allowed: true, rule: 'no auth: section' },
  { name: 'no auth section: anonymous may view', config: withoutAuth, who: anonymous, action: 'by-user', need: 'view', allowed: true, rule: 'network allowlist alone' },
  { name: 'anonymous may not view an action open to "*"', config: withAuth, who: anonymous, action: 'open-to-all', need: 'view', allowed: false, rule: 'not signed in' },
  { name: 'anonymous may not run', config: withAuth, who: anonymous, action: 'run-for-all', need: 'run', allowed: false, rule: 'not signed in' },
  { name: 'admin by user may run an action without allow', config: withAuth, who: user('ada'), action: 'admins-only', need: 'run', allowed: true, rule: 'auth.admins: users lists ada' },
  { name: 'admin by group may view an action without allow', config: withAuth, who: user('otto', ['ops']), action: 'admins-only', need: 'view', allowed: true, rule: 'auth.admins: groups lists ops' },
  { name: 'admin by group may run a networks-restricted action from anywhere', config: withAuth, who: user('otto', ['ops'], '192.0.2.1'), action: 'office-only', need: 'run', allowed: true, rule: 'auth.admins' },
  { name: 'no allow: a plain user may not view', config: withAuth, who: user('vera', ['viewers']), action: 'admins-only', need: 'view', allowed: false, rule: 'has no allow: section, so only admins' },
  { name: 'empty allow: nobody but admins', config: withAuth, who: user('rune', ['runners']), action: 'empty-allow', need: 'view', allowed: false, rule: 'no rule in allow.view and allow.run of action "empty-allow" matches rune' },
  { name: 'view by user name', config: withAuth, who: user('vera'), action: 'by-user', need: 'view', allowed: true, rule: 'allow.view: users lists vera' },
  { name: 'view-only user may not run', config: withAuth, who: user('vera'), action: 'by-user', need: 'run', allowed: false, rule: 'no rule in allow.run of action "by-user" matches vera' },
  { name: 'run by user name', config: withAuth, who: user('rune'), action: 'by-user', need: 'run', allowed: true, rule: 'allow.run: users lists rune' },
  { name: 'run implies view (user)', config: withAuth, who: user('rune'), action: 'by-user', need: 'view', allowed: true, rule: 'allow.run: users lists rune (running includes viewing)' },
  { name: 'other user not listed', config: withAuth, who: user('mallory', ['staff']), action: 'by-user', need: 'view', allowed: false, rule: 'matches mallory (groups: staff)' },
  { name: 'view by group', config: withAuth, who: user('vera', ['viewers']), action: 'by-group', need: 'view', allowed: true, rule: 'allow.view: groups lists viewers, a group of vera' },
  { name: 'view group may not run', config: withAuth, who: user('vera', ['viewers']), action: 'by-group', need: 'run', allowed: false, rule: 'allow.run' },
  { name: 'run by group', config: withAuth, who: user('rune', ['x', 'runners']), action: 'by-group', need: 'run', allowed: true, rule: 'allow.run: groups lists runners, a group of rune' },
  { name: 'run group implies view', config: withAuth, who: user('rune', ['runners']), action: 'by-group', need: 'view', allowed: true, rule: '(running includes viewing)' },
  { name: 'user without groups', config: withAuth, who: user('nora'), action: 'by-group', need: 'view', allowed: false, rule: 'matches nora (groups: none)' },
  { name: '"*" in view: anyone signed in may view', config: withAuth, who: user('nora'), action: 'open-to-all', need: 'view', allowed: true, rule: 'users lists "*" (anyone signed in)' },
  { name: '"*" in view: not run', config: withAuth, who: user('nora'), action: 'open-to-all', need: 'run', allowed: false, rule: 'allow.run' },
  { name: '"*" in run: anyone signed in may run', config: withAuth, who: user('nora'), action: 'run-for-all', need: 'run', allowed: true, rule: 'allow.run: users lists "*"' },
  { name: '"*" in run: and view', config: withAuth, who: user('nora'), action: 'run-for-all', need: 'view', allowed: true, rule: 'running includes viewing' },
  { name: 'networks: view from inside the range', config: withAuth, who: user('vera', ['viewers'], '10.1.200.7'), action: 'office-only', need: 'view', allowed: true, rule: 'groups lists viewers, a group of vera from 10.1.200.7' },
  { name: 'networks: view refused from outside the range', config: withAuth, who: user('vera', ['viewers'], '10.2.0.1'), action: 'office-only', need: 'view', allowed: false, rule: 'no rule in allow.view and allow.run' },
  { name: 'networks: view refused with no known address', config: withAuth, who: user('vera', ['viewers'], undefined), action: 'office-only', need: 'view', allowed: false, rule: 'no rule' },
  { name: 'networks: run from the one address', config: withAuth, who: user('rune', [], '10.1.2.3'), action: 'office-only', need: 'run', allowed: true, rule: 'allow.run: users lists rune from 10.1.2.3' },
  { name: 'networks: run refused from the next address', config: withAuth, who: user('rune', [], '10.1.2.4'), action: 'office-only', need: 'run', allowed: false, rule: 'allow.run' },
  { name: 'networks: run from the address implies view there', config: withAuth, who: user('rune', [], '10.1.2.3'), action: 'office-only', need: 'view', allowed: true, rule: 'running includes viewing' },
  { name: 'networks: the run list outside its address gives no view', config: withAuth, who: user('rune', [], '10.9.9.9'), action: 'office-only', need: 'view', allowed: false, rule: 'no rule' },
];

describe('decide()', () => {
  it.each(cases)('$name', ({ config, who, action, need, allowed, rule }) => {
    const decision = decide(config.auth, who, config.actions.get(action)!, need);
    expect(decision.allowed).toBe(allowed);
    expect(decision.rule).toContain(rule);
  });

  it('isAdmin is true only for admins, by user or group, and never without auth', () => {
    expect(isAdmin(withAuth.auth, user('ada'))).toBe(true);
    expect(isAdmin(withAuth.auth, user('otto', ['ops']))).toBe(true);
    expect(isAdmin(withAuth.auth, user('rune', ['runners']))).toBe(false);
    expect(isAdmin(withAuth.auth, anonymous)).toBe(false);
    expect(isAdmin(withoutAuth.auth, user('ada'))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Passwords
// ---------------------------------------------------------------------------------------------

describe('passwords', () => {
  let hash: string;
  beforeAll(async () => {
    hash = await hashPassword('correct horse battery staple');
  });

  it('hash and verify round trip; hashes are salted', async () => {
    expect(hash).toMatch(/^scrypt\$/);
    expect(isPasswordHash(hash)).toBe(true);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    const again = await hashPassword('correct horse battery staple');
    expect(again).not.toBe(hash);
    expect(await verifyPassword('correct horse battery staple', again)).toBe(true);
  });

  it('a wrong password fails', async () => {
    expect(await verifyPassword('correct horse battery stapler', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('an unknown user (undefined hash) fails, even with an empty password', async () => {
    expect(await verifyPassword('correct horse battery staple', undefined)).toBe(false);
    expect(await verifyPassword('', undefined)).toBe(false);
  });

  it('a malformed hash fails instead of throwing', async () => {
    for (const bad of ['', 'scrypt$', 'scrypt$1$2$3$$', 'plain-text-password', hash.slice(0, -3) + '!!!', hash.replace('scrypt$', 'argon2$')]) {
      expect(isPasswordHash(bad)).toBe(false);
      expect(await verifyPassword('plain-text-password', bad)).toBe(false);
    }
  });

  it('unicode is normalised: NFC and NFD spellings are the same password', async () => {
    const nfc = 'Caf\u00e9-\u00c5ngstr\u00f6m';
    const nfd = nfc.normalize('NFD');
    expect(nfd).not.toBe(nfc);
    const fromNfd = await hashPassword(nfd);
    expect(await verifyPassword(nfc, fromNfd)).toBe(true);
    const fromNfc = await hashPassword(nfc);
    expect(await verifyPassword(nfd, fromNfc)).toBe(true);
    expect(await verifyPassword('Cafe-Angstrom', fromNfc)).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Login throttle
// ---------------------------------------------------------------------------------------------

describe('LoginThrottle', () => {
  const WINDOW = 60_000;
  const T0 = 1_700_000_000_000;

  it('limits failures per user name, whatever the address', () => {
    const throttle = new LoginThrottle(3, WINDOW);
    throttle.attempt('vera', '10.0.0.1', T0);
    throttle.attempt('vera', '10.0.0.2', T0 + 1);
    expect(throttle.retryAfter('vera', '10.0.0.3', T0 + 2)).toBe(0);
    throttle.attempt('vera', '10.0.0.3', T0 + 2);
    expect(throttle.retryAfter('vera', '10.0.0.4', T0 + 3)).toBeGreaterThan(0);
    // Case does not make a new user.
    expect(throttle.retryAfter('VERA', '10.0.0.5', T0 + 3)).toBeGreaterThan(0);
    // Another user from a fresh address is not affected.
    expect(throttle.retryAfter('rune', '10.0.0.9', T0 + 3)).toBe(0);
  });

  it('limits failures per address, whatever the user name', () => {
    const throttle = new LoginThrottle(3, WINDOW);
    throttle.attempt('a', '10.0.0.1', T0);
    throttle.attempt('b', '10.0.0.1', T0);
    throttle.attempt('c', '10.0.0.1', T0);
    expect(throttle.retryAfter('d', '10.0.0.1', T0 + 1)).toBeGreaterThan(0);
    expect(throttle.retryAfter('d', '10.0.0.2', T0 + 1)).toBe(0);
  });

  it('forgets failures once the window has passed (injected clock)', () => {
    const throttle = new LoginThrottle(2, WINDOW);
    throttle.attempt('vera', '10.0.0.1', T0);
    throttle.attempt('vera', '10.0.0.1', T0 + 10_000);
    // Blocked until the older of the two counted failures leaves the window.
    expect(throttle.retryAfter('vera', '10.0.0.1', T0 + 10_001)).toBe(WINDOW - 10_001);
    expect(throttle.retryAfter('vera', '10.0.0.1', T0 + WINDOW - 1)).toBe(1);
    expect(throttle.retryAfter('vera', '10.0.0.1', T0 + WINDOW)).toBe(0);
    // One failure is still inside the window: the next one blocks again.
    throttle.attempt('vera', '10.0.0.1', T0 + WINDOW);
    expect(throttle.retryAfter('vera', '10.0.0.1', T0 + WINDOW + 1)).toBeGreaterThan(0);
    expect(throttle.retryAfter('vera', '10.0.0.1', T0 + 10_000 + WINDOW)).toBe(0);
  });

  it('a success clears the user\'s count but not the address\'s, and does not count against its own address', () => {
    const throttle = new LoginThrottle(3, WINDOW);
    for (let i = 0; i < 2; i++) throttle.attempt('vera', '10.0.0.1', T0 + i);
    const succeeded = throttle.attempt('vera', '10.0.0.2', T0 + 3);
    succeeded();
    // vera's count is clear again: three new failures are needed to block her.
    for (let i = 0; i < 2; i++) throttle.attempt('vera', '10.0.0.5', T0 + 4 + i);
    expect(throttle.retryAfter('vera', '10.0.0.6', T0 + 7)).toBe(0);
    // The address that guessed keeps its two failures: one more, for any name, blocks it.
    throttle.attempt('rune', '10.0.0.1', T0 + 8);
    expect(throttle.retryAfter('someone', '10.0.0.1', T0 + 9)).toBeGreaterThan(0);
    // The successful login's own address is not held against it.
    expect(throttle.retryAfter('someone', '10.0.0.2', T0 + 9)).toBe(0);
  });

  it('stays bounded: a flood of 20 000 made-up names pushes out the oldest, while recent ones still count', () => {
    const throttle = new LoginThrottle(3, WINDOW);
    for (let i = 0; i < 3; i++) throttle.attempt('early-victim', '10.0.0.1', T0);
    expect(throttle.retryAfter('early-victim', '10.0.0.2', T0)).toBeGreaterThan(0);
    for (let i = 0; i < 20_000; i++) throttle.attempt(`made-up-${i}`, `10.9.${i >> 8}.${i & 255}`, T0 + 1);
    // The oldest entries were dropped to make room: 20 000 names (and 20 000 addresses) were not all kept.
    expect(throttle.retryAfter('early-victim', '10.0.0.2', T0 + 2)).toBe(0);
    expect(throttle.retryAfter('nobody-new', '10.0.0.1', T0 + 2)).toBe(0);
    // The most recent names are remembered: two more failures reach the limit of three.
    for (let i = 0; i < 2; i++) throttle.attempt('made-up-19999', '10.0.0.3', T0 + 2);
    expect(throttle.retryAfter('made-up-19999', '10.0.0.4', T0 + 3)).toBeGreaterThan(0);
  });

  it('stays bounded per key: after 20 000 failures of one address it keeps only the last few', () => {
    // Only the last maxFailures failures of a key can matter, so keeping more is memory
    // (and time, on every check) that grows with a flood instead of with the limit.
    const throttle = new LoginThrottle(3, WINDOW);
    for (let i = 0; i < 20_000; i++) throttle.attempt(`made-up-${i}`, '10.9.9.9', T0 + 1);
    expect(throttle.retryAfter('someone', '10.9.9.9', T0 + 2)).toBeGreaterThan(0);
    const kept = (throttle as unknown as { failures: Map<string, number[]> }).failures.get('ip:10.9.9.9');
    expect(kept).toEqual([T0 + 1, T0 + 1, T0 + 1]);
  });
});

// ---------------------------------------------------------------------------------------------
// IdentityResolver with a real SQLite store
// ---------------------------------------------------------------------------------------------

describe('IdentityResolver', () => {
  let db: Database.Database;
  let sessions: SessionStore;
  let tokens: TokenStore;
  let audit: AuditLog;
  let hash1: string;
  let hash2: string;

  const IDLE = 30 * 60_000;
  const ABSOLUTE = 12 * 3600_000;

  function authConfig(veraHash: string, extra = ''): AuthConfig {
    return configFrom(`
network: { trustedProxies: [127.0.0.1] }
auth:
  users:
    vera: { passwordHash: "${veraHash}", groups: [viewers] }
    rune: { passwordHash: "${veraHash}", groups: [runners] }
  session: { idleTimeout: 30m, absoluteTimeout: 12h }
  ${extra}
actions:
  a: { command: [echo] }
`).auth!;
  }

  function resolver(auth: AuthConfig, proxies: string[] = ['127.0.0.1']): IdentityResolver {
    return new IdentityResolver(auth, proxies, { sessions, tokens, audit });
  }

  function session(user: string, hash: string, times: { createdAt?: number; lastSeenAt?: number; expiresAt?: number } = {}): string {
    const now = Date.now();
    return sessions.create({
      user,
      groups: [],
      via: 'password',
      createdAt: times.createdAt ?? now,
      lastSeenAt: times.lastSeenAt ?? now,
      expiresAt: times.expiresAt ?? now + ABSOLUTE,
      fingerprint: passwordFingerprint(hash),
    });
  }

  const input = (over: Partial<Parameters<IdentityResolver['resolve']>[0]>) => ({ ip: '127.0.0.1', peer: '127.0.0.1', headers: {}, sessionId: undefined, ...over });

  beforeAll(async () => {
    db = openDatabase(path.join(tempDir('porthole-identity-'), 'data', 'porthole.db'));
    sessions = new SessionStore(db);
    tokens = new TokenStore(db);
    audit = new AuditLog(db);
    [hash1, hash2] = await Promise.all([hashPassword('first password'), hashPassword('second password')]);
  });
  afterAll(() => db.close());

  it('a fresh session resolves to its user with the groups the config gives now', () => {
    const id = session('vera', hash1);
    const result = resolver(authConfig(hash1)).resolve(input({ sessionId: id }));
    expect(result).toEqual({ principal: { kind: 'user', ip: '127.0.0.1', user: 'vera', groups: ['viewers'], via: 'session' } });
  });

  it('an unknown or made-up session id is anonymous', () => {
    const result = resolver(authConfig(hash1)).resolve(input({ sessionId: 'made-up-session-id' }));
    expect(result).toEqual({ principal: { kind: 'anonymous', ip: '127.0.0.1' } });
  });

  it('idle expiry with injected times: used within the idle time keeps it, a gap of the idle time ends it', () => {
    const t0 = 1_800_000_000_000;
    const id = sessions.create({ user: 'vera', groups: [], via: 'password', createdAt: t0, lastSeenAt: t0, expiresAt: t0 + ABSOLUTE, fingerprint: '' });
    expect(sessions.get(id, IDLE, t0 + IDLE - 1)?.user).toBe('vera');
    // Activity moved last-seen forward, so the idle clock starts again.
    expect(sessions.get(id, IDLE, t0 + 2 * IDLE - 2)?.user).toBe('vera');
    expect(sessions.get(id, IDLE, t0 + 3 * IDLE - 2)).toBeUndefined();
    // Gone for good, even at a time that would have been fine.
    expect(sessions.get(id, IDLE, t0)).toBeUndefined();
  });

  it('absolute expiry with injected times ends a session however active it is', () => {
    const t0 = 1_800_000_000_000;
    const id = sessions.create({ user: 'vera', groups: [], via: 'password', createdAt: t0, lastSeenAt: t0, expiresAt: t0 + 3 * 60_000, fingerprint: '' });
    expect(sessions.get(id, IDLE, t0 + 60_000)).toBeDefined();
    expect(sessions.get(id, IDLE, t0 + 2 * 60_000)).toBeDefined();
    expect(sessions.get(id, IDLE, t0 + 3 * 60_000)).toBeUndefined();
  });

  it('the resolver refuses idle and absolutely expired sessions', () => {
    const now = Date.now();
    const idle = session('vera', hash1, { createdAt: now - IDLE - 5_000, lastSeenAt: now - IDLE - 1_000 });
    const old = session('vera', hash1, { createdAt: now - ABSOLUTE, lastSeenAt: now - 1_000, expiresAt: now - 1 });
    const r = resolver(authConfig(hash1));
    expect(r.resolve(input({ sessionId: idle }))).toEqual({ principal: { kind: 'anonymous', ip: '127.0.0.1' } });
    expect(r.resolve(input({ sessionId: old }))).toEqual({ principal: { kind: 'anonymous', ip: '127.0.0.1' } });
  });

  it('a changed password hash ends password sessions opened with the old one', () => {
    const id = session('vera', hash1);
    expect(resolver(authConfig(hash1)).resolve(input({ sessionId: id }))).toMatchObject({ principal: { kind: 'user', user: 'vera' } });
    expect(resolver(authConfig(hash2)).resolve(input({ sessionId: id }))).toEqual({ principal: { kind: 'anonymous', ip: '127.0.0.1' } });
    // And it was removed server-side: going back to the old hash does not revive it.
    expect(resolver(authConfig(hash1)).resolve(input({ sessionId: id }))).toEqual({ principal: { kind: 'anonymous', ip: '127.0.0.1' } });
  });

  it('a session of a user removed from the config is refused', () => {
    const id = session('ghost', hash1);
    expect(resolver(authConfig(hash1)).resolve(input({ sessionId: id }))).toEqual({ principal: { kind: 'anonymous', ip: '127.0.0.1' } });
  });

  describe('trusted identity header', () => {
    const header = 'trustedHeader: { user: x-forwarded-user, groups: x-forwarded-groups }';

    it('is honoured when the TCP peer is a trusted proxy (plain or IPv4-mapped)', () => {
      const r = resolver(authConfig(hash1, header));
      for (const peer of ['127.0.0.1', '::ffff:127.0.0.1']) {
        const result = r.resolve(input({ peer, ip: '192.0.2.10', headers: { 'x-forwarded-user': 'admin', 'x-forwarded-groups': 'ops, staff' } }));
        expect(result).toEqual({ principal: { kind: 'user', ip: '192.0.2.10', user: 'admin', groups: ['ops', 'staff'], via: 'header' } });
      }
    });

    it('a spoofed X-Forwarded-User from 127.0.0.2 is ignored when trustedProxies is [127.0.0.1]', () => {
      const r = resolver(authConfig(hash1, header));
      for (const peer of ['127.0.0.2', '::ffff:127.0.0.2', undefined]) {
        const result = r.resolve(input({ peer, ip: '127.0.0.2', headers: { 'x-forwarded-user': 'admin', 'x-forwarded-groups': 'ops' } }));
        expect(result).toEqual({ principal: { kind: 'anonymous', ip: '127.0.0.2' } });
      }
    });

    it('is ignored when no proxy is trusted, and without a trustedHeader section', () => {
      expect(resolver(authConfig(hash1, header), []).resolve(input({ headers: { 'x-forwarded-user': 'admin' } }))).toMatchObject({ principal: { kind: 'anonymous' } });
      expect(resolver(authConfig(hash1)).resolve(input({ headers: { 'x-forwarded-user': 'admin' } }))).toMatchObject({ principal: { kind: 'anonymous' } });
    });

    it('an untrusted peer with a spoofed header still gets its own valid session, not the header\'s user', () => {
      const id = session('vera', hash1);
      const result = resolver(authConfig(hash1, header)).resolve(input({ peer: '127.0.0.2', headers: { 'x-forwarded-user': 'admin' }, sessionId: id }));
      expect(result).toMatchObject({ principal: { kind: 'user', user: 'vera', via: 'session' } });
    });
  });

  describe('API tokens', () => {
    it('verify: a valid token gives its user; the last use is recorded; use is audited', () => {
      const { token, record } = tokens.create('rune', 'monitoring');
      expect(token).toMatch(/^ph_/);
      expect(tokens.list('rune').find((t) => t.id === record.id)?.lastUsedAt).toBeUndefined();
      const at = new Date('2031-01-02T03:04:05.000Z');
      expect(tokens.verify(token, at)).toMatchObject({ user: 'rune', name: 'monitoring', lastUsedAt: at.toISOString() });
      expect(tokens.list('rune').find((t) => t.id === record.id)?.lastUsedAt).toBe(at.toISOString());

      const result = resolver(authConfig(hash1)).resolve(input({ headers: { authorization: `Bearer ${token}` } }));
      expect(result).toEqual({ principal: { kind: 'user', ip: '127.0.0.1', user: 'rune', groups: ['runners'], via: 'token' } });
      const last = tokens.list('rune').find((t) => t.id === record.id)!.lastUsedAt!;
      expect(Date.now() - Date.parse(last)).toBeLessThan(5_000);
      expect(audit.query({ user: 'rune', limit: 1 })[0]).toMatchObject({ event: 'token-used', user: 'rune', ip: '127.0.0.1', detail: 'monitoring' });
    });

    it('a token is stored only as a hash', () => {
      const { token, record } = tokens.create('rune', 'hash-only');
      // The secret is base64url and may itself hold "_", so it is cut by position, not split.
      const secret = token.slice(`ph_${record.id}_`.length);
      expect(secret).toHaveLength(32);
      const rows = db.prepare('SELECT * FROM tokens').all() as Record<string, unknown>[];
      expect(JSON.stringify(rows)).not.toContain(secret);
    });

    it('a wrong secret, a malformed token and an unknown id are refused', () => {
      const { token } = tokens.create('rune', 'wrong-secret');
      const last = token.slice(-1) === 'A' ? 'B' : 'A';
      const r = resolver(authConfig(hash1));
      for (const bad of [token.slice(0, -1) + last, token + 'x', 'ph_short', `ph_${'a'.repeat(12)}_${'b'.repeat(32)}`]) {
        expect(tokens.verify(bad)).toBeUndefined();
        expect(r.resolve(input({ headers: { authorization: `Bearer ${bad}` } }))).toEqual({ invalidToken: true });
      }
      expect(r.resolve(input({ headers: { authorization: `Basic ${token}` } }))).toEqual({ invalidToken: true });
    });

    it('expires', () => {
      const expiresAt = new Date(Date.now() + 60_000);
      const { token } = tokens.create('rune', 'short-lived', expiresAt);
      expect(tokens.verify(token, new Date(expiresAt.getTime() - 1))).toBeDefined();
      expect(tokens.verify(token, expiresAt)).toBeUndefined();
      const { token: expired } = tokens.create('rune', 'already-expired', new Date(Date.now() - 1));
      expect(resolver(authConfig(hash1)).resolve(input({ headers: { authorization: `Bearer ${expired}` } }))).toEqual({ invalidToken: true });
    });

    it('revoke takes effect at once, by id or by user and name; revoking twice reports nothing to revoke', () => {
      const a = tokens.create('rune', 'revoke-by-id');
      const b = tokens.create('rune', 'revoke-by-name');
      expect(tokens.verify(a.token)).toBeDefined();
      expect(tokens.revoke({ id: a.record.id })).toBe(true);
      expect(tokens.verify(a.token)).toBeUndefined();
      expect(tokens.revoke({ id: a.record.id })).toBe(false);
      expect(tokens.revoke({ user: 'rune', name: 'revoke-by-name' })).toBe(true);
      expect(tokens.verify(b.token)).toBeUndefined();
      expect(tokens.list('rune').find((t) => t.id === b.record.id)?.revokedAt).toBeDefined();
    });

    it('one name per user', () => {
      tokens.create('rune', 'unique');
      expect(() => tokens.create('rune', 'unique')).toThrow(/already has a token named "unique"/);
      expect(tokens.create('vera', 'unique').record.user).toBe('vera');
    });
  });
});
