import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/config.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { request, startServer, type TestServer } from '../helpers/server.js';

/** Samples of a Prometheus text exposition, keyed by name and labels in sorted order: `name{a="1",b="2"}`. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = (match[2] ?? '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? [];
    samples.set(`${match[1]}{${labels.sort().join(',')}}`, Number(match[3]));
  }
  return samples;
}

function key(name: string, labels: Record<string, string> = {}): string {
  return `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')}}`;
}

/** Serves a SQLite datasource from the test's own folder, made from a one-line script. */
function folderWithDatabase(): string {
  const dir = tempDir('porthole-metrics-');
  writeFileSync(path.join(dir, 'init.sql'), 'CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (7);');
  return dir;
}

/** A command and a cached query; with auth on, anyone signed in sees both and only "runner" may run the command. */
function actions(auth: boolean): string {
  return `
datasources:
  db: { driver: sqlite, path: db.sqlite, initScript: init.sql }
actions:
  hello:
    command: [/bin/echo, hello]
${auth ? '    allow: { view: { users: ["*"] }, run: { users: [runner] } }' : ''}
  sevens:
    query: { datasource: db, sql: SELECT n FROM t }
    cache: 1m
${auth ? '    allow: { view: { users: ["*"] } }' : ''}
`;
}

describe('GET /metrics without auth', () => {
  let server: TestServer;
  let samples: Map<string, number>;
  let contentType: string | undefined;

  beforeAll(async () => {
    const dir = folderWithDatabase();
    server = await startServer(`network: { allow: [127.0.0.1, "::1"] }\n${actions(false)}`, { dir });
    const run = await request(server.port, '/api/actions/hello/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"params":{}}' });
    expect(run.status, run.body).toBe(200);
    for (let i = 0; i < 2; i++) expect((await request(server.port, '/api/actions/sevens/result')).status).toBe(200);
    // From an address outside the allowlist: the gate's ordinary 404, metrics included.
    const denied = await request(server.port, '/metrics', { localAddress: '127.0.0.2' });
    expect(denied.status).toBe(404);
    expect(denied.body).not.toContain('porthole_');
    const crossSite = await request(server.port, '/api/actions/hello/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://elsewhere.example' },
      body: '{"params":{}}',
    });
    expect(crossSite.status).toBe(403);

    const res = await request(server.port, '/metrics');
    expect(res.status).toBe(200);
    contentType = res.headers['content-type'];
    samples = parse(res.body);
  }, 30_000);
  afterAll(() => server?.close());

  it('answers in the Prometheus text format', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('counts runs by action and outcome, and times them', () => {
    expect(samples.get(key('porthole_runs_total', { action: 'hello', outcome: 'succeeded' }))).toBe(1);
    expect(samples.get(key('porthole_runs_total', { action: 'sevens', outcome: 'succeeded' }))).toBe(1);
    expect(samples.get(key('porthole_run_duration_seconds_count', { action: 'hello' }))).toBe(1);
    expect(samples.get(key('porthole_run_duration_seconds_count', { action: 'sevens' }))).toBe(1);
    expect(samples.get(key('porthole_run_duration_seconds_bucket', { action: 'hello', le: '300' }))).toBe(1);
    expect(samples.get(key('porthole_run_duration_seconds_sum', { action: 'hello' }))).toBeGreaterThan(0);
  });

  it('counts a cached query once as a miss, then as a hit; the command is not cached at all', () => {
    expect(samples.get(key('porthole_cache_misses_total', { action: 'sevens' }))).toBe(1);
    expect(samples.get(key('porthole_cache_hits_total', { action: 'sevens' }))).toBe(1);
    expect(samples.has(key('porthole_cache_misses_total', { action: 'hello' }))).toBe(false);
  });

  it('shows the queue and the runs in flight, both empty now', () => {
    expect(samples.get(key('porthole_runs_queued'))).toBe(0);
    expect(samples.get(key('porthole_runs_running'))).toBe(0);
  });

  it('counts refused requests by reason, every reason from 0', () => {
    expect(samples.get(key('porthole_denied_requests_total', { reason: 'network' }))).toBe(1);
    expect(samples.get(key('porthole_denied_requests_total', { reason: 'cross-site' }))).toBe(1);
    for (const reason of ['unauthenticated', 'invalid-token', 'forbidden', 'csrf', 'login-throttled']) {
      expect(samples.get(key('porthole_denied_requests_total', { reason }))).toBe(0);
    }
  });

  it('includes the process metrics', () => {
    expect(samples.get(key('process_cpu_user_seconds_total'))).toBeGreaterThan(0);
    expect(samples.get(key('nodejs_heap_size_used_bytes'))).toBeGreaterThan(0);
    expect([...samples.keys()].some((k) => k.startsWith('nodejs_eventloop_lag_seconds'))).toBe(true);
  });

  it('never labels a sample with a path, an address or a user', () => {
    const labelNames = new Set([...samples.keys()].flatMap((k) => [...k.matchAll(/([a-z_]+)="/g)].map((m) => m[1])));
    for (const name of ['path', 'url', 'ip', 'user']) expect(labelNames.has(name)).toBe(false);
  });
});

describe('GET /metrics with auth', () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    const dir = folderWithDatabase();
    server = await startServer(
      `network: { allow: [127.0.0.1, "::1"] }
auth:
  users: { prometheus: {}, runner: {}, viewer: {} }
  admins: { users: [prometheus] }
  throttle: { maxFailures: 1, window: 1m }
${actions(true)}`,
      { dir },
    );
    token = server.service.app.store.tokens.create('prometheus', 'scraper').token;
  }, 30_000);
  afterAll(() => server?.close());

  const scrape = async () => parse((await request(server.port, '/metrics', { headers: { authorization: `Bearer ${token}` } })).body);
  const denied = (samples: Map<string, number>, reason: string) => samples.get(key('porthole_denied_requests_total', { reason }));

  it('needs an admin: 401 without a token or with a bad one, 404 for a signed-in non-admin, 200 with an admin\'s API token', async () => {
    const anonymous = await request(server.port, '/metrics');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    expect(anonymous.body).not.toContain('porthole_');
    expect((await request(server.port, '/metrics', { headers: { authorization: 'Bearer ph_not-a-token' } })).status).toBe(401);

    const runnerToken = server.service.app.store.tokens.create('runner', 'not-an-admin').token;
    const notAdmin = await request(server.port, '/metrics', { headers: { authorization: `Bearer ${runnerToken}` } });
    expect(notAdmin.status).toBe(404);
    expect(notAdmin.body).not.toContain('porthole_');

    const res = await request(server.port, '/metrics', { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const samples = parse(res.body);
    expect(denied(samples, 'unauthenticated')).toBe(1);
    expect(denied(samples, 'invalid-token')).toBe(1);
  });

  it('counts a run refused by allow: as forbidden', async () => {
    const before = denied(await scrape(), 'forbidden')!;
    const viewerToken = server.service.app.store.tokens.create('viewer', 'may-only-view').token;
    const res = await request(server.port, '/api/actions/hello/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${viewerToken}` },
      body: '{"params":{}}',
    });
    expect(res.status).toBe(403);
    const after = await scrape();
    expect(denied(after, 'forbidden')).toBe(before + 1);
    expect(after.has(key('porthole_runs_total', { action: 'hello', outcome: 'succeeded' }))).toBe(false);
  });

  it('counts a login without its CSRF token, and a throttled login', async () => {
    const jar = new CookieJar();
    const form = await request(server.port, '/login', { headers: { accept: 'text/html' } });
    jar.take(form);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)?.[1];
    expect(csrf).toBeDefined();
    const post = (fields: Record<string, string>) =>
      request(server.port, '/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', cookie: jar.header() },
        body: new URLSearchParams(fields).toString(),
      });

    expect((await post({ user: 'nobody', password: 'wrong-password' })).status).toBe(403);
    expect((await post({ user: 'nobody', password: 'wrong-password', _csrf: csrf! })).status).toBe(401);
    expect((await post({ user: 'nobody', password: 'wrong-password', _csrf: csrf! })).status).toBe(429);

    const samples = await scrape();
    expect(denied(samples, 'csrf')).toBe(1);
    expect(denied(samples, 'login-throttled')).toBe(1);
  });
});
