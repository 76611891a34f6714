import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { ConfigError, type ConfigIssue } from '../../src/config/issues.js';
import { configPath, loadConfig, parseConfig, type Config } from '../../src/config/load.js';
import { Secrets } from '../../src/config/secrets.js';
import type { Action, CommandAction, QueryAction } from '../../src/core/action.js';

/** A config file in a folder that does not exist: fine for everything that reads no files. */
const FILE = '/nonexistent/porthole/porthole.yaml';

/** One string per line, so a test can count lines: lines[0] is line 1. */
function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function load(text: string, env: NodeJS.ProcessEnv = {}, file = FILE): Config {
  return parseConfig(text, file, env);
}

function configError(text: string, env: NodeJS.ProcessEnv = {}, file = FILE): ConfigError {
  try {
    load(text, env, file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected the config to be rejected, but it loaded');
}

function errors(text: string, env: NodeJS.ProcessEnv = {}, file = FILE): ConfigIssue[] {
  return configError(text, env, file).issues.filter((i) => i.severity === 'error');
}

/** Everything a ConfigError could show anyone: its message and every field of every issue. */
function wholeErrorText(error: ConfigError): string {
  return `${error.message}\n${JSON.stringify(error.issues)}\n${String(error.stack)}`;
}

function action(config: Config, id: string): Action {
  const found = config.actions.get(id);
  if (!found) throw new Error(`no action ${id}`);
  return found;
}

function commandAction(config: Config, id: string): CommandAction {
  const found = action(config, id);
  if (found.kind !== 'command') throw new Error(`${id} is not a command`);
  return found;
}

function queryAction(config: Config, id: string): QueryAction {
  const found = action(config, id);
  if (found.kind !== 'query') throw new Error(`${id} is not a query`);
  return found;
}

const SQLITE = ['datasources:', '  db: { driver: sqlite, path: data.db }'];

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'porthole-config-test-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('a valid minimal config', () => {
  const config = load(yaml('actions:', '  hello:', '    command: [echo, hello]'));

  it('loads with the documented defaults', () => {
    expect(config.file).toBe(FILE);
    expect(config.dir).toBe('/nonexistent/porthole');
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.network.allow).toEqual(['127.0.0.1', '::1']);
    expect(config.network.trustedProxies).toEqual([]);
    expect(config.network.deny).toBe(404);
    expect(config.datasources).toEqual({});
    expect(config.warnings).toEqual([]);
  });

  it('gives the action the default timeout, output cap and kill grace', () => {
    const hello = commandAction(config, 'hello');
    expect(hello.timeoutMs).toBe(30_000);
    expect(hello.maxOutputBytes).toBe(1024 * 1024);
    expect(hello.killGraceMs).toBe(5000);
    expect(hello.title).toBe('hello');
    expect(hello.params).toEqual([]);
    expect(hello.env).toEqual({});
    expect(hello.cwd).toBeUndefined();
    expect(hello.argv).toEqual([[{ text: 'echo' }], [{ text: 'hello' }]]);
  });

  it('gives a query the default row cap', () => {
    const q = queryAction(load(yaml(...SQLITE, 'actions:', '  q:', '    query: { datasource: db, sql: SELECT 1 }')), 'q');
    expect(q.maxRows).toBe(10_000);
    expect(q.timeoutMs).toBe(30_000);
    expect(q.datasource).toBe('db');
    expect(q.sql).toBe('SELECT 1');
  });

  it('parses listen addresses, IPv6 included', () => {
    expect(load(yaml('listen: 0.0.0.0:9000', 'actions: { a: { command: [uptime] } }')).listen).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(load(yaml('listen: "[::1]:8081"', 'actions: { a: { command: [uptime] } }')).listen).toEqual({ host: '::1', port: 8081 });
  });

  it('takes global defaults and lets an action override them', () => {
    const config = load(
      yaml(
        'defaults: { timeout: 2m, maxOutput: 64KiB, maxRows: 50, concurrency: 2, killGrace: 500ms }',
        ...SQLITE,
        'actions:',
        '  a: { command: [uptime] }',
        '  b: { command: [uptime], timeout: 1500ms, maxOutput: 1KB, concurrency: 1 }',
        '  q: { query: { datasource: db, sql: SELECT 1 }, maxRows: 7 }',
      ),
    );
    const a = commandAction(config, 'a');
    expect([a.timeoutMs, a.maxOutputBytes, a.concurrency, a.killGraceMs]).toEqual([120_000, 65_536, 2, 500]);
    const b = commandAction(config, 'b');
    expect([b.timeoutMs, b.maxOutputBytes, b.concurrency]).toEqual([1500, 1000, 1]);
    expect(queryAction(config, 'q').maxRows).toBe(7);
  });
});

describe('safe defaults', () => {
  const config = load(
    yaml(
      ...SQLITE,
      'actions:',
      '  q: { query: { datasource: db, sql: SELECT 1 } }',
      '  q-unsafe: { query: { datasource: db, sql: SELECT 1 }, safe: false }',
      '  c: { command: [uptime] }',
      '  c-safe: { command: [uptime], safe: true }',
      '  s: { shell: "echo hi" }',
    ),
  );
  it.each([
    ['q', true],
    ['q-unsafe', false],
    ['c', false],
    ['c-safe', true],
    ['s', false],
  ])('%s is safe: %s', (id, safe) => {
    expect(action(config, id).safe).toBe(safe);
  });
});

describe('shell: scripts', () => {
  it('compile to /bin/sh -c SCRIPT with the script as one element', () => {
    const config = load(yaml('actions:', '  s:', '    shell: echo "$PORTHOLE_PARAM_WHO" | tr a-z A-Z', '    params: { who: { type: string } }'));
    const s = commandAction(config, 's');
    expect(s.argv).toEqual([[{ text: '/bin/sh' }], [{ text: '-c' }], [{ text: 'echo "$PORTHOLE_PARAM_WHO" | tr a-z A-Z' }]]);
    expect(s.script).toBe('echo "$PORTHOLE_PARAM_WHO" | tr a-z A-Z');
    // The script names the parameter's variable, so it counts as used and is not in argv.
    expect(config.warnings).toEqual([]);
    expect(s.params[0]?.inArgv).toBe(false);
  });
});

