import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/config.js';
import { processesMatching, waitForNoProcess } from '../helpers/processes.js';
import { request, startServer, type Response, type TestServer } from '../helpers/server.js';
import { requireService } from '../helpers/services.js';

const pgUp = await requireService('postgres');

/** Every server a test starts is closed after it, whatever happened. */
const open: TestServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A temp folder with a small SQLite schema, for configs that need a datasource. */
function folder(): string {
  const dir = tempDir('porthole-http-');
  writeFileSync(
    path.join(dir, 'schema.sql'),
    "CREATE TABLE numbers (n INTEGER, label TEXT); INSERT INTO numbers VALUES (1,'one'),(2,'two'),(3,'three'),(4,'four');",
  );
  return dir;
}

async function serve(yaml: string, options: { dir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<TestServer> {
  const server = await startServer(yaml, options);
  open.push(server);
  return server;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

function post(port: number, url: string, body: unknown, headers: Record<string, string> = JSON_HEADERS): Promise<Response> {
  return request(port, url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

function parse<T = Record<string, unknown>>(res: Response): T {
  return JSON.parse(res.body) as T;
}

interface ErrorJson {
  error: { code: string; message: string; problems?: { param: string; reason: string; allowed: string }[] };
}

interface TextResultJson {
  runId: string;
  actionId: string;
  kind: 'text';
  outcome: string;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  durationMs: number;
  error?: { code: string; message: string };
  cache?: { ageMs: number };
}

interface RunRecordJson {
  id: string;
  actionId: string;
  status: string;
  outcome?: string;
  clientIp?: string;
  params: Record<string, unknown>;
  queuedAt: string;
  durationMs?: number;
  exitCode?: number | null;
  result?: TextResultJson;
  storedTruncated: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls a run until history says it finished. */
async function waitFinished(port: number, action: string, runId: string, timeoutMs = 15_000): Promise<RunRecordJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(port, `/api/actions/${action}/runs/${runId}`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    const record = parse<RunRecordJson>(res);
    if (record.status === 'finished') return record;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not finish: ${res.body}`);
    await sleep(100);
  }
}

/** The newest run of an action as history lists it, once there is one. */
async function firstListedRun(port: number, action: string, timeoutMs = 10_000): Promise<RunRecordJson> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(port, `/api/actions/${action}/runs`, { headers: { accept: 'application/json' } });
    const runs = parse<{ runs: RunRecordJson[] }>(res).runs;
    if (runs[0]) return runs[0];
    if (Date.now() > deadline) throw new Error(`no run of ${action} appeared`);
    await sleep(50);
  }
}

function expectNoStackTrace(body: string): void {
  expect(body).not.toMatch(/^\s{4}at /m);
  expect(body).not.toMatch(/\bat .*\.(ts|js):\d+:\d+/);
}

describe('GET /api/actions', () => {
  it('lists actions with their parameter schemas and never their command, SQL, env or cwd', async () => {
    const dir = folder();
    mkdirSync(path.join(dir, 'cwd-marker-4410'));
    const s = await serve(
      `
datasources:
  local: { driver: sqlite, path: db.sqlite, initScript: schema.sql }
actions:
  greet:
    title: Greet someone
    description: Says hello
    command: [printf, "ARGV-MARKER-7731 %s\\n", "{{who}}"]
    env: { MARKER_VAR: env-marker-5521 }
    cwd: cwd-marker-4410
    params:
      who: { type: string, label: Who, default: world, maxLength: 40 }
      count: { type: integer, label: How many, min: 1, max: 10, default: 2 }
      ratio: { type: number, min: 0.5, max: 2.5 }
      colour:
        type: enum
        label: Colour
        default: blue
        values: [{ value: red, label: Bright red }, blue]
      loud: { type: boolean, default: false }
      day: { type: date, required: true }
  rows:
    title: Numbers
    query:
      datasource: local
      sql: "SELECT n, 'SQL-MARKER-9182' AS tag FROM numbers WHERE n <= :upto"
    params:
      upto: { type: integer, min: 0, max: 100, default: 3 }
  scripted:
    shell: echo SHELL-MARKER-6610
`,
      { dir },
    );
    const res = await request(s.port, '/api/actions', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    for (const marker of ['ARGV-MARKER-7731', 'printf', 'env-marker-5521', 'MARKER_VAR', 'cwd-marker-4410', 'SQL-MARKER-9182', 'SELECT', 'SHELL-MARKER-6610', dir]) {
      expect(res.body).not.toContain(marker);
    }

    const { actions } = parse<{ actions: { id: string; title: string; kind: string; safe: boolean; params: Record<string, unknown>[] }[] }>(res);
    expect(actions.map((a) => a.id).sort()).toEqual(['greet', 'rows', 'scripted']);
    const greet = actions.find((a) => a.id === 'greet')!;
    expect(greet).toMatchObject({ title: 'Greet someone', description: 'Says hello', kind: 'command', safe: false });
    const byName = Object.fromEntries(greet.params.map((p) => [p.name as string, p]));
    expect(byName.who).toMatchObject({ type: 'string', label: 'Who', default: 'world', maxLength: 40 });
    expect(byName.count).toMatchObject({ type: 'integer', label: 'How many', min: 1, max: 10, default: 2 });
    expect(byName.ratio).toMatchObject({ type: 'number', min: 0.5, max: 2.5 });
    expect(byName.colour).toMatchObject({
      type: 'enum',
      label: 'Colour',
      default: 'blue',
      values: [
        { value: 'red', label: 'Bright red' },
        { value: 'blue', label: 'blue' },
      ],
    });
    expect(byName.loud).toMatchObject({ type: 'boolean', default: false });
    expect(byName.day).toMatchObject({ type: 'date', required: true });

    const rows = actions.find((a) => a.id === 'rows')!;
    expect(rows).toMatchObject({ kind: 'query', safe: true });
    expect(rows.params[0]).toMatchObject({ name: 'upto', type: 'integer', min: 0, max: 100, default: 3 });

    // One action's own description has the same discipline.
    const one = await request(s.port, '/api/actions/greet', { headers: { accept: 'application/json' } });
    expect(one.status).toBe(200);
    expect(one.body).not.toContain('ARGV-MARKER-7731');
    expect(one.body).not.toContain('env-marker-5521');
  });
});

describe('POST /api/actions/:id/runs', () => {
  const runsYaml = (dir: string) => `
defaults: { killGrace: 300ms }
server: { shutdownGrace: 1s }
actions:
  hello:
    command: [printf, "hello %s", "{{who}}"]
    params:
      who: { type: string, maxLength: 20 }
      count: { type: integer, min: 1, max: 5 }
  canary:
    command: [touch, "${dir}/canary-ran"]
    params:
      size: { type: integer, min: 1, max: 10 }
      mode: { type: enum, values: [a, b] }
      name: { type: string, maxLength: 4096, required: false }
  fail:
    shell: echo oops >&2; exit 3
  hang:
    command: [sleep, "61.47"]
    timeout: 1s
  long:
    command: [sleep, "{{seconds}}"]
    params: { seconds: { type: string, pattern: "^[0-9.]+$" } }
`;

  it('answers 200 with the result when the command succeeds', async () => {
    const dir = folder();
    const s = await serve(runsYaml(dir), { dir });
    const res = await post(s.port, '/api/actions/hello/runs', { params: { who: 'world', count: 2 } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const result = parse<TextResultJson>(res);
    expect(result).toMatchObject({ actionId: 'hello', kind: 'text', outcome: 'succeeded', stdout: 'hello world', exitCode: 0 });
    expect(res.headers['x-porthole-run']).toBe(result.runId);
  });

  it('answers 400 listing every bad parameter, and runs nothing', async () => {
    const dir = folder();
    const s = await serve(runsYaml(dir), { dir });
    const res = await post(s.port, '/api/actions/canary/runs', { params: { size: 99, mode: 'z', bogus: 1 } });
    expect(res.status).toBe(400);
    const { error } = parse<ErrorJson>(res);
    expect(error.code).toBe('PARAMS_INVALID');
    const problems = Object.fromEntries((error.problems ?? []).map((p) => [p.param, p]));
    expect(Object.keys(problems).sort()).toEqual(['bogus', 'mode', 'size']);
    expect(problems.size!.reason).toMatch(/maximum 10/);
    expect(problems.size!.allowed).toMatch(/at most 10/);
    expect(problems.mode!.reason).toMatch(/not one of/);
    expect(problems.mode!.allowed).toMatch(/a, b/);
    expect(problems.bogus!.reason).toMatch(/unknown parameter/);
    await sleep(200);
    expect(existsSync(path.join(dir, 'canary-ran'))).toBe(false);

    // The control run proves the canary would have been noticed.
    const ok = await post(s.port, '/api/actions/canary/runs', { params: { size: 1, mode: 'a' } });
    expect(ok.status).toBe(200);
    expect(existsSync(path.join(dir, 'canary-ran'))).toBe(true);
  });

  it('answers 502 saying the exit code when the command fails', async () => {
    const dir = folder();
    const s = await serve(runsYaml(dir), { dir });
    const res = await post(s.port, '/api/actions/fail/runs', {});
    expect(res.status).toBe(502);
    const result = parse<TextResultJson>(res);
    expect(result.outcome).toBe('failed');
    expect(result.exitCode).toBe(3);
    expect(result.error?.code).toBe('COMMAND_FAILED');
    expect(result.error?.message).toContain('exited with code 3');
    expect(result.stderr).toBe('oops\n');
    // curl gets the same in words.
    const text = await post(s.port, '/api/actions/fail/runs', {}, { 'content-type': 'application/json', accept: 'text/plain' });
    expect(text.status).toBe(502);
    expect(text.body).toContain('exited with code 3');
  });

  it('answers 504 when the command times out', async () => {
    const dir = folder();
    const s = await serve(runsYaml(dir), { dir });
    const began = Date.now();
    const res = await post(s.port, '/api/actions/hang/runs', {});
    expect(res.status).toBe(504);
    expect(Date.now() - began).toBeLessThan(8000);
    const result = parse<TextResultJson>(res);
    expect(result.outcome).toBe('timed-out');
    expect(result.error?.code).toBe('TIMEOUT');
    expect(await waitForNoProcess('sleep 61.47')).toEqual([]);
  });

  it('answers 409 when the run it waits for is cancelled', async () => {
    const dir = folder();
    const s = await serve(runsYaml(dir), { dir });
    const pending = post(s.port, '/api/actions/long/runs', { params: { seconds: '45.83' } });
    const run = await firstListedRun(s.port, 'long');
    const del = await request(s.port, `/api/actions/long/runs/${run.id}`, { method: 'DELETE', headers: { accept: 'application/json' } });
    expect(del.status).toBe(202);
    const res = await pending;
    expect(res.status).toBe(409);
    expect(parse<TextResultJson>(res).outcome).toBe('cancelled');
    expect(await waitForNoProcess('sleep 45.83')).toEqual([]);
  });

  it('answers 404 for an unknown action, as JSON for API clients', async () => {
    const dir = folder();
    const s = await serve(runsYaml(dir), { dir });
    const res = await post(s.port, '/api/actions/nope/runs', { params: {} });
    expect(res.status).toBe(404);
    expect(parse<ErrorJson>(res).error.code).toBe('NOT_FOUND');
  });

  it('?wait=false answers 202 with Location and links; the run can be read until it finishes', async () => {
    const dir = folder();
    const s = await serve(runsYaml(dir), { dir });
    const res = await post(s.port, '/api/actions/long/runs?wait=false', { params: { seconds: '0.6' } });
    expect(res.status).toBe(202);
    const body = parse<{ id: string; actionId: string; status: string; links: { self: string; events: string } }>(res);
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.location).toBe(`/api/actions/long/runs/${body.id}`);
    expect(body.links).toEqual({ self: `/api/actions/long/runs/${body.id}`, events: `/api/actions/long/runs/${body.id}/events` });
    expect(['queued', 'running']).toContain(body.status);

    const early = parse<RunRecordJson>(await request(s.port, body.links.self, { headers: { accept: 'application/json' } }));
    expect(early.id).toBe(body.id);
    expect(['queued', 'running', 'finished']).toContain(early.status);

    const done = await waitFinished(s.port, 'long', body.id);
    expect(done.outcome).toBe('succeeded');
    expect(done.exitCode).toBe(0);
    expect(done.result?.outcome).toBe('succeeded');
  });

  it('DELETE cancels a run in flight (202), which ends cancelled with its process gone; DELETE again is 409', async () => {
    const dir = folder();
    const s = await serve(runsYaml(dir), { dir });
    const res = await post(s.port, '/api/actions/long/runs?wait=false', { params: { seconds: '47.31' } });
    expect(res.status).toBe(202);
    const { id } = parse<{ id: string }>(res);
    // Wait until the process exists, so the cancel has something to stop.
    const deadline = Date.now() + 5000;
    while (processesMatching('sleep 47.31').length === 0 && Date.now() < deadline) await sleep(50);
    expect(processesMatching('sleep 47.31').length).toBeGreaterThan(0);

    const del = await request(s.port, `/api/actions/long/runs/${id}`, { method: 'DELETE', headers: { accept: 'application/json' } });
    expect(del.status).toBe(202);
    const record = await waitFinished(s.port, 'long', id);
    expect(record.outcome).toBe('cancelled');
    expect(await waitForNoProcess('sleep 47.31')).toEqual([]);

    const again = await request(s.port, `/api/actions/long/runs/${id}`, { method: 'DELETE', headers: { accept: 'application/json' } });
    expect(again.status).toBe(409);
    expect(parse<ErrorJson>(again).error.code).toBe('ALREADY_FINISHED');
  });
});

describe('request bodies and limits', () => {
  const limitsYaml = (dir: string) => `
server: { bodyLimit: 1KiB, maxParams: 3, maxHeaderSize: 2KiB }
actions:
  hello:
    command: [printf, "hello %s %s", "{{who}}", "{{count}}"]
    safe: true
    params:
      who: { type: string, maxLength: 4096 }
      count: { type: integer, min: 1, max: 5 }
      a: { type: string, required: false }
      b: { type: string, required: false }
  canary:
    command: [touch, "${dir}/canary-ran"]
    params:
      name: { type: string, maxLength: 60000, required: false }
`;

  it('takes form-encoded bodies like JSON', async () => {
    const dir = folder();
    const s = await serve(limitsYaml(dir), { dir });
    const form = await post(s.port, '/api/actions/hello/runs', 'who=alice+smith&count=2', { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    const json = await post(s.port, '/api/actions/hello/runs', { params: { who: 'alice smith', count: 2 } });
    expect(form.status).toBe(200);
    expect(json.status).toBe(200);
    expect(parse<TextResultJson>(form).stdout).toBe('hello alice smith 2');
    expect(parse<TextResultJson>(json).stdout).toBe('hello alice smith 2');
    const bad = await post(s.port, '/api/actions/hello/runs', 'who=x&count=9', { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    expect(bad.status).toBe(400);
    expect(parse<ErrorJson>(bad).error.problems?.[0]?.param).toBe('count');
  });

  it.each([
    ['text/plain', 'who=alice'],
    ['text/plain; charset=utf-8', ''],
    ['application/xml', '<params><who>alice</who></params>'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="who"\r\n\r\nalice\r\n--x--\r\n'],
  ])('refuses a %s body with 415', async (type, body) => {
    const dir = folder();
    const s = await serve(limitsYaml(dir), { dir });
    const res = await post(s.port, '/api/actions/canary/runs', body, { 'content-type': type, accept: 'application/json' });
    expect(res.status).toBe(415);
    expect(parse<ErrorJson>(res).error.message).toMatch(/application\/json/);
    expect(existsSync(path.join(dir, 'canary-ran'))).toBe(false);
  });

  it('refuses malformed JSON and unknown top-level fields with 400', async () => {
    const dir = folder();
    const s = await serve(limitsYaml(dir), { dir });
    const malformed = await post(s.port, '/api/actions/canary/runs', '{"params": {"name": "x"');
    expect(malformed.status).toBe(400);
    expect(parse<ErrorJson>(malformed).error.message).toMatch(/not valid JSON/);
    expectNoStackTrace(malformed.body);

    const extra = await post(s.port, '/api/actions/canary/runs', { params: { name: 'x' }, extra: 1 });
    expect(extra.status).toBe(400);
    expect(parse<ErrorJson>(extra).error.message).toContain('extra');

    const notObject = await post(s.port, '/api/actions/canary/runs', { params: ['x'] });
    expect(notObject.status).toBe(400);
    const array = await post(s.port, '/api/actions/canary/runs', '[1,2]');
    expect(array.status).toBe(400);
    await sleep(200);
    expect(existsSync(path.join(dir, 'canary-ran'))).toBe(false);
  });

  it('refuses a body over server.bodyLimit with 413 and runs nothing', async () => {
    const dir = folder();
    const s = await serve(limitsYaml(dir), { dir });
    const big = await post(s.port, '/api/actions/canary/runs', { params: { name: 'x'.repeat(2000) } });
    expect(big.status).toBe(413);
    expect(parse<ErrorJson>(big).error.message).toMatch(/larger/);
    const bigForm = await post(s.port, '/api/actions/canary/runs', `name=${'x'.repeat(2000)}`, { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
    expect(bigForm.status).toBe(413);
    await sleep(200);
    expect(existsSync(path.join(dir, 'canary-ran'))).toBe(false);
  });

  it('refuses more parameters than server.maxParams with 400, in a body or a query string', async () => {
    const dir = folder();
    const s = await serve(limitsYaml(dir), { dir });
    const four = { who: 'x', count: 1, a: 'y', b: 'z' };
    const body = await post(s.port, '/api/actions/hello/runs', { params: four });
    expect(body.status).toBe(400);
    expect(parse<ErrorJson>(body).error.message).toMatch(/too many parameters/);
    const query = await request(s.port, '/api/actions/hello/result?who=x&count=1&a=y&b=z', { headers: { accept: 'application/json' } });
    expect(query.status).toBe(400);
    expect(parse<ErrorJson>(query).error.message).toMatch(/too many parameters/);
    const three = await request(s.port, '/api/actions/hello/result?who=x&count=1&a=y', { headers: { accept: 'application/json' } });
    expect(three.status).toBe(200);
  });

  it('refuses headers larger than server.maxHeaderSize with 431', async () => {
    const dir = folder();
    const s = await serve(limitsYaml(dir), { dir });
    const small = await request(s.port, '/healthz', { headers: { 'x-filler': 'a'.repeat(1000) } });
    expect(small.status).toBe(200);
    const large = await request(s.port, '/healthz', { headers: { 'x-filler': 'a'.repeat(4000) } });
    expect(large.status).toBe(431);
  });
});

describe('hostile string parameters', () => {
  const hostileYaml = (dir: string) => `
actions:
  argv:
    command: [printf, "%s", "{{text}}"]
    cwd: "${dir}"
    params: { text: { type: string } }
  script:
    shell: printf '%s' "$PORTHOLE_PARAM_TEXT"
    cwd: "${dir}"
    params: { text: { type: string } }
`;
  const mustRefuse = ['a\u0000b', 'a\nb', 'a\rb', 'a\u001bb', 'a\u202eb'];
  const literal = ['$(touch canary)', '`touch canary`', '; touch canary', '| touch canary', '&& touch canary', "'; touch canary; '", '${IFS}touch${IFS}canary', '"$(touch canary)"', '../../etc/passwd', '*'];

  it('refuses control characters and a leading "-" in argv with 400; passes shell syntax as one literal argument', async () => {
    const dir = folder();
    const s = await serve(hostileYaml(dir), { dir });
    for (const action of ['argv', 'script']) {
      for (const text of mustRefuse) {
        const res = await post(s.port, `/api/actions/${action}/runs`, { params: { text } });
        expect(res.status, `${action} ${JSON.stringify(text)}`).toBe(400);
        expect(parse<ErrorJson>(res).error.problems?.[0]?.reason).toMatch(/control character/);
      }
      for (const text of literal) {
        const res = await post(s.port, `/api/actions/${action}/runs`, { params: { text } });
        expect(res.status, `${action} ${JSON.stringify(text)}`).toBe(200);
        expect(parse<TextResultJson>(res).stdout).toBe(text);
      }
      // The same through a form body and a query string's decoding.
      const form = await post(s.port, `/api/actions/${action}/runs`, `text=${encodeURIComponent('$(touch canary)')}`, { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
      expect(parse<TextResultJson>(form).stdout).toBe('$(touch canary)');
      const nul = await post(s.port, `/api/actions/${action}/runs`, 'text=a%00b', { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
      expect(nul.status).toBe(400);
    }
    for (const text of ['-rf', '--help', '-']) {
      const argv = await post(s.port, '/api/actions/argv/runs', { params: { text } });
      expect(argv.status, JSON.stringify(text)).toBe(400);
      expect(parse<ErrorJson>(argv).error.problems?.[0]?.reason).toMatch(/must not start with "-"/);
      // In an environment variable a dash is harmless, and arrives as written.
      const env = await post(s.port, '/api/actions/script/runs', { params: { text } });
      expect([200, 400]).toContain(env.status);
      if (env.status === 200) expect(parse<TextResultJson>(env).stdout).toBe(text);
    }
    expect(existsSync(path.join(dir, 'canary'))).toBe(false);
    expect(existsSync(path.join(s.service.app.generations.current.config.dir, 'canary'))).toBe(false);
  });
});

describe('safe actions over GET, formats and aliases', () => {
  const yaml = `
actions:
  echo:
    title: Echo
    command: [printf, "%s,%s\\n", "{{a}}", "{{b}}"]
    safe: true
    params: { a: { type: string }, b: { type: string } }
  xss:
    title: Hostile <b>output</b>
    command: [printf, "<script>alert(1)</script>\\n"]
    safe: true
  danger:
    command: [printf, "changed"]
  status:
    title: Status
    path: /status/
    command: [printf, "all good\\n"]
    safe: true
`;

  it('answers GET /api/actions/:id/result from query-string parameters, with suffixes picking the type', async () => {
    const s = await serve(yaml);
    const res = await request(s.port, '/api/actions/echo/result?a=x&b=y%20z', { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(parse<TextResultJson>(res).stdout).toBe('x,y z\n');

    const types: Record<string, RegExp> = { json: /^application\/json/, csv: /^text\/csv/, txt: /^text\/plain/, html: /^text\/html/ };
    for (const [suffix, type] of Object.entries(types)) {
      // A browser's Accept must not override an explicit suffix.
      const r = await request(s.port, `/api/actions/echo/result.${suffix}?a=x&b=y`, { headers: { accept: 'text/html,*/*;q=0.8' } });
      expect(r.status, suffix).toBe(200);
      expect(r.headers['content-type'], suffix).toMatch(type);
      expect(r.body, suffix).toContain('x,y');
    }
    const unsafe = await request(s.port, '/api/actions/danger/result', { headers: { accept: 'application/json' } });
    expect(unsafe.status).toBe(405);
    expect(unsafe.headers.allow).toBe('POST');
    expect(parse<ErrorJson>(unsafe).error.code).toBe('METHOD_NOT_ALLOWED');
    const unsafeSuffix = await request(s.port, '/api/actions/danger/result.txt');
    expect(unsafeSuffix.status).toBe(405);
    expect(unsafeSuffix.headers.allow).toBe('POST');
  });

  it('picks the format by Accept and escapes output in HTML', async () => {
    const s = await serve(yaml);
    const html = await request(s.port, '/api/actions/xss/result', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(html.status).toBe(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toMatch(/^<!doctype html>/i);
    expect(html.body).not.toContain('<script>alert(1)</script>');
    expect(html.body).not.toContain('<b>output</b>');
    // The only script is Porthole's own, loaded from a file (the CSP forbids inline script).
    expect(html.body.match(/<script[^>]*>/gi)).toEqual(['<script src="/static/porthole.js" defer>']);
    // Escaped: `&lt;script&gt;` or the equivalent numeric references.
    expect(html.body).toMatch(/(&lt;|&#60;|&#x3c;)script(&gt;|&#62;|&#x3e;)alert\(1\)/i);

    const json = await request(s.port, '/api/actions/xss/result', { headers: { accept: 'application/json' } });
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(parse<TextResultJson>(json).stdout).toBe('<script>alert(1)</script>\n');

    const csv = await request(s.port, '/api/actions/echo/result?a=1&b=2', { headers: { accept: 'text/csv' } });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body).toContain('1,2');

    const text = await request(s.port, '/api/actions/echo/result?a=1&b=2', { headers: { accept: 'text/plain' } });
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.body).toBe('1,2\n');

    // The action page escapes as well.
    const page = await request(s.port, '/actions/xss', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.body.match(/<script[^>]*>/gi)).toEqual(['<script src="/static/porthole.js" defer>']);
  });

  it('serves the path alias with and without its trailing slash and with suffixes; curl gets text', async () => {
    const s = await serve(yaml);
    const curl = await request(s.port, '/status/', { headers: { accept: '*/*' } });
    expect(curl.status).toBe(200);
    expect(curl.headers['content-type']).toMatch(/^text\/plain/);
    expect(curl.body).toBe('all good\n');
    const noSlash = await request(s.port, '/status', { headers: { accept: '*/*' } });
    expect(noSlash.status).toBe(200);
    expect(noSlash.body).toBe('all good\n');
    const noAccept = await request(s.port, '/status/');
    expect(noAccept.headers['content-type']).toMatch(/^text\/plain/);

    const browser = await request(s.port, '/status/', { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(browser.headers['content-type']).toMatch(/^text\/html/);
    expect(browser.body).toContain('all good');

    const expected: Record<string, RegExp> = { '/status.json': /^application\/json/, '/status.csv': /^text\/csv/, '/status.txt': /^text\/plain/ };
    for (const [url, type] of Object.entries(expected)) {
      const r = await request(s.port, url, { headers: { accept: '*/*' } });
      expect(r.status, url).toBe(200);
      expect(r.headers['content-type'], url).toMatch(type);
      expect(r.body, url).toContain('all good');
    }
    expect(parse<TextResultJson>(await request(s.port, '/status.json')).stdout).toBe('all good\n');
    expect((await request(s.port, '/status.nope')).status).toBe(404);
  });
});

describe('cache and single flight', () => {
  it('runs a cached action once for 50 concurrent requests, then serves it with its age', async () => {
    const dir = folder();
    const counter = path.join(dir, 'counter');
    const s = await serve(
      `
limits: { concurrency: 4, queue: 8 }
actions:
  counted:
    shell: echo run >> "${counter}"; sleep 0.5; echo done
    safe: true
    cache: 5s
`,
      { dir },
    );
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => request(s.port, '/api/actions/counted/result', { headers: { accept: 'application/json' } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const ids = new Set(responses.map((r) => r.headers['x-porthole-run']));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(readFileSync(counter, 'utf8')).toBe('run\n');

    await sleep(1100);
    const later = await request(s.port, '/api/actions/counted/result', { headers: { accept: 'application/json' } });
    expect(later.status).toBe(200);
    expect(later.headers['x-porthole-run']).toBe([...ids][0]);
    expect(later.headers.age).toMatch(/^\d+$/);
    expect(Number(later.headers.age)).toBeGreaterThanOrEqual(1);
    const body = parse<TextResultJson>(later);
    expect(body.cache?.ageMs).toBeGreaterThanOrEqual(1000);
    expect(body.cache!.ageMs).toBeLessThan(5000);
    expect(readFileSync(counter, 'utf8')).toBe('run\n');
  });
});

describe('run history', () => {
  const historyYaml = `
history: { maxOutput: 1KiB }
actions:
  login:
    shell: echo "user=$PORTHOLE_PARAM_USER"
    params:
      user: { type: string }
      token: { type: string, secret: true }
  big:
    shell: head -c 5000 /dev/zero | tr '\\0' x
  other:
    command: [printf, other]
`;

  it('lists runs newest first with client IP, masked secrets, outcome and duration; reads one with its result', async () => {
    const s = await serve(historyYaml);
    const secret = 'tok-SECRET-81273';
    const first = await post(s.port, '/api/actions/login/runs', { params: { user: 'ann', token: secret } });
    const second = await post(s.port, '/api/actions/login/runs', { params: { user: 'bob', token: `${secret}-2` } });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    const ids = [parse<TextResultJson>(second).runId, parse<TextResultJson>(first).runId];

    const list = await request(s.port, '/api/actions/login/runs', { headers: { accept: 'application/json' } });
    expect(list.status).toBe(200);
    expect(list.body).not.toContain(secret);
    const { runs } = parse<{ runs: RunRecordJson[] }>(list);
    expect(runs.map((r) => r.id)).toEqual(ids);
    for (const run of runs) {
      expect(run.clientIp).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
      expect(run.params.token).toBe('***');
      expect(run.outcome).toBe('succeeded');
      expect(run.status).toBe('finished');
      expect(typeof run.durationMs).toBe('number');
      expect(run.result).toBeUndefined();
    }
    expect(runs[0]!.params.user).toBe('bob');

    const one = await request(s.port, `/api/actions/login/runs/${ids[1]}`, { headers: { accept: 'application/json' } });
    expect(one.status).toBe(200);
    expect(one.body).not.toContain(secret);
    const record = parse<RunRecordJson>(one);
    expect(record.id).toBe(ids[1]);
    expect(record.params).toEqual({ user: 'ann', token: '***' });
    expect(record.result?.stdout).toBe('user=ann\n');
    expect(record.storedTruncated).toBe(false);
  });

  it('cuts stored output at history.maxOutput and says so', async () => {
    const s = await serve(historyYaml);
    const res = await post(s.port, '/api/actions/big/runs', {});
    expect(res.status).toBe(200);
    const result = parse<TextResultJson>(res);
    expect(result.stdout).toHaveLength(5000);
    const record = parse<RunRecordJson>(await request(s.port, `/api/actions/big/runs/${result.runId}`));
    expect(record.storedTruncated).toBe(true);
    expect(record.result?.stdout).toBe('x'.repeat(1024));
  });

  it('validates limit and before, and pages with them', async () => {
    const s = await serve(historyYaml);
    for (let i = 0; i < 3; i++) expect((await post(s.port, '/api/actions/other/runs', {})).status).toBe(200);
    for (const query of ['limit=0', 'limit=-1', 'limit=abc', 'limit=501', 'limit=1.5', 'limit=', 'before=yesterday', 'before=2024-13-45']) {
      const res = await request(s.port, `/api/actions/other/runs?${query}`, { headers: { accept: 'application/json' } });
      expect(res.status, query).toBe(400);
      expect(parse<ErrorJson>(res).error.message, query).toMatch(/limit|before/);
    }
    const all = parse<{ runs: RunRecordJson[] }>(await request(s.port, '/api/actions/other/runs')).runs;
    expect(all).toHaveLength(3);
    const limited = parse<{ runs: RunRecordJson[] }>(await request(s.port, '/api/actions/other/runs?limit=2')).runs;
    expect(limited.map((r) => r.id)).toEqual(all.slice(0, 2).map((r) => r.id));
    const older = parse<{ runs: RunRecordJson[] }>(await request(s.port, `/api/actions/other/runs?before=${encodeURIComponent(all[0]!.queuedAt)}`)).runs;
    expect(older.map((r) => r.id)).toEqual(all.slice(1).map((r) => r.id));
  });

  it('answers 404 for run ids that are not UUIDs, path traversal, unknown runs and runs of another action', async () => {
    const s = await serve(historyYaml);
    const other = parse<TextResultJson>(await post(s.port, '/api/actions/other/runs', {})).runId;
    const bad = ['not-a-uuid', '..%2F..%2Fetc%2Fpasswd', '..%2F..%2F..%2Fporthole.db', '%2e%2e', `${other}x`, other.toUpperCase(), '00000000-0000-0000-0000-000000000000'];
    for (const run of bad) {
      for (const suffix of ['', '/events']) {
        const res = await request(s.port, `/api/actions/login/runs/${run}${suffix}`, { headers: { accept: 'application/json' } });
        expect(res.status, run + suffix).toBe(404);
        expect(res.body).not.toContain('root:');
      }
      const del = await request(s.port, `/api/actions/login/runs/${run}`, { method: 'DELETE', headers: { accept: 'application/json' } });
      expect(del.status, run).toBe(404);
    }
    // The run exists, but under another action.
    for (const suffix of ['', '/events']) expect((await request(s.port, `/api/actions/login/runs/${other}${suffix}`)).status).toBe(404);
    expect((await request(s.port, `/api/actions/login/runs/${other}`, { method: 'DELETE' })).status).toBe(404);
    expect((await request(s.port, `/api/actions/other/runs/${other}`)).status).toBe(200);
    // And an unknown action's history is not found either.
    expect((await request(s.port, '/api/actions/nope/runs')).status).toBe(404);
  });

  it('keeps only history.maxRuns runs after pruning', async () => {
    const s = await serve(`
history: { maxRuns: 3 }
actions:
  other:
    command: [printf, other]
`);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(parse<TextResultJson>(await post(s.port, '/api/actions/other/runs', {})).runId);
    expect(parse<{ runs: unknown[] }>(await request(s.port, '/api/actions/other/runs')).runs).toHaveLength(5);
    const removed = await s.service.app.store.history.prune();
    expect(removed).toBe(2);
    const left = parse<{ runs: RunRecordJson[] }>(await request(s.port, '/api/actions/other/runs')).runs;
    expect(left.map((r) => r.id)).toEqual(ids.slice(2).reverse());
    expect((await request(s.port, `/api/actions/other/runs/${ids[0]}`)).status).toBe(404);
  });
});

describe('health and readiness', () => {
  it('/healthz answers 200 and /readyz 200 with a working SQLite datasource', async () => {
    const dir = folder();
    const s = await serve(
      `
datasources:
  local: { driver: sqlite, path: db.sqlite, initScript: schema.sql }
actions:
  rows:
    query: { datasource: local, sql: SELECT n FROM numbers }
`,
      { dir },
    );
    const health = await request(s.port, '/healthz');
    expect(health.status).toBe(200);
    const ready = await request(s.port, '/readyz', { headers: { accept: 'application/json' } });
    expect(ready.status).toBe(200);
    expect(parse<{ status: string; datasources: { name: string; ok: boolean }[] }>(ready)).toMatchObject({ status: 'ready', datasources: [{ name: 'local', ok: true }] });
  });

  it('/readyz answers 503 naming an unreachable datasource, without its password', async () => {
    const dir = folder();
    const password = 'pg-PASSWORD-55123';
    const s = await serve(
      `
datasources:
  local: { driver: sqlite, path: db.sqlite, initScript: schema.sql }
  gone:
    driver: postgres
    host: 127.0.0.1
    port: 1
    database: nothing
    user: nobody
    password: \${env:GONE_PASSWORD}
    connectTimeout: 2s
actions:
  rows:
    query: { datasource: gone, sql: SELECT 1 }
`,
      { dir, env: { GONE_PASSWORD: password } },
    );
    const began = Date.now();
    const ready = await request(s.port, '/readyz', { headers: { accept: 'application/json' } });
    expect(Date.now() - began).toBeLessThan(5000);
    expect(ready.status).toBe(503);
    expect(ready.body).not.toContain(password);
    expectNoStackTrace(ready.body);
    const body = parse<{ status: string; datasources: { name: string; ok: boolean; error?: string }[] }>(ready);
    expect(body.status).toBe('not ready');
    const gone = body.datasources.find((d) => d.name === 'gone');
    expect(gone).toMatchObject({ ok: false });
    expect(gone?.error).toBeTruthy();
    expect(body.datasources.find((d) => d.name === 'local')).toMatchObject({ ok: true });
  });
});

describe('error bodies', () => {
  it('answers JSON to API clients and a plain HTML page to browsers, without stack traces', async () => {
    const s = await serve(`
actions:
  hello:
    command: [printf, hi]
    params: { n: { type: integer, max: 3 } }
`);
    const api = await post(s.port, '/api/actions/hello/runs', { params: { n: 7 } });
    expect(api.status).toBe(400);
    const { error } = parse<ErrorJson>(api);
    expect(typeof error.code).toBe('string');
    expect(typeof error.message).toBe('string');

    const browser = await post(s.port, '/api/actions/hello/runs', 'n=7', { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(browser.status).toBe(400);
    expect(browser.headers['content-type']).toMatch(/^text\/html/);
    expect(browser.body).toMatch(/^<!doctype html>/i);
    expect(browser.body).toContain('above the maximum 3');

    const notFound = await request(s.port, '/nowhere', { headers: { accept: 'text/html' } });
    expect(notFound.status).toBe(404);
    expect(notFound.headers['content-type']).toMatch(/^text\/html/);
    const notFoundApi = await request(s.port, '/api/actions/nope', { headers: { accept: 'application/json' } });
    expect(notFoundApi.status).toBe(404);
    expect(parse<ErrorJson>(notFoundApi).error.code).toBe('NOT_FOUND');

    for (const res of [api, browser, notFound, notFoundApi]) expectNoStackTrace(res.body);
  });

  it('never shows a datasource secret when the datasource fails', async () => {
    const secret = 'Secret-PW-77341';
    // On a real server the rejected user name is echoed by PostgreSQL: it is the secret too.
    const datasource = pgUp
      ? 'host: 127.0.0.1\n    port: 5432\n    database: postgres\n    user: ${env:DB_SECRET}\n    password: ${env:DB_SECRET}'
      : 'host: 127.0.0.1\n    port: 1\n    database: postgres\n    user: ${env:DB_SECRET}\n    password: ${env:DB_SECRET}';
    const s = await serve(
      `
datasources:
  db:
    driver: postgres
    ${datasource}
    connectTimeout: 2s
actions:
  q:
    query: { datasource: db, sql: SELECT 1 }
`,
      { env: { DB_SECRET: secret } },
    );
    const api = await request(s.port, '/api/actions/q/result', { headers: { accept: 'application/json' } });
    expect(api.status).toBe(503);
    const body = parse<{ outcome: string; error: { code: string; message: string } }>(api);
    expect(body.outcome).toBe('unavailable');
    expect(body.error.code).toBe('DATASOURCE_UNAVAILABLE');
    expect(body.error.message.length).toBeGreaterThan(0);
    const browser = await request(s.port, '/api/actions/q/result', { headers: { accept: 'text/html' } });
    expect(browser.status).toBe(503);
    expect(browser.headers['content-type']).toMatch(/^text\/html/);
    const text = await request(s.port, '/api/actions/q/result.txt');
    const history = await request(s.port, '/api/actions/q/runs');
    const one = await request(s.port, `/api/actions/q/runs/${parse<{ runId: string }>(api).runId}`);
    expect(one.status).toBe(200);
    // PostgreSQL named the role, which is the secret: the message proves it was scrubbed, not absent.
    if (pgUp) expect(body.error.message).toContain('***');
    const ready = await request(s.port, '/readyz');
    expect(ready.status).toBe(503);
    for (const res of [api, browser, text, history, one, ready]) {
      expect(res.body).not.toContain(secret);
      expectNoStackTrace(res.body);
    }
  });
});
