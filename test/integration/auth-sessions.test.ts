import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/access/passwords.js';
import { AuditLog, TokenStore } from '../../src/store/auth-store.js';
import { openDatabase } from '../../src/store/database.js';
import { porthole } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { request, startServer, type Response, type TestServer } from '../helpers/server.js';
import { CookieJar } from '../helpers/cookie-jar.js';

/** Sessions, CSRF, throttling, tokens, trusted headers and the audit log, over real sockets. */

const USERS = ['vera', 'rune', 'ada', 'audra'] as const;
type User = (typeof USERS)[number];
const password = (user: string) => `${user}-password-1234`;
const hashes = {} as Record<User, string>;

function yaml(dir: string, options: { hashes?: Partial<Record<User, string>>; auth?: string } = {}): string {
  const h = { ...hashes, ...options.hashes };
  const allow = 'allow: { view: { groups: [viewers] }, run: { groups: [runners] } }';
  return `
network: { allow: [127.0.0.0/8, "::1"], trustedProxies: [127.0.0.1] }
server: { shutdownGrace: 1s }
auth:
  users:
    vera: { passwordHash: "${h.vera}", groups: [viewers] }
    rune: { passwordHash: "${h.rune}", groups: [runners] }
    ada: { passwordHash: "${h.ada}" }
    audra: { passwordHash: "${h.audra}", groups: [viewers] }
  admins: { users: [ada, admin] }
  trustedHeader: { user: x-forwarded-user }
${options.auth ?? ''}
actions:
  thing:
    title: Thing
    command: [echo, thing-output]
    safe: true
    ${allow}
  touch:
    title: Touch
    command: [touch, "${dir}/canary-{{who}}"]
    params:
      who: { type: string, pattern: "[a-z0-9-]+" }
    ${allow}
`;
}