describe('every error is reported at once, with file, line and key', () => {
  it('reports four schema problems together', () => {
    const text = yaml(
      'listen: nope', //                    1
      'bogus: 1', //                        2
      'network:', //                        3
      '  allow: [10.0.0.0/33]', //          4
      'actions:', //                        5
      '  a:', //                            6
      '    command: [echo]', //             7
      '    timeout: 10', //                 8
    );
    const error = configError(text);
    const found = error.issues.map((i) => ({ file: i.file, line: i.line, key: i.key, severity: i.severity }));
    expect(found).toHaveLength(4);
    expect(found).toEqual(
      expect.arrayContaining([
        { file: FILE, line: 1, key: 'listen', severity: 'error' },
        { file: FILE, line: 2, key: 'bogus', severity: 'error' },
        { file: FILE, line: 4, key: 'network.allow[0]', severity: 'error' },
        { file: FILE, line: 8, key: 'actions.a.timeout', severity: 'error' },
      ]),
    );
    expect(error.message).toMatch(/^4 error\(s\) in config:/);
    // Each line of the message names file:line:column and the key.
    expect(error.message).toContain(`${FILE}:1:9: error: listen: expected HOST:PORT`);
    expect(error.message).toContain(`${FILE}:2:1: error: bogus: unknown key "bogus"`);
    for (const issue of error.issues) expect(issue.column).toBeGreaterThan(0);
  });

  it('reports many cross-reference problems in different actions together', () => {
    const text = yaml(
      ...SQLITE, //                                       1-2
      'actions:', //                                      3
      '  a:', //                                          4
      '    command: [echo, "{{nope}}"]', //               5
      '  b:', //                                          6
      '    query: { datasource: other, sql: SELECT 1 }', // 7
      '  c:', //                                          8
      '    shell: "echo {{x}}"', //                       9
      '    params: { x: { type: string } }', //           10
      '  d:', //                                          11
      '    command: [uptime]', //                           12
      '    cache: 10s', //                                13
      '  e:', //                                          14
      '    query: { datasource: db, sql: "SELECT :missing" }', // 15
    );
    const found = errors(text).map((i) => [i.line, i.key]);
    expect(found).toEqual(
      expect.arrayContaining([
        [5, 'actions.a.command[1]'],
        [7, 'actions.b.query.datasource'],
        [9, 'actions.c.shell'],
        [13, 'actions.d.cache'],
        [15, 'actions.e.query.sql'],
      ]),
    );
    expect(found).toHaveLength(5);
  });

  it('reports schema errors and cross-reference errors of other actions together', () => {
    // One action has a wrong type (a schema error); another names a missing datasource
    // (found only after the schema passes). Both must be reported in the same run.
    const text = yaml(
      'actions:', //                                      1
      '  a:', //                                          2
      '    command: [echo]', //                           3
      '    timeout: 10', //                               4
      '  b:', //                                          5
      '    query: { datasource: missing, sql: SELECT 1 }', // 6
    );
    const found = errors(text).map((i) => [i.line, i.key]);
    expect(found).toEqual(expect.arrayContaining([[4, 'actions.a.timeout'], [6, 'actions.b.query.datasource']]));
  });
});

describe('unknown keys', () => {
  const ACTION_KEYS = 'title, description, path, safe, command, shell, query, env, cwd, params, timeout, maxOutput, maxRows, concurrency, cache, group, refresh, confirm, chart, allow';
  it.each([
    {
      where: 'top level',
      text: yaml('actions: { a: { command: [uptime] } }', 'listne: 1.2.3.4:80'),
      line: 2,
      key: 'listne',
      allowed: 'listen, tls, network, defaults, limits, server, dataDir, history, auth, datasources, actions',
    },
    {
      where: 'an action',
      text: yaml('actions:', '  a:', '    command: [uptime]', '    timeuot: 5s'),
      line: 4,
      key: 'actions.a.timeuot',
      allowed: ACTION_KEYS,
    },
    {
      where: 'a string param',
      text: yaml('actions:', '  a:', '    command: [echo, "{{x}}"]', '    params:', '      x:', '        type: string', '        colour: red'),
      line: 7,
      key: 'actions.a.params.x.colour',
      allowed: 'type, label, description, required, default, pattern, minLength, maxLength, multiline, allowLeadingDash, secret',
    },
    {
      where: 'an integer param',
      text: yaml('actions:', '  a:', '    command: [echo, "{{x}}"]', '    params:', '      x:', '        type: integer', '        pattern: "[0-9]+"'),
      line: 7,
      key: 'actions.a.params.x.pattern',
      allowed: 'type, label, description, required, default, min, max, allowLeadingDash',
    },
    {
      where: 'a sqlite datasource',
      text: yaml('datasources:', '  db:', '    driver: sqlite', '    path: x.db', '    host: localhost', 'actions: { a: { command: [uptime] } }'),
      line: 5,
      key: 'datasources.db.host',
      allowed: 'driver, path, readOnly, initScript',
    },
    {
      where: 'a mysql datasource',
      text: yaml('datasources:', '  db:', '    driver: mysql', '    database: d', '    user: u', '    pasword: x', 'actions: { a: { command: [uptime] } }'),
      line: 6,
      key: 'datasources.db.pasword',
      allowed: 'driver, port, host, socketPath, database, user, password, readOnly, connectTimeout, poolSize',
    },
    {
      where: 'network',
      text: yaml('network:', '  allowed: [127.0.0.1]', 'actions: { a: { command: [uptime] } }'),
      line: 2,
      key: 'network.allowed',
      allowed: 'allow, trustedProxies, proxyHeader, deny',
    },
    {
      where: 'a query',
      text: yaml(...SQLITE, 'actions:', '  a:', '    query:', '      datasource: db', '      sql: SELECT 1', '      rows: 5'),
      line: 8,
      key: 'actions.a.query.rows',
      allowed: 'datasource, sql',
    },
  ])('in $where are errors that list what is allowed there', ({ text, line, key, allowed }) => {
    const found = errors(text);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ file: FILE, line, key });
    const unknown = key.split('.').at(-1)!;
    expect(found[0]!.message).toBe(`unknown key "${unknown}"; allowed here: ${allowed}`);
  });

  it('reports each unknown key in one mapping separately', () => {
    const found = errors(yaml('actions:', '  a:', '    command: [uptime]', '    foo: 1', '    bar: 2'));
    expect(found.map((i) => [i.line, i.key])).toEqual([
      [4, 'actions.a.foo'],
      [5, 'actions.a.bar'],
    ]);
  });
});

