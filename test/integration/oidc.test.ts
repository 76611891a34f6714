import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createService, type Service } from '../../src/http/service.js';
import { configFrom, tempDir } from '../helpers/config.js';

/*
 * Single sign-on against a REAL OpenID provider (the `oidc-provider` package) running in
 * this process on 127.0.0.1, driven through the whole redirect dance with fetch and a
 * cookie jar, as a browser would: Porthole → provider login → consent → Porthole callback.
 */

// oidc-provider ships no type declarations; these are the few parts the test uses.
interface Account {
  accountId: string;
  claims(): Promise<Record<string, unknown>>;
}
interface ProviderConfiguration {
  clients: Record<string, unknown>[];
  pkce: { required: () => boolean };
  findAccount: (ctx: unknown, id: string) => Promise<Account | undefined>;
  claims: Record<string, string[]>;
  conformIdTokenClaims: boolean;
  cookies: { keys: string[] };
  features: { devInteractions: { enabled: boolean } };
}
interface Provider {
  callback(): http.RequestListener;
}
type ProviderClass = new (issuer: string, configuration: ProviderConfiguration) => Provider;
// Imported through a variable so TypeScript does not look for declarations that do not exist.
const PROVIDER_MODULE: string = 'oidc-provider';
const { default: OidcProvider } = (await import(PROVIDER_MODULE)) as { default: ProviderClass };

const CLIENT_ID = 'porthole-test';
const CLIENT_SECRET = 'a-client-secret-that-must-never-be-shown';
const ACCOUNTS: Record<string, Record<string, unknown>> = {
  alice: { preferred_username: 'alice', groups: ['idp-ops', 'idp-other'] },
  bob: { preferred_username: 'bob', groups: 'idp-ops' },
  carol: { preferred_username: 'carol', groups: 'idp-unmapped' },
};

/** A port nobody is listening on right now (the test files run one at a time). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

interface Op {
  issuer: string;
  server: http.Server;
  /** Requests to the userinfo endpoint, to tell which path the claims came by. */
  userinfoCalls: number;
  /** While false the provider answers 503 to everything (discovery included). */
  up: boolean;
}

/** Starts a provider; with `claimsInIdToken` false it behaves as the spec says for code flow (claims at userinfo only). */
async function startProvider(callback: string, claimsInIdToken: boolean): Promise<Op> {
  const op: Op = { issuer: '', server: http.createServer(), userinfoCalls: 0, up: true };
  const port = await listen(op.server);
  op.issuer = `http://127.0.0.1:${port}`;
  const provider = new OidcProvider(op.issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [callback],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    findAccount: async (_ctx, id) => {
      const claims = ACCOUNTS[id];
      return claims ? { accountId: id, claims: async () => ({ sub: id, ...claims }) } : undefined;
    },
    claims: { openid: ['sub'], profile: ['preferred_username'], groups: ['groups'] },
    conformIdTokenClaims: !claimsInIdToken,
    cookies: { keys: ['oidc-test-cookie-key'] },
    // Any login name and password is accepted by the development interactions.
    features: { devInteractions: { enabled: true } },
  });
  const handle = provider.callback();
  op.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!op.up) {
      res.writeHead(503).end();
      return;
    }
    if (req.url?.startsWith('/me')) op.userinfoCalls += 1;
    handle(req, res);
  });
  return op;
}

/** Porthole on a known port, since its redirect URL (and the provider's client) must name it. */
async function startPorthole(issuer: string, port: number): Promise<Service> {
  const yaml = `
auth:
  users: {}
  oidc:
    issuer: ${issuer}
    clientId: ${CLIENT_ID}
    clientSecret: ${CLIENT_SECRET}
    redirectUrl: http://127.0.0.1:${port}/auth/oidc/callback
    scopes: [openid, profile, groups]
    groupMap: { idp-ops: ops }
actions:
  ops-status:
    title: For ops
    command: [echo, ops]
    safe: true
    allow: { view: { groups: [ops] } }
  other-status:
    title: For others
    command: [echo, other]
    safe: true
    allow: { view: { groups: [other] } }
`;
  const service = await createService(configFrom(yaml, { dir: tempDir('porthole-oidc-') }));
  await service.fastify.listen({ host: '127.0.0.1', port });
  return service;
}