const SESSION = 'porthole_session';
const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? /name="csrf-token" content="([^"]+)"/.exec(html)?.[1];
const sessionCookieLine = (res: Response) => (res.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${SESSION}=`));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LoginAttempt {
  res: Response;
  jar: CookieJar;
  /** The login page's token (good for later requests too: it belongs to the jar's CSRF cookie). */
  csrf: string;
}

/** The real login form: GET /login for its token and cookie, then POST it. */
async function login(
  server: TestServer,
  user: string,
  pass = password(user),
  options: { localAddress?: string; jar?: CookieJar; headers?: Record<string, string>; omitCsrf?: boolean } = {},
): Promise<LoginAttempt> {
  const jar = options.jar ?? new CookieJar();
  const form = await request(server.port, '/login', { headers: { accept: 'text/html', cookie: jar.header() }, localAddress: options.localAddress });
  expect(form.status).toBe(200);
  jar.take(form);
  const csrf = csrfOf(form.body)!;
  const fields: Record<string, string> = { user, password: pass, next: '/' };
  if (!options.omitCsrf) fields._csrf = csrf;
  const res = await request(server.port, '/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: jar.header(), ...options.headers },
    body: new URLSearchParams(fields).toString(),
    localAddress: options.localAddress,
  });
  jar.take(res);
  return { res, jar, csrf };
}

async function signedIn(server: TestServer, user: User): Promise<LoginAttempt> {
  const attempt = await login(server, user);
  expect(attempt.res.status, attempt.res.body).toBe(303);
  return attempt;
}

const api = (server: TestServer, url: string, headers: Record<string, string> = {}, localAddress?: string) =>
  request(server.port, url, { headers: { accept: 'application/json', ...headers }, localAddress });

const withCookie = (value: string) => ({ cookie: `${SESSION}=${value}` });

function runTouch(server: TestServer, who: string, headers: Record<string, string>, localAddress?: string): Promise<Response> {
  return request(server.port, '/api/actions/touch/runs', {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ params: { who } }),
    localAddress,
  });
}

// ---------------------------------------------------------------------------------------------

const opened: TestServer[] = [];
async function serve(text: string, dir: string): Promise<TestServer> {
  writeConfig(text, dir);
  const server = await startServer(text, { dir });
  opened.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

const mainDir = tempDir('porthole-sessions-');
const mainFile = path.join(mainDir, 'porthole.yaml');
let main: TestServer;

beforeAll(async () => {
  for (const [user, hash] of await Promise.all(USERS.map(async (u) => [u, await hashPassword(password(u))] as const))) hashes[user] = hash;
  const text = yaml(mainDir);
  writeConfig(text, mainDir);
  main = await startServer(text, { dir: mainDir });
}, 30_000);
afterAll(async () => {
  await main?.close();
});

describe('sessions', () => {
  it('session fixation: a cookie value set before login is not the one after it, and gives no access', async () => {
    const planted = 'attacker-chosen-session-value-0123456789abcdef';
    const jar = new CookieJar();
    jar.cookies.set(SESSION, planted);
    const { res } = await login(main, 'rune', password('rune'), { jar });
    expect(res.status).toBe(303);
    const after = jar.cookies.get(SESSION);
    expect(after).toBeDefined();
    expect(after).not.toBe(planted);
    expect((await api(main, '/api/actions', withCookie(planted))).status).toBe(401);
    expect((await api(main, '/api/actions', withCookie(after!))).status).toBe(200);
  });

  it('session fixation: a valid session planted in a browser is replaced at login, and ends', async () => {
    const attacker = await signedIn(main, 'vera');
    const plantedId = attacker.jar.cookies.get(SESSION)!;
    expect((await api(main, '/api/actions', withCookie(plantedId))).status).toBe(200);
    // The victim's browser carries the attacker's session when the victim signs in.
    const victim = await login(main, 'rune', password('rune'), { jar: attacker.jar });
    expect(victim.res.status).toBe(303);
    const victimId = victim.jar.cookies.get(SESSION)!;
    expect(victimId).not.toBe(plantedId);
    expect((await api(main, '/api/actions', withCookie(plantedId))).status).toBe(401);
    const mine = await runTouch(main, 'fixation-victim', { cookie: victim.jar.header(), 'x-csrf-token': victim.csrf });
    expect(mine.status, mine.body).toBe(200);
  });

  it('logout ends the session server-side: the old cookie replayed no longer works', async () => {
    const { jar, csrf } = await signedIn(main, 'vera');
    const id = jar.cookies.get(SESSION)!;
    expect((await api(main, '/api/actions', withCookie(id))).status).toBe(200);
    // Without the CSRF token another site could sign people out: refused, session kept.
    const forged = await request(main.port, '/logout', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() }, body: '' });
    expect(forged.status).toBe(403);
    expect((await api(main, '/api/actions', withCookie(id))).status).toBe(200);

    const res = await request(main.port, '/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: jar.header() },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/login');
    expect(sessionCookieLine(res)).toMatch(new RegExp(`^${SESSION}=;`));
    const replay = await api(main, '/api/actions', withCookie(id));
    expect(replay.status).toBe(401);
    expect(replay.headers['www-authenticate']).toMatch(/^Bearer/);
    const browser = await request(main.port, '/', { headers: { accept: 'text/html', ...withCookie(id) } });
    expect(browser.status).toBe(303);
    expect(browser.headers.location).toMatch(/^\/login/);
  });

  it('a changed password (service restarted with a new hash, same data dir) ends existing sessions', async () => {
    const dir = tempDir('porthole-password-change-');
    let server = await serve(yaml(dir), dir);
    const { jar } = await signedIn(server, 'vera');
    const id = jar.cookies.get(SESSION)!;
    expect((await api(server, '/api/actions', withCookie(id))).status).toBe(200);
    await server.close();

    const newHash = await hashPassword('a brand new password');
    server = await serve(yaml(dir, { hashes: { vera: newHash } }), dir);
    expect((await api(server, '/api/actions', withCookie(id))).status).toBe(401);
    // The old password no longer opens one; the new one does.
    expect((await login(server, 'vera')).res.status).toBe(401);
    expect((await login(server, 'vera', 'a brand new password')).res.status).toBe(303);
  });

  it('idle timeout: activity keeps a session, a pause of the idle time ends it', async () => {
    const dir = tempDir('porthole-idle-');
    // Generous against a loaded machine: activity every 300 ms keeps a 2 s idle limit, a 3 s pause ends it.
    const server = await serve(yaml(dir, { auth: '  session: { idleTimeout: 2s }' }), dir);
    const { jar } = await signedIn(server, 'vera');
    const id = jar.cookies.get(SESSION)!;
    for (let i = 0; i < 3; i++) {
      await sleep(300);
      expect((await api(server, '/api/actions', withCookie(id))).status, `request ${i}`).toBe(200);
    }
    await sleep(3_000);
    expect((await api(server, '/api/actions', withCookie(id))).status).toBe(401);
    const page = await request(server.port, '/actions/thing', { headers: { accept: 'text/html', ...withCookie(id) } });
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe('/login?next=%2Factions%2Fthing');
  });

  it('the session cookie is HttpOnly, SameSite=Lax and not Secure over plain http', async () => {
    const { res } = await signedIn(main, 'vera');
    const line = sessionCookieLine(res)!;
    expect(line).toMatch(/;\s*HttpOnly/i);
    expect(line).toMatch(/;\s*SameSite=Lax/i);
    expect(line).not.toMatch(/;\s*Secure/i);
    expect(line).toMatch(/;\s*Path=\//i);
  });

  it('the session cookie is Secure when x-forwarded-proto: https comes from a trusted proxy, and only then', async () => {
    const viaProxy = await login(main, 'vera', password('vera'), { headers: { 'x-forwarded-proto': 'https' } });
    expect(viaProxy.res.status).toBe(303);
    expect(sessionCookieLine(viaProxy.res)).toMatch(/;\s*Secure/i);
    const spoofed = await login(main, 'vera', password('vera'), { headers: { 'x-forwarded-proto': 'https' }, localAddress: '127.0.0.2' });
    expect(spoofed.res.status).toBe(303);
    expect(sessionCookieLine(spoofed.res)).not.toMatch(/;\s*Secure/i);
  });
});

describe('login redirect', () => {
  it('after login, next leads only to a page of this server, however it is spelt', async () => {
    const base = `http://127.0.0.1:${main.port}/`;
    const tries = ['/actions/thing', '//evil.example/', '/\\evil.example/', 'https://evil.example/', '/\t/evil.example/', '/\n/evil.example/', '\t//evil.example/'];
    for (const next of tries) {
      const jar = new CookieJar();
      const form = await request(main.port, '/login', { headers: { accept: 'text/html' } });
      jar.take(form);
      const res = await request(main.port, '/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
        body: new URLSearchParams({ _csrf: csrfOf(form.body)!, user: 'vera', password: password('vera'), next }).toString(),
      });
      expect(res.status, JSON.stringify(next)).toBe(303);
      // Resolved the way a browser does (which drops tabs and newlines from URLs).
      expect(new URL(res.headers.location!, base).origin, `next=${JSON.stringify(next)} → Location ${JSON.stringify(res.headers.location)}`).toBe(new URL(base).origin);
    }
  });
});