describe('wrong types and invalid values', () => {
  it.each([
    { what: 'command as a string', lines: ['    command: echo hi'], key: 'actions.a.command', message: 'expected array, got a string' },
    { what: 'safe as a string', lines: ['    command: [uptime]', '    safe: "yes"'], key: 'actions.a.safe', message: 'expected boolean, got a string' },
    { what: 'concurrency zero', lines: ['    command: [uptime]', '    concurrency: 0'], key: 'actions.a.concurrency', message: 'expected a number > 0' },
    { what: 'concurrency fractional', lines: ['    command: [uptime]', '    concurrency: 1.5'], key: 'actions.a.concurrency', message: /int/ },
    { what: 'an empty command', lines: ['    command: []'], key: 'actions.a.command', message: 'expected at least 1 item(s)' },
    { what: 'env value a number', lines: ['    command: [uptime]', '    env: { A: 5 }'], key: 'actions.a.env.A', message: 'expected string, got a number' },
    { what: 'params as a list', lines: ['    command: [uptime]', '    params: [x]'], key: 'actions.a.params', message: 'expected record, got a list' },
    { what: 'path not absolute', lines: ['    command: [uptime]', '    path: status'], key: 'actions.a.path', message: /absolute URL path/ },
    { what: 'unknown param type', lines: ['    command: [echo, "{{x}}"]', '    params: { x: { type: colour } }'], key: 'actions.a.params.x.type', message: 'expected type: string, integer, number, boolean, enum, date, datetime' },
    { what: 'param without type', lines: ['    command: [echo, "{{x}}"]', '    params: { x: { label: X } }'], key: 'actions.a.params.x.type', message: 'expected type: string, integer, number, boolean, enum, date, datetime' },
    { what: 'integer default not whole', lines: ['    command: [echo, "{{x}}"]', '    params: { x: { type: integer, default: 1.5 } }'], key: 'actions.a.params.x.default', message: /int/ },
    { what: 'enum with no values', lines: ['    command: [echo, "{{x}}"]', '    params: { x: { type: enum, values: [] } }'], key: 'actions.a.params.x.values', message: 'expected at least 1 item(s)' },
  ])('$what', ({ lines, key, message }) => {
    const found = errors(yaml('actions:', '  a:', ...lines));
    expect(found).toHaveLength(1);
    expect(found[0]!.key).toBe(key);
    expect(found[0]!.line).toBeGreaterThanOrEqual(3);
    if (typeof message === 'string') expect(found[0]!.message).toBe(message);
    else expect(found[0]!.message).toMatch(message);
  });

  it('rejects an unknown driver and says which exist', () => {
    const found = errors(yaml('datasources:', '  db: { driver: oracle, path: x }', 'actions: { a: { command: [uptime] } }'));
    expect(found).toEqual([expect.objectContaining({ line: 2, key: 'datasources.db.driver', message: 'expected driver: mysql, postgres or sqlite' })]);
  });

  it('rejects a deny code other than 404 or 403', () => {
    const found = errors(yaml('network:', '  deny: 500', 'actions: { a: { command: [uptime] } }'));
    expect(found).toEqual([expect.objectContaining({ line: 2, key: 'network.deny' })]);
    expect(found[0]!.message).toContain('404');
    expect(found[0]!.message).toContain('403');
  });

  it('rejects a port out of range', () => {
    const found = errors(yaml('datasources:', '  db: { driver: postgres, database: d, user: u, port: 70000 }', 'actions: { a: { command: [uptime] } }'));
    expect(found).toEqual([expect.objectContaining({ line: 2, key: 'datasources.db.port', message: 'expected a number <= 65535' })]);
  });

  it('requires actions:', () => {
    const found = errors(yaml('listen: 127.0.0.1:1'));
    expect(found).toEqual([expect.objectContaining({ key: 'actions', message: 'is required (expected record)' })]);
  });

  it.each([['- a\n- b\n'], ['just a string\n']])('rejects a document that is not a mapping: %j', (text) => {
    expect(errors(text)[0]!.message).toContain('expected a mapping');
  });
});

describe('durations and sizes in the config', () => {
  it.each(['10', '10 s', '1e3s', '-5s', '1.5s', '10sec', '', 's', '10S'])('timeout %j is an error naming the key and the valid forms', (value) => {
    const found = errors(yaml('actions:', '  a:', '    command: [uptime]', `    timeout: ${JSON.stringify(value)}`));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ line: 4, key: 'actions.a.timeout' });
    expect(found[0]!.message).toContain('500ms, 10s, 5m');
  });

  it('a bare number is a type error', () => {
    const found = errors(yaml('actions:', '  a:', '    command: [uptime]', '    timeout: 10'));
    expect(found).toEqual([expect.objectContaining({ line: 4, key: 'actions.a.timeout' })]);
  });

  it.each(['1M', '1 MiB', '1.5MiB', '-1B', '1TiB', '1mib', '64k'])('maxOutput %j is an error', (value) => {
    const found = errors(yaml('actions:', '  a:', '    command: [uptime]', `    maxOutput: ${JSON.stringify(value)}`));
    expect(found).toEqual([expect.objectContaining({ line: 4, key: 'actions.a.maxOutput' })]);
    expect(found[0]!.message).toContain('64KiB, 1MiB');
  });

  it.each([
    ['defaults.timeout', yaml('defaults: { timeout: 5 minutes }', 'actions: { a: { command: [uptime] } }')],
    ['defaults.maxOutput', yaml('defaults: { maxOutput: lots }', 'actions: { a: { command: [uptime] } }')],
    ['actions.a.cache', yaml('actions: { a: { command: [uptime], safe: true, cache: soon } }')],
  ])('%s is validated', (key, text) => {
    expect(errors(text)).toEqual([expect.objectContaining({ line: 1, key })]);
  });
});

