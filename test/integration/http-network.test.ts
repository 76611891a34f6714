import { existsSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/config.js';
import { request, startServer, type Response, type TestServer } from '../helpers/server.js';

/**
 * "From where": the network gate and the client-IP decision, over real sockets. The
 * server listens on `::` (dual stack) and clients bind to different loopback addresses.
 */

const servers: TestServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Started {
  server: TestServer;
  port: number;
  /** Created by the `touch` action; it must exist only when that action really ran. */
  canary: string;
}

/**
 * A server with a safe action `hello` (also at /status/) and an unsafe action `touch`
 * whose command creates a canary file. `network` is the YAML of the network section
 * (without the key), or undefined for no section at all.
 */
async function start(network?: string): Promise<Started> {
  const dir = tempDir('porthole-net-');
  const canary = path.join(dir, 'canary');
  const yaml = [
    ...(network === undefined ? [] : ['network:', ...network.split('\n').map((line) => `  ${line}`)]),
    'actions:',
    '  hello:',
    '    title: Hello',
    '    command: [echo, hello]',
    '    safe: true',
    '    path: /status/',
    '  touch:',
    '    title: Touch',
    `    command: [touch, ${JSON.stringify(canary)}]`,
    '    path: /do-touch',
    '',
  ].join('\n');
  const server = await startServer(yaml, { dir });
  servers.push(server);
  return { server, port: server.port, canary };
}

const V4 = (n: number) => `127.0.0.${n}`;

function from(localAddress: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  const host = localAddress.includes(':') ? '::1' : '127.0.0.1';
  return { ...options, localAddress, host };
}

function get(port: number, url: string, localAddress = V4(1), headers: Record<string, string> = {}): Promise<Response> {
  return request(port, url, from(localAddress, { headers }));
}

function post(port: number, url: string, localAddress = V4(1), headers: Record<string, string> = {}): Promise<Response> {
  return request(port, url, from(localAddress, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' }));
}

/** Headers that legitimately differ between two otherwise identical responses. */
const VOLATILE = new Set(['date', 'connection', 'keep-alive']);

function stable(headers: IncomingHttpHeaders): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !VOLATILE.has(name)).sort(([a], [b]) => a.localeCompare(b)));
}

/** Everything a client can observe about a response, apart from the clock. */
function observable(response: Response) {
  return { status: response.status, headers: stable(response.headers), body: response.body };
}

const RUN_ID = '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b';

describe('default allow (no network section): loopback only', () => {
  it('admits 127.0.0.1 and ::1, denies 127.0.0.2 with 404', async () => {
    const { port } = await start();
    expect((await get(port, '/healthz', V4(1))).status).toBe(200);
    expect((await get(port, '/api/actions', V4(1))).status).toBe(200);
    expect((await get(port, '/healthz', '::1')).status).toBe(200);
    expect((await get(port, '/api/actions', '::1')).status).toBe(200);
    expect((await get(port, '/healthz', V4(2))).status).toBe(404);
    expect((await get(port, '/api/actions', V4(2))).status).toBe(404);
  });
});

describe('network.allow with clients on different loopback addresses', () => {
  it('allow: [127.0.0.2] admits only 127.0.0.2', async () => {
    const { port } = await start('allow: [127.0.0.2]');
    expect((await get(port, '/api/actions', V4(2))).status).toBe(200);
    expect((await get(port, '/api/actions', V4(1))).status).toBe(404);
    expect((await get(port, '/api/actions', V4(3))).status).toBe(404);
    expect((await get(port, '/api/actions', '::1')).status).toBe(404);
  });

  it('allow: [127.0.0.0/30] admits .1 to .3 and denies .4', async () => {
    const { port } = await start('allow: [127.0.0.0/30]');
    for (const n of [1, 2, 3]) expect((await get(port, '/healthz', V4(n))).status, V4(n)).toBe(200);
    expect((await get(port, '/healthz', V4(4))).status).toBe(404);
    expect((await get(port, '/healthz', '::1')).status).toBe(404);
  });

  it('allow: [] admits nobody, not even 127.0.0.1 or ::1', async () => {
    const { port } = await start('allow: []');
    expect((await get(port, '/healthz', V4(1))).status).toBe(404);
    expect((await get(port, '/healthz', '::1')).status).toBe(404);
    expect((await get(port, '/', V4(1))).status).toBe(404);
  });

  it('a server on 127.0.0.1 only (plain IPv4 peers) applies the same list', async () => {
    const dir = tempDir('porthole-net-');
    const server = await startServer('network:\n  allow: [127.0.0.2]\nactions:\n  hello:\n    command: [echo, hello]\n    safe: true\n', { dir, host: '127.0.0.1' });
    servers.push(server);
    expect((await get(server.port, '/healthz', V4(2))).status).toBe(200);
    expect((await get(server.port, '/healthz', V4(1))).status).toBe(404);
  });
});