/** A browser, as far as redirects and cookies go (cookies kept per origin; paths ignored). */
class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  async get(url: URL | string, headers: Record<string, string> = {}): Promise<Response> {
    return this.send(new URL(url), { method: 'GET', headers });
  }

  async postForm(url: URL | string, fields: Record<string, string>): Promise<Response> {
    return this.send(new URL(url), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
  }

  cookies(origin: string): Map<string, string> {
    return this.jar.get(origin) ?? new Map<string, string>();
  }

  private async send(url: URL, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Response> {
    const cookies = [...this.cookies(url.origin)].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...init.headers, ...(cookies ? { cookie: cookies } : {}) } });
    const jar = this.jar.get(url.origin) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const gone = attributes.some((a) => /^max-age=(0|-)/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (gone) jar.delete(name);
      else jar.set(name, pair.slice(eq + 1));
    }
    this.jar.set(url.origin, jar);
    return response;
  }
}

function unescapeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&#x([0-9a-f]+);/gi, (_m, n: string) => String.fromCharCode(parseInt(n, 16))).replace(/&amp;/g, '&');
}

/**
 * Starts a sign-in at Porthole and plays the user at the provider (login form, consent),
 * up to the point the provider sends the browser back. Returns that callback URL, not yet visited.
 */
async function signInAtProvider(browser: Browser, porthole: string, login: string, next = '/'): Promise<URL> {
  let response = await browser.get(`${porthole}/auth/oidc/start?next=${encodeURIComponent(next)}`);
  expect(response.status).toBe(302);
  let current = new URL(`${porthole}/auth/oidc/start`);
  for (let step = 0; step < 20; step += 1) {
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location) {
      current = new URL(location, current);
      if (current.origin === porthole && current.pathname === '/auth/oidc/callback') return current;
      response = await browser.get(current);
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([a-z]+)"/.exec(html)?.[1];
    if (response.status !== 200 || !action || !prompt) throw new Error(`unexpected answer from ${current.href}: ${response.status} ${html.slice(0, 500)}`);
    const target = new URL(unescapeHtml(action), current);
    response = await browser.postForm(target, prompt === 'login' ? { prompt, login, password: 'any password will do' } : { prompt });
    current = target;
  }
  throw new Error('the sign-in went round in circles');
}

interface ActionList {
  actions: { id: string }[];
}

async function visibleActions(browser: Browser, porthole: string): Promise<string[] | number> {
  const response = await browser.get(`${porthole}/api/actions`, { accept: 'application/json' });
  if (response.status !== 200) return response.status;
  return ((await response.json()) as ActionList).actions.map((a) => a.id).sort();
}