describe('network addresses', () => {
  it.each(['10.0.0.0/33', '300.1.1.1', 'localhost', '10.0.0.0/', 'fd00::/129', '1.2.3.4/8/8'])('rejects %j in network.allow', (value) => {
    const found = errors(yaml('network:', `  allow: [127.0.0.1, ${JSON.stringify(value)}]`, 'actions: { a: { command: [uptime] } }'));
    expect(found).toEqual([expect.objectContaining({ line: 2, key: 'network.allow[1]' })]);
    expect(found[0]!.message).toContain('CIDR');
  });

  it('accepts IPv4, IPv6 and CIDR ranges, and an empty list', () => {
    const config = load(yaml('network:', '  allow: [127.0.0.1, "::1", 10.0.0.0/8, "fd00::/8"]', '  trustedProxies: [192.168.1.1]', '  deny: 403', 'actions: { a: { command: [uptime] } }'));
    expect(config.network).toEqual({ allow: ['127.0.0.1', '::1', '10.0.0.0/8', 'fd00::/8'], trustedProxies: ['192.168.1.1'], proxyHeader: 'x-forwarded-for', deny: 403 });
    expect(load(yaml('network: { allow: [] }', 'actions: { a: { command: [uptime] } }')).network.allow).toEqual([]);
  });

  it('rejects a bad trusted proxy', () => {
    expect(errors(yaml('network: { trustedProxies: [nope] }', 'actions: { a: { command: [uptime] } }'))).toEqual([
      expect.objectContaining({ key: 'network.trustedProxies[0]' }),
    ]);
  });
});

describe('duplicates', () => {
  it('a duplicate action id is a YAML duplicate key error with a line', () => {
    const found = errors(yaml('actions:', '  a:', '    command: [uptime]', '  a:', '    command: [date]'));
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain('duplicate key');
    expect(found[0]!.file).toBe(FILE);
    // The second "a:" is on line 4: an operator needs to know which one, and which key.
    expect(found[0]!.line).toBe(4);
    expect(found[0]!.key).toBe('actions.a');
  });

  it('a duplicate setting inside an action is an error with a line', () => {
    const found = errors(yaml('actions:', '  a:', '    command: [uptime]', '    timeout: 1s', '    timeout: 2s'));
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toContain('duplicate key');
    expect(found[0]!.line).toBe(5);
    expect(found[0]!.key).toBe('actions.a.timeout');
  });

  it('a duplicate parameter is an error with a line', () => {
    const found = errors(yaml('actions:', '  a:', '    command: [echo, "{{x}}"]', '    params:', '      x: { type: string }', '      x: { type: integer }'));
    expect(found[0]!.message).toContain('duplicate key');
    expect(found[0]!.line).toBe(6);
    expect(found[0]!.key).toBe('actions.a.params.x');
  });

  it('a duplicate path: names the action that has it', () => {
    const found = errors(yaml('actions:', '  a:', '    command: [uptime]', '    path: /status/', '  b:', '    command: [uptime]', '    path: /status/'));
    expect(found).toEqual([
      expect.objectContaining({ line: 7, key: 'actions.b.path', message: 'path /status/ is already used by action "a"; each path must be unique' }),
    ]);
  });

  it.each(['/api', '/api/x', '/api/', '/actions/a', '/static/app.js', '/healthz', '/readyz', '/metrics', '/login', '/logout'])('reserved path %s is an error', (p) => {
    const found = errors(yaml('actions:', '  a:', '    command: [uptime]', `    path: ${p}`));
    expect(found).toEqual([expect.objectContaining({ line: 4, key: 'actions.a.path' })]);
    expect(found[0]!.message).toContain('reserved');
  });

  it.each(['/', '/status.json', '/report.csv'])('path %s is refused: the dashboard and format suffixes are the server\'s', (p) => {
    expect(errors(yaml('actions:', '  a:', '    command: [uptime]', `    path: ${p}`))).toEqual([expect.objectContaining({ key: 'actions.a.path' })]);
  });

  it.each(['/apix', '/status/', '/metrics-old', '/report.pdf'])('path %s is allowed', (p) => {
    expect(commandAction(load(yaml('actions:', '  a:', '    command: [uptime]', `    path: ${p}`)), 'a').path).toBe(p);
  });
});

describe('action ids and parameter names', () => {
  it.each(['Bad Id', 'UPPER', '-lead', '_lead', 'a'.repeat(65), 'dot.ted', 'ü'])('action id %j is rejected', (id) => {
    const found = errors(yaml('actions:', `  ${JSON.stringify(id)}:`, '    command: [uptime]'));
    expect(found).toEqual([expect.objectContaining({ line: 2, key: `actions.${id}` })]);
    expect(found[0]!.message).toContain('lower-case letters');
  });

  it.each(['a', 'disk-usage', 'task_status', '0day', 'a'.repeat(64)])('action id %j is accepted', (id) => {
    expect(load(yaml('actions:', `  ${JSON.stringify(id)}:`, '    command: [uptime]')).actions.has(id)).toBe(true);
  });

  it.each(['1x', 'a-b', 'a b', 'é'])('parameter name %j is rejected', (name) => {
    const found = errors(yaml('actions:', '  a:', '    command: [uptime]', '    params:', `      ${JSON.stringify(name)}: { type: string }`));
    expect(found).toEqual([expect.objectContaining({ line: 5, key: `actions.a.params.${name}` })]);
  });

  it('parameters whose environment variables clash are an error', () => {
    const found = errors(yaml('actions:', '  a:', '    command: [echo, "{{foo}}", "{{FOO}}"]', '    params:', '      foo: { type: string }', '      FOO: { type: string }'));
    expect(found).toEqual([expect.objectContaining({ line: 6, key: 'actions.a.params.FOO' })]);
    expect(found[0]!.message).toContain('PORTHOLE_PARAM_FOO');
    expect(found[0]!.message).toContain('"foo"');
  });
});