describe('the denied answer', () => {
  const ACCEPTS: [string, Record<string, string>][] = [
    ['text/html', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }],
    ['application/json', { accept: 'application/json' }],
    ['no Accept header', {}],
    ['*/*', { accept: '*/*' }],
  ];

  const DENIED_URLS = ['/no-such-page', '/api/actions', '/healthz', '/', '/status/', '/api/actions/nope', '/static/porthole.css'];

  it.each(ACCEPTS)('deny: 404 has the status, type and body of the not-found answer for an unknown URL (Accept: %s)', async (_name, headers) => {
    const { port } = await start('allow: [127.0.0.1]');
    const unknown = await get(port, '/no-such-page', V4(1), headers);
    expect(unknown.status).toBe(404);
    const visible = (r: Response) => ({ status: r.status, type: r.headers['content-type'], length: r.headers['content-length'], body: r.body });
    for (const url of DENIED_URLS) {
      expect(visible(await get(port, url, V4(2), headers)), url).toEqual(visible(unknown));
    }
    // An unknown action under /api answers the same as well.
    expect(visible(await get(port, '/api/actions/nope', V4(1), headers))).toEqual(visible(unknown));
  });

  // Byte for byte, headers included: a denied client must not be able to tell "denied" from
  // "nothing here" by which headers came back (nor lose the security headers on the page).
  it.each(ACCEPTS)('deny: 404 is byte for byte the not-found answer, headers included (Accept: %s)', async (_name, headers) => {
    const { port } = await start('allow: [127.0.0.1]');
    const unknown = await get(port, '/no-such-page', V4(1), headers);
    for (const url of DENIED_URLS) {
      expect(observable(await get(port, url, V4(2), headers)), url).toEqual(observable(unknown));
    }
  });

  it.each(ACCEPTS)('deny: 403 answers 403 in the asked-for format (Accept: %s)', async (name, headers) => {
    const { port } = await start('allow: [127.0.0.1]\ndeny: 403');
    const denied = await get(port, '/api/actions', V4(2), headers);
    expect(denied.status).toBe(403);
    const type = String(denied.headers['content-type']);
    if (name === 'application/json') {
      expect(type).toMatch(/^application\/json/);
      expect(JSON.parse(denied.body)).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) as unknown } });
    } else if (name === 'text/html') {
      expect(type).toMatch(/^text\/html/);
    } else {
      expect(type).toMatch(/^text\/plain/);
    }
    // Nothing about Porthole's actions leaks into the refusal.
    expect(denied.body).not.toContain('hello');
    expect(denied.body).not.toContain('touch');
    expect((await get(port, '/api/actions', V4(1), headers)).status).toBe(200);
  });
});

