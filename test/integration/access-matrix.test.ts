import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/access/passwords.js';
import { porthole } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';
import { request, startServer, type Response, type TestServer } from '../helpers/server.js';
import { CookieJar } from '../helpers/cookie-jar.js';

/**
 * Every route × every role: each is allowed or denied exactly as it should be. The
 * expectations come from a small table of rights (below), not from Porthole's own code.
 */

type Role = 'anonymous' | 'nobody' | 'viewer' | 'runner' | 'admin' | 'token';
type Rights = 'anon' | 'none' | 'view' | 'run';
type ActionId = 'thing' | 'touch' | 'slow' | 'secret';

const ROLES: Role[] = ['anonymous', 'nobody', 'viewer', 'runner', 'admin', 'token'];
const USERS = { nobody: 'nora', viewer: 'vera', runner: 'rune', admin: 'ada' } as const;
const password = (user: string) => `${user}-password-1234`;

/** What each role may do with each action, as the config below intends. */
function rightsOf(role: Role, action: ActionId): Rights {
  if (role === 'anonymous') return 'anon';
  if (role === 'admin') return 'run';
  if (role === 'nobody' || action === 'secret') return 'none';
  return role === 'viewer' ? 'view' : 'run';
}

const TITLES: Record<ActionId, string> = { thing: 'Thing Status', touch: 'Touch Canary', slow: 'Slow Job', secret: 'Secret Report' };
function visibleTo(role: Role): ActionId[] {
  return (Object.keys(TITLES) as ActionId[]).filter((a) => rightsOf(role, a) !== 'none' && rightsOf(role, a) !== 'anon');
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

/** How a client asks: a browser (HTML, form posts) or a script (JSON). */
type Client = 'browser' | 'api';

interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  /** `:run` is replaced by a run of the action made before the tests. */
  path: string;
  client: Client;
  action?: ActionId;
  /** Expected status for rights none / view / run (anonymous is decided by client and method). */
  none: number;
  view: number;
  run: number;
  body?: 'json' | 'form';
  /** Starts a fresh long run for the role to cancel. */
  activeRun?: boolean;
  /** Answers without an identity: anonymous gets what everyone gets. */
  public?: true;
}

const OK_VIEW = { none: 404, view: 200, run: 200 };

function forActions(actions: ActionId[], make: (a: ActionId) => Route): Route[] {
  return actions.map(make);
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/', client: 'browser', none: 200, view: 200, run: 200 },
  { method: 'GET', path: '/api/actions', client: 'api', none: 200, view: 200, run: 200 },
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'GET', path: `/api/actions/${a}`, client: 'api', action: a, ...OK_VIEW })),
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'GET', path: `/actions/${a}`, client: 'browser', action: a, ...OK_VIEW })),
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'GET', path: `/actions/${a}/card`, client: 'browser', action: a, ...OK_VIEW })),
  ...forActions(['thing', 'secret'], (a) => ({ method: 'GET', path: `/api/actions/${a}/result`, client: 'api', action: a, ...OK_VIEW })),
  // An action with side effects has no GET result: 405 to those who may see it.
  { method: 'GET', path: '/api/actions/touch/result', client: 'api', action: 'touch', none: 404, view: 405, run: 405 },
  { method: 'GET', path: '/thing/', client: 'api', action: 'thing', ...OK_VIEW },
  { method: 'GET', path: '/thing.json', client: 'api', action: 'thing', ...OK_VIEW },
  { method: 'GET', path: '/thing/', client: 'browser', action: 'thing', ...OK_VIEW },
  { method: 'GET', path: '/hidden/', client: 'api', action: 'secret', ...OK_VIEW },
  { method: 'GET', path: '/hidden.json', client: 'api', action: 'secret', ...OK_VIEW },
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'POST', path: `/api/actions/${a}/runs`, client: 'api', action: a, body: 'json', none: 404, view: 403, run: 200 })),
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'POST', path: `/actions/${a}`, client: 'browser', action: a, body: 'form', none: 404, view: 403, run: 200 })),
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'GET', path: `/api/actions/${a}/runs`, client: 'api', action: a, ...OK_VIEW })),
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'GET', path: `/api/actions/${a}/runs/:run`, client: 'api', action: a, ...OK_VIEW })),
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'GET', path: `/api/actions/${a}/runs/:run/events`, client: 'api', action: a, ...OK_VIEW })),
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'GET', path: `/api/actions/${a}/runs/:run/result.csv`, client: 'api', action: a, ...OK_VIEW })),
  // A finished run cannot be cancelled: 409 to whoever may see it.
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'DELETE', path: `/api/actions/${a}/runs/:run`, client: 'api', action: a, none: 404, view: 409, run: 409 })),
  { method: 'DELETE', path: '/api/actions/slow/runs/:active', client: 'api', action: 'slow', none: 404, view: 403, run: 202, activeRun: true },
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'GET', path: `/actions/${a}/history`, client: 'browser', action: a, ...OK_VIEW })),
  ...forActions(['thing', 'touch', 'secret'], (a) => ({ method: 'GET', path: `/actions/${a}/runs/:run`, client: 'browser', action: a, ...OK_VIEW })),
  { method: 'GET', path: '/admin/explain?user=vera&action=thing', client: 'browser', none: 404, view: 404, run: 404 },
  { method: 'GET', path: '/readyz', client: 'api', none: 200, view: 200, run: 200 },
  { method: 'GET', path: '/healthz', client: 'api', public: true, none: 200, view: 200, run: 200 },
  { method: 'GET', path: '/healthz', client: 'browser', public: true, none: 200, view: 200, run: 200 },
];