describe('actions: kinds and settings that do not fit', () => {
  it.each([
    { what: 'command and query', lines: ['    command: [uptime]', '    query: { datasource: db, sql: SELECT 1 }'], message: 'command and query' },
    { what: 'command and shell', lines: ['    command: [uptime]', '    shell: "true"'], message: 'command and shell' },
    { what: 'neither', lines: ['    title: Nothing'], message: 'needs exactly one of command' },
  ])('an action with $what is an error', ({ lines, message }) => {
    const found = errors(yaml(...SQLITE, 'actions:', '  a:', ...lines));
    expect(found).toEqual([expect.objectContaining({ line: 5, key: 'actions.a' })]);
    expect(found[0]!.message).toContain(message);
  });

  it('cache on an unsafe action is an error; on a safe one it is fine', () => {
    expect(errors(yaml('actions:', '  a:', '    command: [uptime]', '    cache: 10s'))).toEqual([
      expect.objectContaining({ line: 4, key: 'actions.a.cache', message: expect.stringContaining('only safe') as unknown }),
    ]);
    expect(errors(yaml(...SQLITE, 'actions:', '  a:', '    query: { datasource: db, sql: SELECT 1 }', '    safe: false', '    cache: 10s'))).toEqual([
      expect.objectContaining({ key: 'actions.a.cache' }),
    ]);
    const config = load(yaml('actions:', '  a:', '    command: [uptime]', '    safe: true', '    cache: 10s'));
    expect(action(config, 'a').cacheMs).toBe(10_000);
  });

  it('maxRows on a command is an error', () => {
    expect(errors(yaml('actions:', '  a:', '    command: [uptime]', '    maxRows: 5'))).toEqual([
      expect.objectContaining({ line: 4, key: 'actions.a.maxRows', message: '"maxRows" applies to queries only, not commands' }),
    ]);
  });

  it.each([
    ['env', '    env: { A: b }'],
    ['cwd', '    cwd: /tmp'],
    ['maxOutput', '    maxOutput: 1KiB'],
  ])('%s on a query is an error', (key, line) => {
    expect(errors(yaml(...SQLITE, 'actions:', '  a:', '    query: { datasource: db, sql: SELECT 1 }', line))).toEqual([
      expect.objectContaining({ line: 6, key: `actions.a.${key}`, message: `"${key}" applies to commands only, not queries` }),
    ]);
  });
});

describe('datasources referenced by queries', () => {
  it('a missing datasource is an error listing the defined ones', () => {
    const found = errors(
      yaml('datasources:', '  db: { driver: sqlite, path: a.db }', '  other: { driver: sqlite, path: b.db }', 'actions:', '  a:', '    query:', '      datasource: dbb', '      sql: SELECT 1'),
    );
    expect(found).toEqual([expect.objectContaining({ line: 7, key: 'actions.a.query.datasource', message: 'no datasource named "dbb"; defined: db, other' })]);
  });

  it('with no datasources at all, says how to add one', () => {
    const found = errors(yaml('actions:', '  a:', '    query: { datasource: db, sql: SELECT 1 }'));
    expect(found[0]!.message).toContain('none (add one under datasources:)');
  });

  it('mysql and postgres datasources get their defaults', () => {
    const config = load(
      yaml('datasources:', '  m: { driver: mysql, database: d, user: u }', '  p: { driver: postgres, database: d, user: u }', 'actions: { a: { command: [uptime] } }'),
    );
    expect(config.datasources.m).toMatchObject({ driver: 'mysql', host: '127.0.0.1', port: 3306, readOnly: true, connectTimeout: 5000, poolSize: 5 });
    expect(config.datasources.p).toMatchObject({ driver: 'postgres', port: 5432, readOnly: true });
  });

  it('a sqlite initScript must exist, relative to the config folder', () => {
    const dir = tempDir();
    const file = join(dir, 'porthole.yaml');
    const text = (script: string) => yaml('datasources:', `  db: { driver: sqlite, path: data.db, initScript: ${script} }`, 'actions: { a: { command: [uptime] } }');
    const found = errors(text('missing.sql'), {}, file);
    expect(found).toEqual([expect.objectContaining({ line: 2, key: 'datasources.db.initScript' })]);
    expect(found[0]!.message).toContain(join(dir, 'missing.sql'));
    writeFileSync(join(dir, 'schema.sql'), 'CREATE TABLE t (x);\n');
    expect(load(text('schema.sql'), {}, file).datasources.db).toMatchObject({ initScript: 'schema.sql' });
  });
});

describe('templates in commands, shell scripts and SQL', () => {
  it('{{x}} naming an undeclared parameter is an error', () => {
    expect(errors(yaml('actions:', '  a:', '    command: [echo, "--name={{who}}"]'))).toEqual([
      expect.objectContaining({ line: 3, key: 'actions.a.command[1]', message: '{{who}} names no declared parameter; declare it under params:' }),
    ]);
  });

  it('{{...}} in a shell script is an error that says how to pass parameters', () => {
    const found = errors(yaml('actions:', '  a:', '    shell: "echo {{x}}"', '    params: { x: { type: string } }'));
    expect(found).toEqual([expect.objectContaining({ line: 3, key: 'actions.a.shell' })]);
    expect(found[0]!.message).toContain('PORTHOLE_PARAM_');
  });

  it('{{...}} in the program (argv[0]) is an error', () => {
    const found = errors(yaml('actions:', '  a:', '    command: ["/usr/bin/{{tool}}", x]', '    params: { tool: { type: enum, values: [ls, df] } }'));
    expect(found).toEqual([expect.objectContaining({ line: 3, key: 'actions.a.command[0]' })]);
    expect(found[0]!.message).toContain('program');
  });

  it('{{ in SQL is an error pointing at :name', () => {
    const found = errors(yaml(...SQLITE, 'actions:', '  a:', '    query: { datasource: db, sql: "SELECT * FROM t WHERE id = {{id}}" }', '    params: { id: { type: integer } }'));
    expect(found).toEqual([expect.objectContaining({ line: 5, key: 'actions.a.query.sql' })]);
    expect(found[0]!.message).toContain(':name');
  });

  it(':name with no declared parameter is an error', () => {
    const found = errors(yaml(...SQLITE, 'actions:', '  a:', '    query:', '      datasource: db', '      sql: SELECT * FROM t WHERE id = :id AND s = :status', '    params: { id: { type: integer } }'));
    expect(found).toEqual([
      expect.objectContaining({ line: 7, key: 'actions.a.query.sql', message: 'placeholder :status names no declared parameter; declare it under params:' }),
    ]);
  });

  it(':name inside string literals, comments and casts is not a placeholder', () => {
    const config = load(yaml(...SQLITE, 'actions:', '  a:', '    query:', '      datasource: db', `      sql: "SELECT ':nope', x::int FROM t -- :nope"`));
    expect(config.warnings).toEqual([]);
  });

  it.each([
    ['{{ x', '{{ x'],
    ['{{1x}}', '{{1x}}'],
    ['{{x-y}}', '{{x-y}}'],
    ['{{}}', '{{}}'],
  ])('malformed placeholder %j is an error', (element, shown) => {
    const found = errors(yaml('actions:', '  a:', `    command: [echo, ${JSON.stringify(element)}]`));
    expect(found).toEqual([expect.objectContaining({ line: 3, key: 'actions.a.command[1]' })]);
    expect(found[0]!.message).toContain(`malformed placeholder at "${shown}"`);
  });

  it('a declared but unused parameter is a warning; the config still loads', () => {
    const config = load(yaml('actions:', '  a:', '    command: [echo, hi]', '    params:', '      unused: { type: string }'));
    expect(config.warnings).toEqual([
      expect.objectContaining({ severity: 'warning', file: FILE, line: 5, key: 'actions.a.params.unused', message: 'parameter "unused" is declared but the action never uses it' }),
    ]);
    expect(config.actions.get('a')).toBeDefined();
  });

  it('warnings are carried along with errors in a ConfigError, but not counted as errors', () => {
    const error = configError(yaml('actions:', '  a:', '    command: [echo, "{{nope}}"]', '    params:', '      unused: { type: string }'));
    expect(error.issues.map((i) => i.severity).sort()).toEqual(['error', 'warning']);
    expect(error.message).toMatch(/^1 error\(s\)/);
  });

  it('a parameter used through $PORTHOLE_PARAM_X in a command is used, but not in argv', () => {
    const config = load(yaml('actions:', '  a:', '    command: [sh, -c, "echo \\"$PORTHOLE_PARAM_WHO\\""]', '    params: { who: { type: string } }'));
    expect(config.warnings).toEqual([]);
    expect(commandAction(config, 'a').params[0]!.inArgv).toBe(false);
  });
});