describe('CSRF', () => {
  it('a POST with the session cookie but no or a wrong CSRF token is refused with 403 and nothing runs', async () => {
    const rune = await signedIn(main, 'rune');
    const other = await signedIn(main, 'rune');
    const cookie = rune.jar.header();
    const attempts: [string, Response][] = [
      ['api, no token', await runTouch(main, 'csrf-none', { cookie })],
      ['api, wrong token', await runTouch(main, 'csrf-wrong', { cookie, 'x-csrf-token': 'not-a-token' })],
      ['api, token of another session', await runTouch(main, 'csrf-other', { cookie, 'x-csrf-token': other.csrf.split('').reverse().join('') })],
      ['form, no token', await request(main.port, '/actions/touch', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie }, body: 'who=csrf-form-none' })],
      ['form, wrong token', await request(main.port, '/actions/touch', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie }, body: 'who=csrf-form-wrong&_csrf=abc' })],
    ];
    for (const [name, res] of attempts) expect(res.status, name).toBe(403);
    for (const who of ['csrf-none', 'csrf-wrong', 'csrf-other', 'csrf-form-none', 'csrf-form-wrong']) {
      expect(existsSync(path.join(mainDir, `canary-${who}`)), who).toBe(false);
    }
    // The same requests with the page's token run.
    expect((await runTouch(main, 'csrf-good', { cookie, 'x-csrf-token': rune.csrf })).status).toBe(200);
    expect(existsSync(path.join(mainDir, 'canary-csrf-good'))).toBe(true);
  });

  it('a token made for one browser\'s CSRF cookie does not work with another\'s', async () => {
    const a = await signedIn(main, 'rune');
    const b = await signedIn(main, 'rune');
    const res = await runTouch(main, 'csrf-cross', { cookie: a.jar.header(), 'x-csrf-token': b.csrf });
    expect(res.status).toBe(403);
    expect(existsSync(path.join(mainDir, 'canary-csrf-cross'))).toBe(false);
  });

  it('login without the login page\'s _csrf is refused with 403 and opens no session', async () => {
    const withoutField = await login(main, 'vera', password('vera'), { omitCsrf: true });
    expect(withoutField.res.status).toBe(403);
    expect(sessionCookieLine(withoutField.res)).toBeUndefined();
    // Nor with the field but without the cookie it belongs to (a forged cross-site form).
    const { csrf } = await login(main, 'vera', 'wrong', { omitCsrf: true });
    const noCookie = await request(main.port, '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, user: 'vera', password: password('vera') }).toString(),
    });
    expect(noCookie.status).toBe(403);
    expect(sessionCookieLine(noCookie)).toBeUndefined();
  });
});