interface Case {
  role: Role;
  method: string;
  path: string;
  client: Client;
  route: Route;
  expected: number;
}

function expectedStatus(role: Role, route: Route): number {
  if (role === 'anonymous' && !route.public) return route.client === 'browser' && route.method === 'GET' ? 303 : 401;
  if (route.path.startsWith('/admin/')) return role === 'admin' ? 200 : 404;
  if (!route.action) return route.run;
  return route[rightsOf(role, route.action) as 'none' | 'view' | 'run'];
}

const CASES: Case[] = ROLES.flatMap((role) =>
  ROUTES.map((route) => ({ role, method: route.method, path: route.path, client: route.client, route, expected: expectedStatus(role, route) })),
);

// ---------------------------------------------------------------------------------------------
// The service, its users and their credentials
// ---------------------------------------------------------------------------------------------

interface Credentials {
  headers: Record<string, string>;
  /** For cookie sessions: the CSRF token their pages carry. */
  csrf?: string;
}

const dir = tempDir('porthole-matrix-');
let server: TestServer;
const credentials = new Map<Role, Credentials>();
const runs = new Map<ActionId, string>();
const unknownBodies = new Map<string, Response>();
let canaryCount = 0;

function yaml(hashes: Record<string, string>): string {
  const allow = 'allow: { view: { groups: [viewers] }, run: { groups: [runners] } }';
  return `
network: { allow: [127.0.0.1, "::1"] }
server: { shutdownGrace: 1s }
auth:
  users:
    nora: { passwordHash: "${hashes.nora}" }
    vera: { passwordHash: "${hashes.vera}", groups: [viewers] }
    rune: { passwordHash: "${hashes.rune}", groups: [runners] }
    ada: { passwordHash: "${hashes.ada}" }
  admins: { users: [ada] }
  throttle: { maxFailures: 50 }
actions:
  thing:
    title: ${TITLES.thing}
    path: /thing/
    command: [echo, thing-output]
    safe: true
    ${allow}
  touch:
    title: ${TITLES.touch}
    command: [touch, "${dir}/canary-{{who}}"]
    params:
      who: { type: string, pattern: "[a-z0-9-]+" }
    ${allow}
  slow:
    title: ${TITLES.slow}
    command: [sleep, "30"]
    ${allow}
  secret:
    title: ${TITLES.secret}
    path: /hidden/
    command: [echo, secret-output]
    safe: true
`;
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? /name="csrf-token" content="([^"]+)"/.exec(html)?.[1];