describe('parameter rules checked at load time', () => {
  it.each([
    { what: 'enum default not in values', param: '{ type: enum, values: [a, b], default: c }', key: 'default', message: 'one of a, b' },
    { what: 'enum default differing in case', param: '{ type: enum, values: [a, b], default: A }', key: 'default', message: 'one of a, b' },
    { what: 'string default violating pattern', param: '{ type: string, pattern: "[a-z]+", default: ABC }', key: 'default', message: 'does not match the required pattern' },
    { what: 'string default too long', param: '{ type: string, maxLength: 2, default: abc }', key: 'default', message: 'too long' },
    { what: 'integer default below min', param: '{ type: integer, min: 5, default: 1 }', key: 'default', message: 'below the minimum 5' },
    { what: 'date default not a date', param: '{ type: date, default: "2023-02-29" }', key: 'default', message: 'not a valid date' },
    { what: 'string default with a leading dash in argv', param: '{ type: string, default: "-rf" }', key: 'default', message: 'must not start with "-"' },
    { what: 'integer min > max', param: '{ type: integer, min: 5, max: 1 }', key: 'min', message: 'min 5 is greater than max 1' },
    { what: 'number min > max', param: '{ type: number, min: 1.5, max: 1.25 }', key: 'min', message: 'min 1.5 is greater than max 1.25' },
    { what: 'minLength > maxLength', param: '{ type: string, minLength: 10, maxLength: 5 }', key: 'minLength', message: 'minLength 10 is greater than maxLength 5' },
    { what: 'invalid regex pattern', param: '{ type: string, pattern: "(" }', key: 'pattern', message: 'not a valid regular expression' },
    { what: 'duplicate enum value', param: '{ type: enum, values: [a, { value: a, label: A }] }', key: 'values', message: 'value "a" is listed twice' },
  ])('$what', ({ param, key, message }) => {
    const found = errors(yaml('actions:', '  a:', '    command: [echo, "{{x}}"]', '    params:', `      x: ${param}`));
    expect(found).toEqual([expect.objectContaining({ line: 5, key: `actions.a.params.x.${key}` })]);
    expect(found[0]!.message).toContain(message);
  });

  it('several bad parameters in one action are all reported', () => {
    const found = errors(
      yaml(
        'actions:',
        '  a:',
        '    command: [echo, "{{x}}", "{{y}}", "{{z}}", "{{w}}"]',
        '    params:',
        '      x: { type: enum, values: [a, b], default: c }',
        '      y: { type: string, pattern: "[a-z]+", default: ABC }',
        '      z: { type: integer, min: 5, max: 1 }',
        '      w: { type: string, pattern: "(" }',
      ),
    );
    expect(found.map((i) => [i.line, i.key]).sort()).toEqual([
      [5, 'actions.a.params.x.default'],
      [6, 'actions.a.params.y.default'],
      [7, 'actions.a.params.z.min'],
      [8, 'actions.a.params.w.pattern'],
    ]);
  });

  it('compiles the pattern anchored, and required follows default', () => {
    const a = action(
      load(yaml('actions:', '  a:', '    command: [echo, "{{x}}", "{{y}}", "{{z}}"]', '    params:', '      x: { type: string, pattern: "a|b" }', '      y: { type: string, default: hi }', '      z: { type: string, required: false }')),
      'a',
    );
    const [x, y, z] = a.params;
    expect(x!.regex!.test('a')).toBe(true);
    expect(x!.regex!.test('xa')).toBe(false);
    expect(x!.regex!.test('ab')).toBe(false);
    expect([x!.required, y!.required, z!.required]).toEqual([true, false, false]);
    expect([x!.inArgv, y!.inArgv, z!.inArgv]).toEqual([true, true, true]);
    expect(x!.label).toBe('x');
  });
});

describe('cwd', () => {
  it('is resolved relative to the config folder and must exist', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'work'));
    const file = join(dir, 'porthole.yaml');
    const text = (cwd: string) => yaml('actions:', '  a:', '    command: [ls]', `    cwd: ${cwd}`);
    expect(commandAction(load(text('work'), {}, file), 'a').cwd).toBe(join(dir, 'work'));
    expect(commandAction(load(text(dir), {}, file), 'a').cwd).toBe(dir);
    const found = errors(text('nowhere'), {}, file);
    expect(found).toEqual([expect.objectContaining({ line: 4, key: 'actions.a.cwd', message: `directory ${join(dir, 'nowhere')} does not exist` })]);
  });
});