describe('every route is behind the gate', () => {
  /** A real run of each action, by an allowed client, so run URLs exist. */
  async function realRuns(port: number): Promise<{ helloRun: string; touchRun: string }> {
    const hello = await get(port, '/api/actions/hello/result', V4(1));
    expect(hello.status).toBe(200);
    const touch = await post(port, '/api/actions/touch/runs', V4(1));
    expect(touch.status).toBe(200);
    return { helloRun: String(hello.headers['x-porthole-run']), touchRun: String(touch.headers['x-porthole-run']) };
  }

  function routes(runs: { helloRun: string; touchRun: string }): [string, string][] {
    return [
      ['GET', '/'],
      ['GET', '/actions/hello'],
      ['GET', '/actions/touch'],
      ['GET', '/actions/x'],
      ['GET', '/api/actions'],
      ['GET', '/api/actions/hello'],
      ['GET', '/api/actions/hello/result'],
      ['GET', '/api/actions/hello/result.json'],
      ['GET', '/api/actions/hello/result.csv'],
      ['GET', '/api/actions/x/result'],
      ['GET', '/api/actions/hello/runs'],
      ['GET', '/api/actions/touch/runs'],
      ['GET', '/api/actions/x/runs'],
      ['POST', '/api/actions/x/runs'],
      ['GET', `/api/actions/hello/runs/${runs.helloRun}`],
      ['GET', `/api/actions/touch/runs/${runs.touchRun}`],
      ['GET', `/api/actions/hello/runs/${runs.helloRun}/events`],
      ['GET', `/api/actions/touch/runs/${runs.touchRun}/events`],
      ['GET', `/api/actions/x/runs/${RUN_ID}/events`],
      ['DELETE', `/api/actions/hello/runs/${runs.helloRun}`],
      ['GET', '/healthz'],
      ['GET', '/readyz'],
      ['GET', '/metrics'],
      ['GET', '/static/porthole.css'],
      ['GET', '/status/'],
      ['GET', '/status'],
      ['GET', '/status.json'],
      ['GET', '/status.csv'],
      ['GET', '/status.txt'],
      ['POST', '/status/'],
      ['OPTIONS', '/api/actions'],
      ['GET', '/nonexistent'],
      ['GET', '/api/nonexistent'],
    ];
  }

  it.each([404, 403] as const)('deny: %i on every route for a denied client, and a denied POST runs nothing', async (status) => {
    const { port, canary } = await start(`allow: [127.0.0.1]${status === 403 ? '\ndeny: 403' : ''}`);
    const runs = await realRuns(port);
    // The allowed client's run made the canary; start again from nothing.
    expect(existsSync(canary)).toBe(true);
    rmSync(canary);

    // An allowed client reaches these (not every one with 200; what matters is the gate let it through).
    expect((await get(port, '/static/porthole.css', V4(1))).status).toBe(200);
    expect((await get(port, `/api/actions/hello/runs/${runs.helloRun}/events`, V4(1))).status).toBe(200);
    expect((await get(port, '/status/', V4(1))).status).toBe(200);

    const answers: Record<string, number> = {};
    for (const [method, url] of routes(runs)) {
      const response = await request(port, url, from(V4(2), { method }));
      answers[`${method} ${url}`] = response.status;
    }
    expect(answers).toEqual(Object.fromEntries(routes(runs).map(([method, url]) => [`${method} ${url}`, status])));

    for (const url of ['/api/actions/touch/runs', '/api/actions/touch/runs?wait=false', '/do-touch', '/do-touch.json']) {
      expect((await post(port, url, V4(2))).status, url).toBe(status);
    }
    // Form posts, as a browser page would send them.
    const form = await request(port, '/api/actions/touch/runs', from(V4(2), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' }));
    expect(form.status).toBe(status);
    // Give a run that should not exist time to have happened.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(canary)).toBe(false);
  });

  it('a denied POST with a body larger than the limit is still just denied', async () => {
    const { port, canary } = await start('allow: [127.0.0.1]');
    const big = JSON.stringify({ params: { x: 'y'.repeat(200 * 1024) } });
    const response = await request(port, '/api/actions/touch/runs', from(V4(2), { method: 'POST', headers: { 'content-type': 'application/json' }, body: big }));
    expect(response.status).toBe(404);
    expect(existsSync(canary)).toBe(false);
  });
});

describe('forwarding headers', () => {
  it('a client that is not a trusted proxy cannot spoof its address', async () => {
    const { port, canary } = await start('allow: [127.0.0.1]');
    const spoofs: Record<string, string>[] = [
      { 'x-forwarded-for': '127.0.0.1' },
      { forwarded: 'for=127.0.0.1' },
      { 'x-forwarded-for': '127.0.0.1', forwarded: 'for=127.0.0.1' },
      { 'x-real-ip': '127.0.0.1' },
    ];
    for (const headers of spoofs) {
      expect((await get(port, '/api/actions', V4(2), headers)).status, JSON.stringify(headers)).toBe(404);
      expect((await post(port, '/api/actions/touch/runs', V4(2), headers)).status, JSON.stringify(headers)).toBe(404);
    }
    expect(existsSync(canary)).toBe(false);
  });

  it('with proxyHeader: forwarded, an untrusted client cannot spoof with Forwarded either', async () => {
    const { port } = await start('allow: [127.0.0.1]\nproxyHeader: forwarded');
    expect((await get(port, '/api/actions', V4(2), { forwarded: 'for=127.0.0.1' })).status).toBe(404);
  });

  it('an untrusted peer that sends headers naming a trusted proxy is still itself', async () => {
    const { port } = await start('allow: [10.9.8.7]\ntrustedProxies: [127.0.0.1]');
    expect((await get(port, '/api/actions', V4(2), { 'x-forwarded-for': '10.9.8.7' })).status).toBe(404);
    expect((await get(port, '/api/actions', V4(2), { 'x-forwarded-for': '10.9.8.7, 127.0.0.1' })).status).toBe(404);
  });

  describe('trustedProxies: [127.0.0.1], allow: [10.9.8.7], X-Forwarded-For', () => {
    const NETWORK = 'allow: [10.9.8.7]\ntrustedProxies: [127.0.0.1]';

    /** The client address of each recorded run of `touch`, once the first is in history. */
    function recordedIps(port: number, headers: Record<string, string>): Promise<(string | undefined)[]> {
      return vi.waitFor(
        async () => {
          const response = await get(port, '/api/actions/touch/runs', V4(1), headers);
          expect(response.status).toBe(200);
          const ips = (JSON.parse(response.body) as { runs: { clientIp?: string }[] }).runs.map((r) => r.clientIp);
          expect(ips).not.toHaveLength(0);
          return ips;
        },
        { timeout: 2000, interval: 20 },
      );
    }

    it('the client the proxy names is admitted and recorded as the run\'s client', async () => {
      const { port, canary } = await start(NETWORK);
      const xff = { 'x-forwarded-for': '10.9.8.7' };
      const run = await post(port, '/api/actions/touch/runs', V4(1), xff);
      expect(run.status).toBe(200);
      expect(existsSync(canary)).toBe(true);
      expect(await recordedIps(port, xff)).toEqual(['10.9.8.7']);
    });

    it('the proxy itself, without the header, is not in the allowlist', async () => {
      const { port } = await start(NETWORK);
      expect((await get(port, '/api/actions', V4(1))).status).toBe(404);
      expect((await get(port, '/api/actions', '::1', { 'x-forwarded-for': '10.9.8.7' })).status).toBe(404);
    });

    it('a client-supplied left part does not make a client the allowed one', async () => {
      const { port, canary } = await start(NETWORK);
      // The client wrote 10.9.8.7; the proxy appended the address it saw, 6.6.6.6.
      expect((await get(port, '/api/actions', V4(1), { 'x-forwarded-for': '10.9.8.7, 6.6.6.6' })).status).toBe(404);
      expect((await post(port, '/api/actions/touch/runs', V4(1), { 'x-forwarded-for': '10.9.8.7, 6.6.6.6' })).status).toBe(404);
      expect(existsSync(canary)).toBe(false);
    });

    it('the rightmost untrusted hop is the client, whatever the client put to its left', async () => {
      const { port, canary } = await start(NETWORK);
      const xff = { 'x-forwarded-for': '6.6.6.6, 10.9.8.7' };
      expect((await get(port, '/api/actions', V4(1), xff)).status).toBe(200);
      expect((await post(port, '/api/actions/touch/runs', V4(1), xff)).status).toBe(200);
      expect(existsSync(canary)).toBe(true);
      expect(await recordedIps(port, xff)).toEqual(['10.9.8.7']);
    });

    it('garbage or empty hops are denied, never mistaken for the proxy', async () => {
      const { port } = await start(NETWORK);
      for (const value of ['unknown', '_hidden', 'not-an-ip', '', '10.9.8.7, ', '10.9.8.7:80:90']) {
        expect((await get(port, '/api/actions', V4(1), { 'x-forwarded-for': value })).status, JSON.stringify(value)).toBe(404);
      }
    });

    it('hops with ports are read as addresses', async () => {
      const { port } = await start(NETWORK);
      expect((await get(port, '/api/actions', V4(1), { 'x-forwarded-for': '10.9.8.7:5678' })).status).toBe(200);
    });

    it('a spoofed Forwarded header is ignored when the proxy writes X-Forwarded-For', async () => {
      const { port } = await start(NETWORK);
      expect((await get(port, '/api/actions', V4(1), { forwarded: 'for=10.9.8.7' })).status).toBe(404);
      expect((await get(port, '/api/actions', V4(1), { forwarded: 'for=10.9.8.7', 'x-forwarded-for': '6.6.6.6' })).status).toBe(404);
    });
  });

  describe('trustedProxies: [127.0.0.1], proxyHeader: forwarded', () => {
    const NETWORK = 'allow: [10.9.8.7, "2001:db8::7"]\ntrustedProxies: [127.0.0.1]\nproxyHeader: forwarded';

    it('Forwarded: for=10.9.8.7 is admitted', async () => {
      const { port } = await start(NETWORK);
      expect((await get(port, '/api/actions', V4(1), { forwarded: 'for=10.9.8.7' })).status).toBe(200);
      expect((await get(port, '/api/actions', V4(1), { forwarded: 'for=10.9.8.7;proto=http;host=example.com' })).status).toBe(200);
      expect((await get(port, '/api/actions', V4(1), { forwarded: 'for="[2001:db8::7]:443"' })).status).toBe(200);
      expect((await get(port, '/api/actions', V4(1), { forwarded: 'for=6.6.6.6, for=10.9.8.7' })).status).toBe(200);
    });

    it('a spoofed X-Forwarded-For is ignored', async () => {
      const { port } = await start(NETWORK);
      expect((await get(port, '/api/actions', V4(1), { 'x-forwarded-for': '10.9.8.7' })).status).toBe(404);
      expect((await get(port, '/api/actions', V4(1), { 'x-forwarded-for': '10.9.8.7', forwarded: 'for=6.6.6.6' })).status).toBe(404);
    });

    it('a client-supplied left element, malformed or obfuscated Forwarded is denied', async () => {
      const { port } = await start(NETWORK);
      for (const value of ['for=10.9.8.7, for=6.6.6.6', 'for=', 'for="10.9.8.7', 'for=_hidden', 'for=unknown', 'proto=https']) {
        expect((await get(port, '/api/actions', V4(1), { forwarded: value })).status, value).toBe(404);
      }
    });
  });
});

describe('IPv4-mapped peers on a dual-stack server', () => {
  it('127.0.0.1 arrives as ::ffff:127.0.0.1 and matches allow: [127.0.0.1]', async () => {
    const { server, port } = await start('allow: [127.0.0.1]');
    expect(server.service.fastify.server.address()).toMatchObject({ address: '::' });
    expect((await get(port, '/api/actions', V4(1))).status).toBe(200);
    expect((await get(port, '/api/actions', '::1')).status).toBe(404);
  });

  it('allow: ["::1"] admits ::1 and not 127.0.0.1', async () => {
    const { port } = await start('allow: ["::1"]');
    expect((await get(port, '/api/actions', '::1')).status).toBe(200);
    expect((await get(port, '/api/actions', V4(1))).status).toBe(404);
  });

  it('a mapped address in the config matches the IPv4 client', async () => {
    const { port } = await start('allow: ["::ffff:127.0.0.2"]');
    expect((await get(port, '/api/actions', V4(2))).status).toBe(200);
    expect((await get(port, '/api/actions', V4(1))).status).toBe(404);
  });

  it('allow: ["::/0"] admits IPv6 clients and no IPv4 client; 0.0.0.0/0 the reverse', async () => {
    const v6 = await start('allow: ["::/0"]');
    expect((await get(v6.port, '/healthz', '::1')).status).toBe(200);
    expect((await get(v6.port, '/healthz', V4(1))).status).toBe(404);
    const v4 = await start('allow: [0.0.0.0/0]');
    expect((await get(v4.port, '/healthz', V4(3))).status).toBe(200);
    expect((await get(v4.port, '/healthz', '::1')).status).toBe(404);
  });
});

describe('cross-site requests from an allowed client', () => {
  it.each([
    ['Origin: http://evil.example', { origin: 'http://evil.example' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
    ['Origin: null', { origin: 'null' }],
  ])('a POST with %s is refused with 403 and runs nothing', async (_name, headers) => {
    const { port, canary } = await start();
    for (const url of ['/api/actions/touch/runs', '/api/actions/touch/runs?wait=false', '/do-touch']) {
      const response = await post(port, url, V4(1), headers);
      expect(response.status, url).toBe(403);
      expect(response.body, url).toContain('another site');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(existsSync(canary)).toBe(false);
  });

  it('the same POST without those headers (a script) runs', async () => {
    const { port, canary } = await start();
    const response = await post(port, '/api/actions/touch/runs', V4(1));
    expect([200, 201]).toContain(response.status);
    expect(existsSync(canary)).toBe(true);
  });

  it('a POST from Porthole\'s own page (same origin) runs', async () => {
    const { port, canary } = await start();
    const response = await post(port, '/api/actions/touch/runs', V4(1), { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' });
    expect(response.status).toBe(200);
    expect(existsSync(canary)).toBe(true);
  });

  it('a cross-site GET of a safe action is not refused (viewing is not changing)', async () => {
    const { port } = await start();
    expect((await get(port, '/api/actions/hello/result', V4(1), { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' })).status).toBe(200);
  });

  it('a denied client sending a cross-site POST gets the denied answer, not the CSRF one', async () => {
    const { port, canary } = await start('allow: [127.0.0.1]');
    const response = await post(port, '/api/actions/touch/runs', V4(2), { origin: 'http://evil.example' });
    expect(response.status).toBe(404);
    expect(response.body).not.toContain('another site');
    expect(existsSync(canary)).toBe(false);
  });
});