describe('login throttling and enumeration', () => {
  it('after maxFailures wrong passwords the right one is refused with 429 and Retry-After, per user and per address', async () => {
    const dir = tempDir('porthole-throttle-');
    const server = await serve(yaml(dir, { auth: '  throttle: { maxFailures: 3, window: 1m }' }), dir);
    for (let i = 0; i < 3; i++) expect((await login(server, 'vera', `wrong-${i}`)).res.status).toBe(401);

    const blocked = await login(server, 'vera');
    expect(blocked.res.status).toBe(429);
    const retry = Number(blocked.res.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect(sessionCookieLine(blocked.res)).toBeUndefined();
    expect(blocked.res.body).toContain('Too many failed attempts');

    // The same user from another address: still held back.
    expect((await login(server, 'vera', password('vera'), { localAddress: '127.0.0.2' })).res.status).toBe(429);
    // Another user from the guessing address: held back too.
    expect((await login(server, 'rune', password('rune'))).res.status).toBe(429);
    // Another user from another address signs in.
    const other = await login(server, 'rune', password('rune'), { localAddress: '127.0.0.2' });
    expect(other.res.status).toBe(303);
    expect((await api(server, '/api/actions', { cookie: other.jar.header() }, '127.0.0.2')).status).toBe(200);
  });

  it('concurrent wrong passwords cannot get past the limit: at most maxFailures are checked', async () => {
    const dir = tempDir('porthole-throttle-race-');
    const server = await serve(yaml(dir, { auth: '  throttle: { maxFailures: 3, window: 1m }' }), dir);
    const attempts = await Promise.all(Array.from({ length: 12 }, (_, i) => login(server, 'ada', `guess-${i}`, { localAddress: '127.0.0.3' })));
    const statuses = attempts.map((a) => a.res.status).sort();
    expect(statuses.filter((s) => s === 401).length, `statuses: ${statuses.join(' ')}`).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(9);
  });

  it('no user enumeration: an unknown user and a wrong password get the same answer, in similar time', async () => {
    const dir = tempDir('porthole-enumeration-');
    const server = await serve(yaml(dir, { auth: '  throttle: { maxFailures: 100 }' }), dir);
    const normalise = (attempt: LoginAttempt, user: string) =>
      attempt.res.body.replace(/name="_csrf" value="[^"]+"/, 'name="_csrf" value="…"').replace(`value="${user}"`, 'value="…"');

    const unknown = await login(server, 'ghost', 'some-password-1');
    const wrong = await login(server, 'vera', 'some-password-1');
    expect(unknown.res.status).toBe(401);
    expect(wrong.res.status).toBe(401);
    expect(normalise(unknown, 'ghost')).toBe(normalise(wrong, 'vera'));
    expect(unknown.res.headers['content-type']).toBe(wrong.res.headers['content-type']);
    expect(unknown.res.body).toContain('Wrong user name or password.');

    // Time only the POST, alternating, median of five each.
    const timePost = async (user: string) => {
      const jar = new CookieJar();
      const form = await request(server.port, '/login', { headers: { accept: 'text/html' } });
      jar.take(form);
      const body = new URLSearchParams({ _csrf: csrfOf(form.body)!, user, password: 'some-password-2' }).toString();
      const started = performance.now();
      const res = await request(server.port, '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() }, body });
      const ms = performance.now() - started;
      expect(res.status).toBe(401);
      return ms;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const unknownTimes: number[] = [];
    const wrongTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      unknownTimes.push(await timePost(`ghost-${i}`));
      wrongTimes.push(await timePost('vera'));
    }
    const ratio = median(unknownTimes) / median(wrongTimes);
    expect(ratio, `unknown ${unknownTimes.map(Math.round).join(',')} ms; wrong ${wrongTimes.map(Math.round).join(',')} ms`).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});

describe('tokens and identity headers', () => {
  it('token revocation via `porthole token revoke` takes effect immediately', async () => {
    const created = await porthole(['token', 'create', '-c', mainFile, '--user', 'rune', '--name', 'revoke-me']);
    expect(created.code, created.stderr).toBe(0);
    const bearer = { authorization: `Bearer ${created.stdout.trim()}` };
    expect((await api(main, '/api/actions', bearer)).status).toBe(200);
    const revoked = await porthole(['token', 'revoke', '-c', mainFile, '--user', 'rune', '--name', 'revoke-me']);
    expect(revoked.code, revoked.stderr).toBe(0);
    const res = await api(main, '/api/actions', bearer);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(existsSync(path.join(mainDir, 'canary-revoked'))).toBe(false);
    expect((await runTouch(main, 'revoked', bearer)).status).toBe(401);
    expect(existsSync(path.join(mainDir, 'canary-revoked'))).toBe(false);
  });

  it('an expired token is refused', async () => {
    const db = openDatabase(path.join(mainDir, 'data', 'porthole.db'));
    try {
      const tokens = new TokenStore(db);
      const expired = tokens.create('rune', 'expired', new Date(Date.now() - 1_000)).token;
      const shortLived = tokens.create('rune', 'short-lived', new Date(Date.now() + 1_000)).token;
      const res = await api(main, '/api/actions', { authorization: `Bearer ${expired}` });
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
      expect((await api(main, '/api/actions', { authorization: `Bearer ${shortLived}` })).status).toBe(200);
      await sleep(1_100);
      expect((await api(main, '/api/actions', { authorization: `Bearer ${shortLived}` })).status).toBe(401);
    } finally {
      db.close();
    }
  });

  it('a spoofed identity header from an untrusted peer is ignored; from the trusted proxy it is honoured', async () => {
    const spoof = { 'x-forwarded-user': 'admin' };
    const fromUntrusted = await api(main, '/api/actions', spoof, '127.0.0.2');
    expect(fromUntrusted.status).toBe(401);
    const page = await request(main.port, '/', { headers: { accept: 'text/html', ...spoof }, localAddress: '127.0.0.2' });
    expect(page.status).toBe(303);
    expect((await runTouch(main, 'spoofed', spoof, '127.0.0.2')).status).toBe(401);
    expect(existsSync(path.join(mainDir, 'canary-spoofed'))).toBe(false);
    const explain = await request(main.port, '/admin/explain', { headers: { accept: 'text/html', ...spoof }, localAddress: '127.0.0.2' });
    expect(explain.status).toBe(303);

    const fromProxy = await api(main, '/api/actions', spoof, '127.0.0.1');
    expect(fromProxy.status).toBe(200);
    expect((JSON.parse(fromProxy.body) as { actions: { id: string }[] }).actions.map((a) => a.id)).toEqual(['thing', 'touch']);
    expect((await request(main.port, '/admin/explain', { headers: { accept: 'text/html', ...spoof }, localAddress: '127.0.0.1' })).status).toBe(200);
  });
});

describe('audit log', () => {
  interface Event {
    at: string;
    event: string;
    user?: string;
    ip?: string;
    action?: string;
    outcome?: string;
    detail?: string;
  }

  const audit = async (...args: string[]): Promise<Event[]> => {
    const res = await porthole(['audit', '-c', mainFile, '--format', 'json', '--limit', '1000', ...args]);
    expect(res.code, res.stderr).toBe(0);
    return JSON.parse(res.stdout) as Event[];
  };

  it('records login, login-failed, logout, token-used, run and denied, with user, ip and action; the CLI filters them', async () => {
    // One of each, by audra (a viewer) and a token of rune's.
    expect((await login(main, 'audra', 'not-her-password')).res.status).toBe(401);
    const audra = await signedIn(main, 'audra');
    expect((await runTouch(main, 'audit-denied', { cookie: audra.jar.header(), 'x-csrf-token': audra.csrf })).status).toBe(403);
    const out = await request(main.port, '/logout', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: audra.jar.header() },
      body: new URLSearchParams({ _csrf: audra.csrf }).toString(),
    });
    expect(out.status).toBe(303);
    const db = openDatabase(path.join(mainDir, 'data', 'porthole.db'));
    try {
      const token = new TokenStore(db).create('rune', 'audit-token').token;
      expect((await runTouch(main, 'audit-run', { authorization: `Bearer ${token}` })).status).toBe(200);
      new AuditLog(db).record({ event: 'login', user: 'olduser', ip: '10.0.0.1' }, new Date(Date.now() - 2 * 86_400_000));
    } finally {
      db.close();
    }

    const [all, byAudra, byTouch, recentOld, allOld] = await Promise.all([
      audit(),
      audit('--user', 'audra'),
      audit('--action', 'touch', '--since', '1h'),
      audit('--user', 'olduser', '--since', '1d'),
      audit('--user', 'olduser'),
    ]);
    const has = (events: Event[], match: Partial<Event>) => events.some((e) => Object.entries(match).every(([k, v]) => e[k as keyof Event] === v));

    expect(has(all, { event: 'login-failed', user: 'audra', ip: '127.0.0.1' })).toBe(true);
    expect(has(all, { event: 'login', user: 'audra', ip: '127.0.0.1', detail: 'password' })).toBe(true);
    expect(has(all, { event: 'denied', user: 'audra', ip: '127.0.0.1', action: 'touch', outcome: 'run' })).toBe(true);
    expect(has(all, { event: 'logout', user: 'audra', ip: '127.0.0.1' })).toBe(true);
    expect(has(all, { event: 'token-used', user: 'rune', ip: '127.0.0.1', detail: 'audit-token' })).toBe(true);
    expect(has(all, { event: 'run', user: 'rune', ip: '127.0.0.1', action: 'touch', outcome: 'succeeded' })).toBe(true);
    for (const e of all) expect(Date.parse(e.at)).not.toBeNaN();

    expect(byAudra.length).toBeGreaterThanOrEqual(4);
    expect(byAudra.every((e) => e.user === 'audra')).toBe(true);
    expect(new Set(byAudra.map((e) => e.event))).toEqual(new Set(['login-failed', 'login', 'denied', 'logout']));

    expect(byTouch.length).toBeGreaterThan(0);
    expect(byTouch.every((e) => e.action === 'touch')).toBe(true);
    expect(has(byTouch, { event: 'run', user: 'rune' })).toBe(true);
    expect(has(byTouch, { event: 'denied', user: 'audra' })).toBe(true);

    // --since leaves out what is older.
    expect(allOld).toHaveLength(1);
    expect(recentOld).toEqual([]);
  });
});