describe('secrets: ${env:NAME} and ${file:PATH}', () => {
  it('resolves ${env:NAME} wherever a string is allowed, also inside a longer string', () => {
    const config = load(
      yaml('datasources:', '  m: { driver: mysql, database: d, user: "${env:DB_USER}", password: "${env:DB_PASS}", host: "db-${env:SITE}.local" }', 'actions: { a: { command: [uptime] } }'),
      { DB_USER: 'reader', DB_PASS: 'hunter2-long', SITE: 'eu' },
    );
    expect(config.datasources.m).toMatchObject({ user: 'reader', password: 'hunter2-long', host: 'db-eu.local' });
    expect(config.secrets.redact('user reader pass hunter2-long')).toBe('user *** pass ***');
  });

  it('resolves ${file:PATH} relative to the config folder, trimming one trailing newline', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'secrets'));
    writeFileSync(join(dir, 'secrets', 'db'), 'file-secret-value\n');
    writeFileSync(join(dir, 'abs'), 'absolute-secret\r\n');
    writeFileSync(join(dir, 'two'), 'keeps-inner\n\n');
    const config = load(
      yaml(
        'datasources:',
        '  m: { driver: mysql, database: d, user: u, password: "${file:secrets/db}" }',
        `  p: { driver: postgres, database: d, user: u, password: "\${file:${join(dir, 'abs')}}" }`,
        '  q: { driver: postgres, database: d, user: "${file:two}" }',
        'actions: { a: { command: [uptime] } }',
      ),
      {},
      join(dir, 'porthole.yaml'),
    );
    expect(config.datasources.m).toMatchObject({ password: 'file-secret-value' });
    expect(config.datasources.p).toMatchObject({ password: 'absolute-secret' });
    expect(config.datasources.q).toMatchObject({ user: 'keeps-inner\n' });
    expect(config.secrets.redact('x file-secret-value y')).toBe('x *** y');
  });

  it('a missing environment variable is an error naming the key and the variable', () => {
    const found = errors(yaml('datasources:', '  m:', '    driver: mysql', '    database: d', '    user: u', '    password: "${env:NOPE_NOT_SET}"', 'actions: { a: { command: [uptime] } }'));
    expect(found).toEqual([expect.objectContaining({ line: 6, key: 'datasources.m.password' })]);
    expect(found[0]!.message).toContain('NOPE_NOT_SET');
  });

  it('a missing file is an error naming the key and the file', () => {
    const dir = tempDir();
    const found = errors(
      yaml('datasources:', '  m:', '    driver: mysql', '    database: d', '    user: u', '    password: "${file:missing-secret}"', 'actions: { a: { command: [uptime] } }'),
      {},
      join(dir, 'porthole.yaml'),
    );
    expect(found).toEqual([expect.objectContaining({ line: 6, key: 'datasources.m.password' })]);
    expect(found[0]!.message).toContain(join(dir, 'missing-secret'));
    expect(found[0]!.message).toContain('ENOENT');
  });

  it('the env used is the one passed in, not process.env', () => {
    process.env.PORTHOLE_TEST_ONLY_IN_PROCESS = 'x';
    try {
      expect(errors(yaml('actions: { a: { command: [echo, "${env:PORTHOLE_TEST_ONLY_IN_PROCESS}"] } }'))[0]!.message).toContain('PORTHOLE_TEST_ONLY_IN_PROCESS');
    } finally {
      delete process.env.PORTHOLE_TEST_ONLY_IN_PROCESS;
    }
  });

  describe('a secret value never appears in any error, even where it fails validation', () => {
    const SECRET = 'Sup3r-Secret-Value-0123456789-abcdef';
    // Short enough to fit whole into any excerpt of the source an error might quote.
    const SHORT = 'Pw-0123456789';
    const env = { X: SECRET, P: `/${SECRET}`, R: `(${SECRET}`, S: SHORT };
    const cases: { where: string; text: string }[] = [
      { where: 'a port', text: yaml('datasources:', '  m: { driver: mysql, database: d, user: u, port: "${env:X}", password: "${env:X}" }', 'actions: { a: { command: [uptime] } }') },
      { where: 'a duration', text: yaml('actions: { a: { command: [uptime], timeout: "${env:X}" } }') },
      { where: 'a size', text: yaml('actions: { a: { command: [uptime], maxOutput: "${env:X}" } }') },
      { where: 'listen', text: yaml('listen: "${env:X}"', 'actions: { a: { command: [uptime] } }') },
      { where: 'network.allow', text: yaml('network: { allow: ["${env:X}"] }', 'actions: { a: { command: [uptime] } }') },
      { where: 'deny', text: yaml('network: { deny: "${env:X}" }', 'actions: { a: { command: [uptime] } }') },
      { where: 'a boolean', text: yaml('actions: { a: { command: [uptime], safe: "${env:X}" } }') },
      { where: 'a param type', text: yaml('actions: { a: { command: [echo, "{{x}}"], params: { x: { type: "${env:X}" } } } }') },
      { where: 'a driver', text: yaml('datasources: { m: { driver: "${env:X}" } }', 'actions: { a: { command: [uptime] } }') },
      { where: 'an action path', text: yaml('actions: { a: { command: [uptime], path: "${env:X}" } }') },
      { where: 'a duplicate action path', text: yaml('actions:', '  a: { command: [uptime], path: "${env:P}" }', '  b: { command: [uptime], path: "${env:P}" }') },
      { where: 'a reserved action path', text: yaml('actions: { a: { command: [uptime], path: "/api${env:P}" } }') },
      { where: 'a datasource name in a query', text: yaml('actions: { a: { query: { datasource: "${env:X}", sql: SELECT 1 } } }') },
      { where: 'a cwd', text: yaml('actions: { a: { command: [uptime], cwd: "${env:X}" } }') },
      { where: 'a sqlite initScript', text: yaml('datasources: { s: { driver: sqlite, path: x.db, initScript: "${env:X}" } }', 'actions: { a: { command: [uptime] } }') },
      { where: 'an invalid pattern', text: yaml('actions: { a: { command: [echo, "{{x}}"], params: { x: { type: string, pattern: "${env:R}" } } } }') },
      { where: 'an enum value with a bad default', text: yaml('actions: { a: { command: [echo, "{{x}}"], params: { x: { type: enum, values: ["${env:X}"], default: other } } } }') },
      { where: 'a pattern with a bad default', text: yaml('actions: { a: { command: [echo, "{{x}}"], params: { x: { type: string, pattern: "${env:X}", default: other } } } }') },
      { where: 'a string default', text: yaml('actions: { a: { command: [echo, "{{x}}"], params: { x: { type: string, maxLength: 3, default: "${env:X}" } } } }') },
      { where: 'a malformed placeholder', text: yaml('actions: { a: { command: [echo, "{{${env:X}"] } }') },
      { where: 'a malformed placeholder (short secret)', text: yaml('actions: { a: { command: [echo, "{{${env:S}"] } }') },
      { where: 'an undeclared placeholder next to a secret', text: yaml('actions: { a: { command: [echo, "${env:S}{{nope}}"] } }') },
      { where: 'SQL with {{', text: yaml(...SQLITE, 'actions: { a: { query: { datasource: db, sql: "SELECT {{${env:X}}}" } } }') },
      { where: 'an env value of the wrong kind of key', text: yaml('actions: { a: { command: [uptime], env: { "bad key": "${env:X}" } } }') },
      { where: 'a shell script with {{', text: yaml('actions: { a: { shell: "echo {{${env:X}}}" } }') },
    ];
    it.each(cases)('in $where', ({ text }) => {
      const error = configError(text, env);
      expect(error.issues.length).toBeGreaterThan(0);
      const all = wholeErrorText(error);
      expect(all).not.toContain(SECRET);
      expect(all).not.toContain(SHORT);
    });

    it('a secret read from a file and used as a duration', () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
      const error = configError(yaml('actions: { a: { command: [uptime], timeout: "${file:secret}" } }'), {}, join(dir, 'porthole.yaml'));
      expect(error.issues[0]!.key).toBe('actions.a.timeout');
      expect(wholeErrorText(error)).not.toContain(SECRET);
    });
  });
});