/** Signs in through the real login form, as a browser would. */
async function login(user: string): Promise<Credentials> {
  const jar = new CookieJar();
  const form = await request(server.port, '/login', { headers: { accept: 'text/html' } });
  expect(form.status).toBe(200);
  jar.take(form);
  const res = await request(server.port, '/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: jar.header() },
    body: new URLSearchParams({ _csrf: csrfOf(form.body)!, user, password: password(user), next: '/' }).toString(),
  });
  expect(res.status, `login of ${user}: ${res.body}`).toBe(303);
  jar.take(res);
  // The token a signed-in page carries, as the page's own forms and script use it.
  const home = await request(server.port, '/', { headers: { accept: 'text/html', cookie: jar.header() } });
  expect(home.status).toBe(200);
  jar.take(home);
  return { headers: { cookie: jar.header() }, csrf: csrfOf(home.body)! };
}

function headersFor(role: Role, route: Route): Record<string, string> {
  const accept = route.client === 'browser' ? 'text/html' : 'application/json';
  const creds = credentials.get(role) ?? { headers: {} };
  const headers: Record<string, string> = { accept, ...creds.headers };
  if (route.body === 'json') headers['content-type'] = 'application/json';
  if (route.body === 'form') headers['content-type'] = 'application/x-www-form-urlencoded';
  // Cookie sessions send the token the way Porthole's pages do: a header from the script, a field from forms.
  if (creds.csrf && route.method !== 'GET' && route.body !== 'form') headers['x-csrf-token'] = creds.csrf;
  return headers;
}

function bodyFor(role: Role, route: Route, who: string): string | undefined {
  const params: Record<string, string> = route.action === 'touch' ? { who } : {};
  if (route.body === 'json') return JSON.stringify({ params });
  if (route.body === 'form') {
    const csrf = credentials.get(role)?.csrf;
    return new URLSearchParams({ ...params, ...(csrf ? { _csrf: csrf } : {}) }).toString();
  }
  return undefined;
}

const admin = () => credentials.get('admin')!;