for (const mode of ['claims in the ID token', 'claims at the userinfo endpoint'] as const) {
  describe(`single sign-on with a real OpenID provider (${mode})`, () => {
    let op: Op;
    let service: Service;
    let porthole: string;

    beforeAll(async () => {
      for (let attempt = 1; ; attempt += 1) {
        const port = await freePort();
        porthole = `http://127.0.0.1:${port}`;
        op = await startProvider(`${porthole}/auth/oidc/callback`, mode === 'claims in the ID token');
        try {
          service = await startPorthole(op.issuer, port);
          break;
        } catch (error) {
          await new Promise<void>((resolve) => op.server.close(() => resolve()));
          if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt >= 5) throw error;
        }
      }
    });

    afterAll(async () => {
      await service?.close();
      op?.server.closeAllConnections();
      await new Promise<void>((resolve) => (op ? op.server.close(() => resolve()) : resolve()));
    });

    it('answers 503 while the provider is down, and tries discovery again once it is back', async () => {
      // Runs first: this Porthole has not discovered the provider yet, and the provider is down for its first try.
      op.up = false;
      const browser = new Browser();
      const down = await browser.get(`${porthole}/auth/oidc/start`);
      expect(down.status).toBe(503);
      expect(await down.text()).toContain('Single sign-on is unavailable');

      op.up = true;
      const callback = await signInAtProvider(browser, porthole, 'alice');
      expect((await browser.get(callback)).status).toBe(303);
      expect(await visibleActions(browser, porthole)).toEqual(['ops-status']);
    });

    it('signs in with groups from an array claim, mapped through groupMap, and shows only what those groups may view', async () => {
      const browser = new Browser();
      expect(await visibleActions(browser, porthole)).toBe(401);
      const userinfoBefore = op.userinfoCalls;

      const callback = await signInAtProvider(browser, porthole, 'alice', '/actions/ops-status');
      expect(callback.searchParams.get('code')).toBeTruthy();
      const done = await browser.get(callback);
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe('/actions/ops-status');
      expect(browser.cookies(porthole).has('porthole_session')).toBe(true);

      // idp-ops → ops; idp-other is not in the map and is dropped, so other-status stays hidden.
      expect(await visibleActions(browser, porthole)).toEqual(['ops-status']);
      const hidden = await browser.get(`${porthole}/api/actions/other-status`, { accept: 'application/json' });
      expect(hidden.status).toBe(404);
      const login = service.app.store.audit.query({ user: 'alice', limit: 10 }).find((e) => e.event === 'login');
      expect(login).toMatchObject({ event: 'login', user: 'alice', detail: 'oidc' });

      if (mode === 'claims in the ID token') expect(op.userinfoCalls).toBe(userinfoBefore);
      else expect(op.userinfoCalls).toBeGreaterThan(userinfoBefore);
    });

    it('refuses a reused callback and a callback with a wrong state, and sets no session', async () => {
      // Reuse: a callback that already signed someone in cannot do it again.
      const first = new Browser();
      const callback = await signInAtProvider(first, porthole, 'alice');
      expect((await first.get(callback)).status).toBe(303);
      const replay = new Browser();
      const again = await replay.get(callback);
      expect(again.status).toBe(401);
      expect(again.headers.getSetCookie().some((c) => c.startsWith('porthole_session='))).toBe(false);
      expect(await again.text()).toContain('unknown, expired or already used');
      expect(await visibleActions(replay, porthole)).toBe(401);

      // Wrong state: refused without touching the real sign-in, which still works afterwards.
      const browser = new Browser();
      const real = await signInAtProvider(browser, porthole, 'alice');
      const forged = new URL(real);
      forged.searchParams.set('state', 'not-the-state-we-sent');
      const refused = await browser.get(forged);
      expect(refused.status).toBe(401);
      const page = await refused.text();
      expect(page).toContain('Sign-in failed');
      expect(page).not.toContain(CLIENT_SECRET);
      expect(page).not.toContain(real.searchParams.get('code'));
      expect(browser.cookies(porthole).has('porthole_session')).toBe(false);
      expect(await visibleActions(browser, porthole)).toBe(401);
      expect((await browser.get(real)).status).toBe(303);
      expect(await visibleActions(browser, porthole)).toEqual(['ops-status']);

      // An attacker's own callback planted on someone else's browser (no binding cookie) is refused: no login CSRF.
      const attacker = new Browser();
      const victim = new Browser();
      const planted = await victim.get(await signInAtProvider(attacker, porthole, 'alice'));
      expect(planted.status).toBe(401);
      expect(await planted.text()).toContain('another browser');
      expect(await visibleActions(victim, porthole)).toBe(401);

      const failures = service.app.store.audit.query({ limit: 20 }).filter((e) => e.event === 'login-failed');
      expect(failures.length).toBeGreaterThanOrEqual(3);
      expect(failures.every((e) => e.detail?.startsWith('oidc: '))).toBe(true);
      expect(JSON.stringify(failures)).not.toContain(CLIENT_SECRET);
    });

    it('accepts a group claim that is a single string, and drops an unmapped one', async () => {
      const bob = new Browser();
      expect((await bob.get(await signInAtProvider(bob, porthole, 'bob'))).status).toBe(303);
      expect(await visibleActions(bob, porthole)).toEqual(['ops-status']);

      const carol = new Browser();
      expect((await carol.get(await signInAtProvider(carol, porthole, 'carol'))).status).toBe(303);
      expect(await visibleActions(carol, porthole)).toEqual([]);
    });

    it('records each sign-in in the audit log as a login with detail oidc', async () => {
      const events = service.app.store.audit.query({ limit: 100 }).filter((e) => e.event === 'login');
      expect(events.map((e) => e.user).sort()).toEqual(expect.arrayContaining(['alice', 'bob', 'carol']));
      expect(events.every((e) => e.detail === 'oidc')).toBe(true);
      expect(events.every((e) => e.ip === '127.0.0.1')).toBe(true);
    });

  });
}