describe('Secrets.redact', () => {
  it.each([
    { values: ['hunter22'], text: 'password=hunter22;', out: 'password=***;' },
    { values: ['hunter22'], text: 'hunter22hunter22', out: '******' },
    { values: ['hunter22', 'tok-abcdef'], text: 'a hunter22 b tok-abcdef c', out: 'a *** b *** c' },
    { values: ['hunter22'], text: 'nothing here', out: 'nothing here' },
    { values: ['a.b*c'], text: 'x a.b*c y', out: 'x *** y' },
    { values: ['abc'], text: 'abc is too short to hide', out: 'abc is too short to hide' },
    { values: [], text: 'plain', out: 'plain' },
  ])('redacts $values in $text', ({ values, text, out }) => {
    const secrets = new Secrets();
    for (const v of values) secrets.add(v);
    expect(secrets.redact(text)).toBe(out);
  });
});

describe('configPath', () => {
  it.each([
    { option: '/etc/p.yaml', env: { PORTHOLE_CONFIG: '/other.yaml' }, expected: '/etc/p.yaml' },
    { option: undefined, env: { PORTHOLE_CONFIG: '/other.yaml' }, expected: '/other.yaml' },
    { option: undefined, env: {}, expected: join(process.cwd(), 'porthole.yaml') },
    { option: 'rel.yaml', env: {}, expected: join(process.cwd(), 'rel.yaml') },
  ])('-c $option, PORTHOLE_CONFIG $env.PORTHOLE_CONFIG → $expected', ({ option, env, expected }) => {
    expect(configPath(option, env)).toBe(expected);
  });
});

describe('loadConfig', () => {
  it('a missing file is a ConfigError naming the file and how to give one', async () => {
    const file = join(tempDir(), 'nope.yaml');
    const error = await loadConfig(file, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues).toEqual([expect.objectContaining({ severity: 'error', file, message: expect.stringContaining('no such file') as unknown })]);
    expect((error as ConfigError).message).toContain('-c FILE');
  });

  it('reads and parses an existing file', async () => {
    const dir = tempDir();
    const file = join(dir, 'porthole.yaml');
    writeFileSync(file, yaml('actions:', '  a: { command: [uptime] }'));
    const config = await loadConfig(file, {});
    expect(config.file).toBe(file);
    expect(config.dir).toBe(dir);
    expect([...config.actions.keys()]).toEqual(['a']);
  });
});

describe('dashboard and page settings', () => {
  it('compiles group, refresh, confirm and chart', () => {
    const config = load(yaml(...SQLITE, 'actions:', '  q:', '    query: { datasource: db, sql: "SELECT 1 AS x, 2 AS y" }', '    group: Numbers', '    refresh: 15s', '    chart: { type: bar, x: x, y: y }', '  c:', '    command: [uptime]', '    confirm: true'));
    expect(config.actions.get('q')).toMatchObject({ group: 'Numbers', refreshMs: 15_000, chart: { type: 'bar', x: 'x', y: ['y'] } });
    expect(config.actions.get('c')).toMatchObject({ confirm: 'Run c?' });
  });

  it('refuses refresh on an unsafe action and a chart on a command', () => {
    const found = errors(yaml('actions:', '  c:', '    command: [uptime]', '    refresh: 5s', '    chart: { type: pie, x: a, y: b }'));
    expect(found.map((i) => i.key).sort()).toEqual(['actions.c.chart', 'actions.c.refresh']);
  });

  it('refuses an unknown chart type, saying which exist', () => {
    const found = errors(yaml(...SQLITE, 'actions:', '  q:', '    query: { datasource: db, sql: "SELECT 1" }', '    chart: { type: radar, x: a, y: b }'));
    expect(found).toEqual([expect.objectContaining({ key: 'actions.q.chart.type', message: 'expected one of "bar", "line", "pie", "doughnut"' })]);
  });

  it('warns that confirm has no effect on a safe action', () => {
    const config = load(yaml('actions:', '  c:', '    command: [uptime]', '    safe: true', '    confirm: Sure?'));
    expect(config.warnings).toEqual([expect.objectContaining({ severity: 'warning', key: 'actions.c.confirm' })]);
  });
});

describe('auth settings', () => {
  it('refuses allow: without an auth: section, saying what to add', () => {
    const found = errors(yaml('actions:', '  c:', '    command: [uptime]', '    allow: { run: { groups: [ops] } }'));
    expect(found).toEqual([expect.objectContaining({ key: 'actions.c.allow', message: expect.stringContaining('add an auth: section') as string })]);
  });

  it('refuses a password that is not a hash from porthole hash-password, without echoing it', () => {
    const found = errors(yaml('auth:', '  users:', '    alice: { passwordHash: "hunter2-plain" }', 'actions: { c: { command: [uptime] } }'));
    expect(found).toEqual([expect.objectContaining({ key: 'auth.users.alice.passwordHash' })]);
    expect(JSON.stringify(found)).not.toContain('hunter2');
  });

  it('fills in session and throttle defaults', () => {
    const config = load(yaml('auth: {}', 'actions: { c: { command: [uptime] } }'));
    expect(config.auth).toMatchObject({
      session: { idleTimeout: 1_800_000, absoluteTimeout: 43_200_000, cookieName: 'porthole_session' },
      throttle: { maxFailures: 5, window: 900_000 },
      admins: { users: [], groups: [] },
    });
  });
});