async function adminJson(method: string, url: string, body?: unknown): Promise<Response> {
  const { csrf, headers } = admin();
  return request(server.port, url, {
    method,
    headers: { ...headers, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(method !== 'GET' ? { 'x-csrf-token': csrf! } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function waitForHistory(action: ActionId, run: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const res = await adminJson('GET', `/api/actions/${action}/runs/${run}`);
    if (res.status === 200 && (JSON.parse(res.body) as { result?: unknown }).result !== undefined) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${run} of ${action} never reached history`);
}

beforeAll(async () => {
  const hashes = Object.fromEntries(await Promise.all(Object.values(USERS).map(async (u) => [u, await hashPassword(password(u))] as const)));
  const text = yaml(hashes);
  const file = writeConfig(text, dir);
  server = await startServer(text, { dir });

  for (const role of ['nobody', 'viewer', 'runner', 'admin'] as const) credentials.set(role, await login(USERS[role]));
  const created = await porthole(['token', 'create', '-c', file, '--user', 'rune', '--name', 'matrix']);
  expect(created.code, created.stderr).toBe(0);
  credentials.set('token', { headers: { authorization: `Bearer ${created.stdout.trim()}` } });

  // One finished run of each action, for the routes that show a run.
  for (const action of ['thing', 'touch', 'secret'] as const) {
    const res = await adminJson('POST', `/api/actions/${action}/runs`, { params: action === 'touch' ? { who: 'setup' } : {} });
    expect(res.status, res.body).toBe(200);
    const { runId } = JSON.parse(res.body) as { runId: string };
    await waitForHistory(action, runId);
    runs.set(action, runId);
  }
}, 60_000);

afterAll(async () => {
  await server?.close();
});

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

describe('access matrix: every route, every role', () => {
  // Named "role METHOD path → status", printed as is.
  it.each(CASES.map((c) => [`${c.role} ${c.method} ${c.path}${c.client === 'browser' ? ' (browser)' : ''} → ${c.expected}`, c] as const))('%s', async (_name, { role, route, expected }) => {
    let url = route.path;
    let active: string | undefined;
    if (route.activeRun) {
      const started = await adminJson('POST', '/api/actions/slow/runs?wait=false', {});
      expect(started.status).toBe(202);
      active = (JSON.parse(started.body) as { id: string }).id;
      url = url.replace(':active', active);
    }
    if (route.action && url.includes(':run')) url = url.replace(':run', runs.get(route.action)!);
    const who = `case-${++canaryCount}`;
    const canary = path.join(dir, `canary-${who}`);

    const res = await request(server.port, url, { method: route.method, headers: headersFor(role, route), body: bodyFor(role, route, who) });
    expect(res.status, `${role} ${route.method} ${url}: ${res.body.slice(0, 300)}`).toBe(expected);

    // How each refusal looks.
    if (expected === 401) {
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    if (expected === 303) {
      expect(res.headers.location).toBe(`/login?next=${encodeURIComponent(url)}`);
    }
    if (expected === 404 && route.action) {
      // Hidden answers exactly like unknown: same status, type and body.
      const unknownUrl = url.replace(`/${route.action}`, '/no-such-action').replace(route.action === 'secret' ? '/hidden' : '/thing', '/no-such-path');
      const key = `${role} ${route.client} ${route.method} ${unknownUrl}`;
      const unknown = unknownBodies.get(key) ?? (await request(server.port, unknownUrl, { method: route.method, headers: headersFor(role, route), body: bodyFor(role, route, `${who}-unknown`) }));
      unknownBodies.set(key, unknown);
      expect(unknown.status).toBe(404);
      expect(res.headers['content-type']).toBe(unknown.headers['content-type']);
      expect(res.body).toBe(unknown.body);
    }

    // Nothing runs for whoever may not run: the canary tells.
    if (route.action === 'touch' && route.method === 'POST') {
      expect(existsSync(canary), `canary for ${role}`).toBe(expected === 200);
    }

    // What a successful answer shows is filtered too.
    if (expected === 200 && route.path === '/api/actions') {
      const ids = (JSON.parse(res.body) as { actions: { id: string }[] }).actions.map((a) => a.id);
      expect(ids).toEqual(visibleTo(role));
    }
    if (expected === 200 && route.path === '/') {
      for (const [id, title] of Object.entries(TITLES)) {
        expect(res.body.includes(title), `${title} on the dashboard of ${role}`).toBe(visibleTo(role).includes(id as ActionId));
      }
    }
    if (expected === 200 && route.path === '/healthz') {
      // Anyone the network admits may ask, so it says nothing but that the process answers.
      expect(JSON.parse(res.body)).toEqual({ status: 'ok' });
    }
    if (expected === 200 && route.path.startsWith('/admin/explain')) {
      expect(res.body).toContain('may view: yes');
      expect(res.body).toContain('groups lists viewers');
    }
    if (expected === 200 && route.path.endsWith('/events')) {
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(res.body).toContain('event: finished');
    }
    if (expected === 200 && route.method === 'POST' && route.client === 'api') {
      expect(JSON.parse(res.body)).toMatchObject({ outcome: 'succeeded' });
    }

    // Only a cancel by someone allowed to run stops the long run; otherwise it goes on (and the admin stops it).
    if (active) {
      const statusOf = async () => {
        const after = await adminJson('GET', `/api/actions/slow/runs/${active}`);
        return JSON.parse(after.body) as { status: string; outcome?: string };
      };
      if (expected === 202) {
        let run = await statusOf();
        for (let i = 0; i < 100 && run.status !== 'finished'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          run = await statusOf();
        }
        expect(run).toMatchObject({ status: 'finished', outcome: 'cancelled' });
      } else {
        expect((await statusOf()).status).toBe('running');
        expect((await adminJson('DELETE', `/api/actions/slow/runs/${active}`)).status).toBe(202);
      }
    }
  });

  it('the public login flow answers everyone', async () => {
    for (const role of ROLES) {
      const res = await request(server.port, '/login', { headers: { accept: 'text/html', ...(credentials.get(role)?.headers ?? {}) } });
      expect(res.status, role).toBe(200);
    }
  });

  it('/healthz needs no sign-in, but still passes the network gate: outside the allowlist it is the same 404 as a page that does not exist', async () => {
    const outside = (url: string) => request(server.port, url, { localAddress: '127.0.0.2', headers: { accept: 'application/json' } });
    const health = await outside('/healthz');
    const unknown = await outside('/no-such-page');
    expect(health.status).toBe(404);
    expect(health.headers['content-type']).toBe(unknown.headers['content-type']);
    expect(health.body).toBe(unknown.body);
  });

  it('covers every role on every route', () => {
    expect(CASES.length).toBe(ROLES.length * ROUTES.length);
  });
});
