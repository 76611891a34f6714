import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/config.js';
import { startServer, type Response, type TestServer } from '../helpers/server.js';
import { requireService } from '../helpers/services.js';
import { canaries, eventually, json, probeRuns, send, writeProbe, type ErrorJson, type TableJson } from './harness.js';

/**
 * The hostile-input suite: one table of attacks, run over every parameter type and every
 * route that takes parameters, against a real server on a dual-stack socket, real processes
 * and real databases. Every case states its status and proves what ran: the probe log gains
 * exactly one record holding the literal as one argv element, or it does not change at all.
 */

const mariadb = await requireService('mariadb');
const postgres = await requireService('postgres');

const DIR = tempDir('porthole-sec-');
const PROBE = writeProbe(DIR);
const CANARY = path.join(DIR, 'CANARY');
const suffix = randomBytes(4).toString('hex');
const TABLE = `porthole_sec_${suffix}`;
const q = (text: string) => JSON.stringify(text);

// ---------------------------------------------------------------------------------------
// Parameter kinds: one action each, all safe (so the GET routes apply), each with a path alias.
// "shell" is a string reaching a `shell:` script through its environment variable.

const KINDS = ['string', 'shell', 'integer', 'number', 'boolean', 'enum', 'date', 'datetime'] as const;
type Kind = (typeof KINDS)[number];

const SPECS: Record<Kind, string> = {
  string: '{ type: string }',
  shell: '{ type: string }',
  integer: '{ type: integer }',
  number: '{ type: number }',
  boolean: '{ type: boolean }',
  enum: '{ type: enum, values: [alpha, "beta gamma"] }',
  date: '{ type: date }',
  datetime: '{ type: datetime }',
};

const logOf = (kind: Kind) => path.join(DIR, `log-${kind}`);
const actionOf = (kind: Kind) => `p-${kind}`;
const aliasOf = (kind: Kind) => `/alias/${kind}`;

function commandActions(): string {
  return KINDS.map((kind) => {
    const run = kind === 'shell'
      ? `    shell: exec "$PROBE" "$LOG" "$PORTHOLE_PARAM_X"\n    env: { PROBE: ${q(PROBE)}, LOG: ${q(logOf(kind))} }`
      : `    command: [${q(PROBE)}, ${q(logOf(kind))}, "{{x}}"]`;
    return `  ${actionOf(kind)}:\n    title: Probe ${kind}\n${run}\n    safe: true\n    cwd: ${q(DIR)}\n    path: ${aliasOf(kind)}\n    params: { x: ${SPECS[kind]} }\n`;
  }).join('');
}

// ---------------------------------------------------------------------------------------
// The attacks. `accept` lists the kinds that take the value and the one argv element it
// must arrive as; every other kind must refuse it with 400 before anything runs.

interface Attack {
  name: string;
  value: string;
  accept?: Partial<Record<Kind, string>>;
  /** Bigger than the body or header limit: refused by size (413 or 431) before parsing. */
  tooLarge?: true;
}

const asText = (value: string) => ({ string: value, shell: value });

const ATTACKS: Attack[] = [
  // Controls: each kind accepts one well-formed value, so "nothing ran" is never vacuous.
  { name: 'plain text', value: 'hello world', accept: asText('hello world') },
  { name: 'whole number 42', value: '42', accept: { ...asText('42'), integer: '42', number: '42' } },
  { name: 'decimal 12.50', value: '12.50', accept: { ...asText('12.50'), number: '12.5' } },
  { name: 'yes/no TRUE', value: 'TRUE', accept: { ...asText('TRUE'), boolean: 'true' } },
  { name: 'enum value with a space', value: 'beta gamma', accept: { ...asText('beta gamma'), enum: 'beta gamma' } },
  { name: 'date 2024-02-29', value: '2024-02-29', accept: { ...asText('2024-02-29'), date: '2024-02-29' } },
  { name: 'datetime with offset', value: '2024-01-01T10:00:00+02:00', accept: { ...asText('2024-01-01T10:00:00+02:00'), datetime: '2024-01-01 08:00:00' } },
  { name: 'empty value', value: '', accept: { boolean: 'false' } },

  // Shell metacharacters and substitutions: literal text for strings, refused by every other type.
  { name: 'semicolon', value: 'a; touch CANARY', accept: asText('a; touch CANARY') },
  { name: 'pipe', value: 'a | touch CANARY', accept: asText('a | touch CANARY') },
  { name: 'and-and', value: 'a && touch CANARY', accept: asText('a && touch CANARY') },
  { name: 'redirect out', value: 'a > CANARY', accept: asText('a > CANARY') },
  { name: 'redirect in', value: 'a < /etc/passwd', accept: asText('a < /etc/passwd') },
  { name: '$(touch CANARY)', value: '$(touch CANARY)', accept: asText('$(touch CANARY)') },
  { name: 'absolute $(touch …)', value: `$(touch ${CANARY}-abs)`, accept: asText(`$(touch ${CANARY}-abs)`) },
  { name: 'backticks', value: '`touch CANARY`', accept: asText('`touch CANARY`') },
  { name: '${IFS} word splitting', value: '${IFS}touch${IFS}CANARY', accept: asText('${IFS}touch${IFS}CANARY') },
  { name: 'quote breakout', value: `'; touch CANARY; echo '`, accept: asText(`'; touch CANARY; echo '`) },
  { name: 'glob', value: '*', accept: asText('*') },
  { name: 'number then semicolon', value: '1;touch CANARY', accept: asText('1;touch CANARY') },
  { name: 'number then $(…)', value: '1$(touch CANARY)', accept: asText('1$(touch CANARY)') },
  { name: 'date then semicolon', value: '2024-01-01;touch CANARY', accept: asText('2024-01-01;touch CANARY') },
  { name: 'enum value then pipe', value: 'alpha|touch CANARY', accept: asText('alpha|touch CANARY') },

  // Line breaks and control characters: refused everywhere.
  { name: 'newline', value: 'a\ntouch CANARY' },
  { name: 'carriage return', value: 'a\rtouch CANARY' },
  { name: 'CRLF', value: '42\r\n' },
  { name: 'NUL', value: 'a\u0000b' },
  { name: 'NUL inside a number', value: '4\u00002' },
  { name: 'tab', value: 'a\tb' },
  { name: 'escape sequence', value: '\u001b[31mred' },
  { name: 'DEL', value: 'a\u007fb' },
  { name: 'C1 control (NEL)', value: 'a\u0085b' },
  { name: 'line separator', value: 'a\u2028b' },

  // Option injection: a leading "-" is refused when the value feeds argv, passed through an environment variable.
  { name: 'leading dash -rf', value: '-rf', accept: { shell: '-rf' } },
  { name: 'leading dash --help', value: '--help', accept: { shell: '--help' } },
  { name: 'leading dash -n5', value: '-n5', accept: { shell: '-n5' } },
  { name: 'negative number -5 in argv', value: '-5', accept: { shell: '-5' } },
  { name: 'lone dash', value: '-', accept: { shell: '-' } },

  // Size.
  { name: 'overlong (2000 characters, over maxLength)', value: 'a'.repeat(2000) },
  { name: '100 KB value (over the body and header limits)', value: 'a'.repeat(100 * 1024), tooLarge: true },

  // Unicode look-alikes and other digit systems: text for strings, never a number.
  { name: 'fullwidth digits １２', value: '１２', accept: asText('１２') },
  { name: 'Arabic-Indic digit ٣', value: '٣', accept: asText('٣') },
  { name: 'superscript ²', value: '2²', accept: asText('2²') },
  { name: 'en dash for minus –5', value: '–5', accept: asText('–5') },
  { name: 'minus sign −5', value: '−5', accept: asText('−5') },
  { name: 'fullwidth date', value: '２０２４-01-01', accept: asText('２０２４-01-01') },
  { name: 'fullwidth true', value: 'ｔｒｕｅ', accept: asText('ｔｒｕｅ') },
  { name: 'Cyrillic а in alpha', value: 'аlpha', accept: asText('аlpha') },
  { name: 'zero-width joiner', value: 'a\u200db', accept: asText('a\u200db') },
  { name: 'RTL override', value: 'a\u202Etxt.exe' },
  { name: 'RTL isolate', value: '\u2067abc\u2069' },

  // Number syntax that is not plain decimal digits.
  { name: 'exponent 1e3', value: '1e3', accept: asText('1e3') },
  { name: 'hex 0x10', value: '0x10', accept: asText('0x10') },
  { name: 'leading space', value: ' 12', accept: asText(' 12') },
  { name: 'plus sign', value: '+12', accept: asText('+12') },
  { name: 'Infinity', value: 'Infinity', accept: asText('Infinity') },
  { name: 'beyond safe integers', value: '9007199254740993', accept: { ...asText('9007199254740993'), number: '9007199254740992' } },
  { name: 'impossible date 2024-02-30', value: '2024-02-30', accept: asText('2024-02-30') },
  { name: 'hour 25', value: '2024-01-01T25:00', accept: asText('2024-01-01T25:00') },
  { name: 'enum in other case', value: 'ALPHA', accept: asText('ALPHA') },
  { name: 'enum with trailing space', value: 'alpha ', accept: asText('alpha ') },

  // SQL injection strings are only text to a command.
  { name: "SQL ' OR '1'='1", value: "' OR '1'='1", accept: asText("' OR '1'='1") },
  { name: 'SQL stacked DROP', value: '1; DROP TABLE t; --', accept: asText('1; DROP TABLE t; --') },
  { name: 'SQL UNION', value: '1 UNION SELECT password FROM users', accept: asText('1 UNION SELECT password FROM users') },
  { name: 'SQL backslash quote', value: "\\'", accept: asText("\\'") },

  // Path traversal is only text too.
  { name: 'path traversal', value: '../../etc/passwd', accept: asText('../../etc/passwd') },
  { name: 'HTML', value: '"><script>alert(1)</script>', accept: asText('"><script>alert(1)</script>') },
];

// ---------------------------------------------------------------------------------------
// Every route that takes parameters.

interface Route {
  name: string;
  /** The status for a request bigger than the limits (413 for bodies, 431 for URLs). */
  tooLarge: number;
  send(port: number, kind: Kind, value: string): Promise<Response>;
}

const form = (value: string) => `x=${encodeURIComponent(value)}`;
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };
const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
const HTML = { accept: 'text/html' };

const ROUTES: Route[] = [
  {
    name: 'POST /api/actions/:id/runs (JSON)',
    tooLarge: 413,
    send: (port, kind, value) => send(port, `/api/actions/${actionOf(kind)}/runs`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ params: { x: value } }) }),
  },
  {
    name: 'POST /api/actions/:id/runs (form)',
    tooLarge: 413,
    send: (port, kind, value) => send(port, `/api/actions/${actionOf(kind)}/runs`, { method: 'POST', headers: FORM_HEADERS, body: form(value) }),
  },
  {
    name: 'GET /api/actions/:id/result?x=',
    tooLarge: 431,
    send: (port, kind, value) => send(port, `/api/actions/${actionOf(kind)}/result?${form(value)}`, { headers: { accept: 'application/json' } }),
  },
  {
    name: 'GET path: alias ?x=',
    tooLarge: 431,
    send: (port, kind, value) => send(port, `${aliasOf(kind)}?${form(value)}`),
  },
  {
    name: 'POST path: alias (JSON)',
    tooLarge: 413,
    send: (port, kind, value) => send(port, aliasOf(kind), { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ params: { x: value } }) }),
  },
  {
    name: 'GET /actions/:id?x= (page)',
    tooLarge: 431,
    send: (port, kind, value) => send(port, `/actions/${actionOf(kind)}?${form(value)}`, { headers: HTML }),
  },
  {
    name: 'POST /actions/:id (page form)',
    tooLarge: 413,
    send: (port, kind, value) => send(port, `/actions/${actionOf(kind)}`, { method: 'POST', headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' }, body: form(value) }),
  },
];

interface Case {
  label: string;
  kind: Kind;
  value: string;
  /** The single argv element the run must receive, or undefined when nothing may run. */
  literal: string | undefined;
  tooLarge: boolean;
}

const show = (text: string) => (text.length > 60 ? `${JSON.stringify(text.slice(0, 20))}…(${text.length} chars)` : JSON.stringify(text));

const CASES: Case[] = KINDS.flatMap((kind) =>
  ATTACKS.map((attack) => {
    const literal = attack.accept?.[kind];
    const outcome = attack.tooLarge ? '413/431, nothing runs' : literal === undefined ? '400, nothing runs' : `200, one argv element ${show(literal)}`;
    return { label: `${kind} ← ${attack.name} ${show(attack.value)} → ${outcome}`, kind, value: attack.value, literal, tooLarge: attack.tooLarge === true };
  }),
);

// ---------------------------------------------------------------------------------------
// Databases: one table per database, created by this file, with bound-parameter queries.

const ROWS: [number, string][] = [[1, 'alice'], [2, 'bob'], [3, "o'brien"], [4, "\\'"]];
const SQLITE_FILE = path.join(DIR, 'sec.db');
const XSS_CELL = '<script>alert("cell")</script>';
const XSS_COLUMN = '<b onmouseover=alert(6)>';
const XSS_OUTPUT = `<script>alert(1)</script><img src=x onerror=alert(2)>&"'`;

type Driver = 'sqlite' | 'mariadb' | 'postgres';
const DRIVERS: Driver[] = ['sqlite', ...(mariadb ? (['mariadb'] as const) : []), ...(postgres ? (['postgres'] as const) : [])];

function createSqlite(): void {
  const db = new Database(SQLITE_FILE);
  db.exec(`CREATE TABLE ${TABLE} (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`);
  const insert = db.prepare(`INSERT INTO ${TABLE} (id, name) VALUES (?, ?)`);
  for (const row of ROWS) insert.run(...row);
  db.exec(`CREATE TABLE cells (v TEXT)`);
  db.prepare('INSERT INTO cells (v) VALUES (?)').run(XSS_CELL);
  db.close();
}

function mysqlAdmin() {
  return mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
}

function pgAdmin() {
  return new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
}

async function createServerTables(only?: Driver): Promise<void> {
  if (mariadb && (only === undefined || only === 'mariadb')) {
    const admin = await mysqlAdmin();
    await admin.query(`CREATE TABLE ${TABLE} (id INT PRIMARY KEY, name VARCHAR(200) NOT NULL)`);
    for (const row of ROWS) await admin.query(`INSERT INTO ${TABLE} (id, name) VALUES (?, ?)`, row);
    await admin.end();
  }
  if (postgres && (only === undefined || only === 'postgres')) {
    const admin = pgAdmin();
    await admin.connect();
    await admin.query(`CREATE TABLE public.${TABLE} (id INT PRIMARY KEY, name VARCHAR(200) NOT NULL)`);
    for (const row of ROWS) await admin.query(`INSERT INTO public.${TABLE} (id, name) VALUES ($1, $2)`, row);
    await admin.end();
  }
}

/** Puts a table back as it was created, after a case that changed it (so one failure does not cascade). */
async function restoreTable(driver: Driver): Promise<void> {
  if (driver === 'sqlite') {
    const db = new Database(SQLITE_FILE);
    db.exec(`DROP TABLE IF EXISTS ${TABLE}; DROP TABLE IF EXISTS ${TABLE}_evil; CREATE TABLE ${TABLE} (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`);
    const insert = db.prepare(`INSERT INTO ${TABLE} (id, name) VALUES (?, ?)`);
    for (const row of ROWS) insert.run(...row);
    db.close();
    return;
  }
  if (driver === 'mariadb') {
    const admin = await mysqlAdmin();
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_evil`);
    await admin.end();
  } else {
    const admin = pgAdmin();
    await admin.connect();
    await admin.query(`DROP TABLE IF EXISTS public.${TABLE}, public.${TABLE}_evil`);
    await admin.end();
  }
  await createServerTables(driver);
}

/** The table's rows, or what went wrong reading them (a dropped table, an added column). */
async function tableState(driver: Driver): Promise<unknown> {
  try {
    const rows = await tableRows(driver);
    return { rows, columns: await tableColumns(driver), extraTable: await tableExists(driver, `${TABLE}_evil`) };
  } catch (error) {
    return `cannot read the table: ${(error as Error).message}`;
  }
}

async function tableColumns(driver: Driver): Promise<string[]> {
  if (driver === 'sqlite') {
    const db = new Database(SQLITE_FILE, { readonly: true });
    try {
      return db.prepare(`SELECT name FROM pragma_table_info('${TABLE}') ORDER BY cid`).all().map((r) => (r as { name: string }).name);
    } finally {
      db.close();
    }
  }
  if (driver === 'mariadb') {
    const admin = await mysqlAdmin();
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position', ['test', TABLE]);
      return rows.map((r) => String(r.c));
    } finally {
      await admin.end();
    }
  }
  const admin = pgAdmin();
  await admin.connect();
  try {
    const result = await admin.query<{ c: string }>('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position', ['public', TABLE]);
    return result.rows.map((r) => r.c);
  } finally {
    await admin.end();
  }
}

async function tableExists(driver: Driver, name: string): Promise<boolean> {
  if (driver === 'sqlite') {
    const db = new Database(SQLITE_FILE, { readonly: true });
    try {
      return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
    } finally {
      db.close();
    }
  }
  if (driver === 'mariadb') {
    const admin = await mysqlAdmin();
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?', ['test', name]);
      return rows.length > 0;
    } finally {
      await admin.end();
    }
  }
  const admin = pgAdmin();
  await admin.connect();
  try {
    return (await admin.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', ['public', name])).rows.length > 0;
  } finally {
    await admin.end();
  }
}

const PRISTINE = { rows: ROWS, columns: ['id', 'name'], extraTable: false };

async function dropServerTables(): Promise<void> {
  if (mariadb) {
    const admin = await mysqlAdmin();
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_evil`);
    await admin.end();
  }
  if (postgres) {
    const admin = pgAdmin();
    await admin.connect();
    await admin.query(`DROP TABLE IF EXISTS public.${TABLE}, public.${TABLE}_evil`);
    await admin.end();
  }
}

/** The table's rows as the database itself sees them, through an admin connection. */
async function tableRows(driver: Driver): Promise<[number, string][]> {
  if (driver === 'sqlite') {
    const db = new Database(SQLITE_FILE, { readonly: true });
    try {
      return db.prepare(`SELECT id, name FROM ${TABLE} ORDER BY id`).all().map((r) => {
        const row = r as { id: number; name: string };
        return [row.id, row.name];
      });
    } finally {
      db.close();
    }
  }
  if (driver === 'mariadb') {
    const admin = await mysqlAdmin();
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT id, name FROM ${TABLE} ORDER BY id`);
      return rows.map((r) => [Number(r.id), String(r.name)]);
    } finally {
      await admin.end();
    }
  }
  const admin = pgAdmin();
  await admin.connect();
  try {
    const result = await admin.query<{ id: number; name: string }>(`SELECT id, name FROM public.${TABLE} ORDER BY id`);
    return result.rows.map((r) => [r.id, r.name]);
  } finally {
    await admin.end();
  }
}

function datasources(): string {
  const lines = ['datasources:', `  ds-sqlite: { driver: sqlite, path: ${q(SQLITE_FILE)} }`];
  if (mariadb) lines.push('  ds-mariadb: { driver: mysql, host: 127.0.0.1, port: 3306, database: test, user: root, connectTimeout: 3s }');
  if (postgres) lines.push('  ds-postgres: { driver: postgres, host: 127.0.0.1, port: 5432, database: test, user: postgres, connectTimeout: 3s }');
  return lines.join('\n') + '\n';
}

function queryActions(): string {
  return DRIVERS.map((driver) => {
    const t = driver === 'postgres' ? `public.${TABLE}` : TABLE;
    const ds = `ds-${driver}`;
    return [
      `  q-${driver}-name:`,
      `    query: { datasource: ${ds}, sql: ${q(`SELECT id, name FROM ${t} WHERE name = :name ORDER BY id`)} }`,
      '    params: { name: { type: string, maxLength: 200 } }',
      `  q-${driver}-id:`,
      `    query: { datasource: ${ds}, sql: ${q(`SELECT id, name FROM ${t} WHERE id = :id ORDER BY id`)} }`,
      '    params: { id: { type: integer } }',
      `  w-${driver}-delete:`,
      `    query: { datasource: ${ds}, sql: ${q(`DELETE FROM ${t} WHERE name = :name`)} }`,
      '    params: { name: { type: string } }',
      `  w-${driver}-insert:`,
      `    query: { datasource: ${ds}, sql: ${q(`INSERT INTO ${t} (id, name) VALUES (99, :name)`)} }`,
      '    params: { name: { type: string } }',
      `  w-${driver}-update:`,
      `    query: { datasource: ${ds}, sql: ${q(`UPDATE ${t} SET name = :name`)} }`,
      '    params: { name: { type: string } }',
      `  w-${driver}-stacked:`,
      `    query: { datasource: ${ds}, sql: ${q(`SELECT 1 AS one; DROP TABLE ${t}`)} }`,
      `  w-${driver}-alter:`,
      `    query: { datasource: ${ds}, sql: ${q(`ALTER TABLE ${t} ADD COLUMN evil INT`)} }`,
      `  w-${driver}-truncate:`,
      `    query: { datasource: ${ds}, sql: ${q(driver === 'sqlite' ? `DELETE FROM ${t}` : `TRUNCATE TABLE ${t}`)} }`,
      `  w-${driver}-create:`,
      `    query: { datasource: ${ds}, sql: ${q(`CREATE TABLE ${t}_evil (id INT)`)} }`,
      `  w-${driver}-drop:`,
      `    query: { datasource: ${ds}, sql: ${q(`DROP TABLE ${t}`)} }`,
      '',
    ].join('\n');
  }).join('');
}

function xssActions(): string {
  return [
    '  xss-out:',
    `    command: [printf, "%s", ${q(XSS_OUTPUT)}]`,
    '    safe: true',
    '    path: /xss-out',
    '  xss-cells:',
    `    query: { datasource: ds-sqlite, sql: ${q(`SELECT v AS "${XSS_COLUMN}", v AS plain FROM cells`)} }`,
    '',
  ].join('\n');
}

let server: TestServer;
let port: number;

beforeAll(async () => {
  createSqlite();
  await createServerTables();
  server = await startServer(`${datasources()}actions:\n${commandActions()}${queryActions()}${xssActions()}`, { dir: DIR });
  port = server.port;
});

afterAll(async () => {
  await server?.close();
  await dropServerTables();
});

/** Nothing any attack tried to create exists, here or in the test's own folder. */
function expectNoCanary(): void {
  expect(canaries(DIR)).toEqual([]);
  expect(canaries(process.cwd())).toEqual([]);
  expect(existsSync(`${CANARY}-abs`)).toBe(false);
}

function expectPrototypeClean(): void {
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false);
  expect(typeof probe.toString).toBe('function');
}

afterEach(() => {
  expectNoCanary();
  expectPrototypeClean();
});

// ---------------------------------------------------------------------------------------

describe.each(ROUTES)('$name', (route) => {
  it.each(CASES)('$label', async ({ kind, value, literal, tooLarge }) => {
    const log = logOf(kind);
    const before = probeRuns(log);
    const response = await route.send(port, kind, value);
    const after = probeRuns(log);

    if (tooLarge) {
      expect(response.status).toBe(route.tooLarge);
      expect(after).toEqual(before);
      return;
    }
    if (literal === undefined) {
      expect(response.status, response.body.slice(0, 300)).toBe(400);
      if (response.headers['content-type']?.startsWith('application/json')) {
        expect(json<ErrorJson>(response).error.problems?.map((p) => p.param)).toEqual(['x']);
      }
      expect(after, 'nothing ran').toEqual(before);
      return;
    }
    expect(response.status, response.body.slice(0, 300)).toBe(200);
    expect(after.length, 'exactly one run').toBe(before.length + 1);
    expect(after.at(-1), 'the literal, as exactly one argv element').toEqual([literal]);
  });
});

// ---------------------------------------------------------------------------------------

describe('values that only JSON can carry', () => {
  const JSON_CASES: { name: string; params: string; kind: Kind; status: number; literal?: string }[] = [
    { name: 'a JSON number for a string', params: '{"x": 42}', kind: 'string', status: 400 },
    { name: 'a list for a string', params: '{"x": ["a", "; touch CANARY"]}', kind: 'string', status: 400 },
    { name: 'an object for a string', params: '{"x": {"toString": "x"}}', kind: 'string', status: 400 },
    { name: 'an escaped NUL', params: '{"x": "a\\u0000b"}', kind: 'string', status: 400 },
    { name: 'an escaped lone surrogate', params: '{"x": "a\\ud800b"}', kind: 'string', status: 400 },
    { name: 'an escaped RTL override', params: '{"x": "\\u202e"}', kind: 'string', status: 400 },
    { name: 'a JSON number for an integer', params: '{"x": 7}', kind: 'integer', status: 200, literal: '7' },
    { name: 'a fraction for an integer', params: '{"x": 7.5}', kind: 'integer', status: 400 },
    { name: 'a negative JSON number in argv', params: '{"x": -7}', kind: 'integer', status: 400 },
    { name: '1e400 (Infinity) for a number', params: '{"x": 1e400}', kind: 'number', status: 400 },
    { name: 'an unsafe integer', params: '{"x": 9007199254740993}', kind: 'integer', status: 400 },
    { name: 'JSON true for a boolean', params: '{"x": true}', kind: 'boolean', status: 200, literal: 'true' },
    { name: 'a number for a boolean', params: '{"x": 2}', kind: 'boolean', status: 400 },
    { name: 'a list for an enum', params: '{"x": ["alpha"]}', kind: 'enum', status: 400 },
    { name: 'a number for a date', params: '{"x": 20240101}', kind: 'date', status: 400 },
    { name: 'an extra unknown parameter beside a good one', params: '{"x": "ok", "y": "; touch CANARY"}', kind: 'string', status: 400 },
  ];

  it.each(JSON_CASES)('$kind ← $name → $status', async ({ params, kind, status, literal }) => {
    const before = probeRuns(logOf(kind));
    const response = await send(port, `/api/actions/${actionOf(kind)}/runs`, { method: 'POST', headers: JSON_HEADERS, body: `{"params": ${params}}` });
    expect(response.status, response.body).toBe(status);
    const after = probeRuns(logOf(kind));
    if (literal === undefined) expect(after).toEqual(before);
    else expect(after).toEqual([...before, [literal]]);
  });
});

// ---------------------------------------------------------------------------------------

describe('malformed bodies, prototype pollution, oversized requests', () => {
  const RUNS = `/api/actions/${actionOf('string')}/runs`;
  const PAGE = `/actions/${actionOf('string')}`;
  const big = 'a'.repeat(100 * 1024);

  const BODY_CASES: { name: string; url?: string; contentType?: string; body: string; status: number; literal?: string }[] = [
    { name: 'truncated JSON', body: '{"params": {"x": "a"', status: 400 },
    { name: 'trailing comma', body: '{"params": {"x": "a",}}', status: 400 },
    { name: 'single-quoted JSON', body: "{'params': {'x': 'a'}}", status: 400 },
    { name: 'garbage after the JSON', body: '{"params": {"x": "a"}} ; touch CANARY', status: 400 },
    { name: 'empty JSON body', body: '', status: 400 },
    { name: 'JSON null', body: 'null', status: 400 },
    { name: 'a JSON array', body: '[{"x": "a"}]', status: 400 },
    { name: 'a JSON string', body: '"x=a"', status: 400 },
    { name: 'params as a list', body: '{"params": ["a"]}', status: 400 },
    { name: 'params as a string', body: '{"params": "x=a"}', status: 400 },
    { name: 'an unknown top-level field', body: '{"params": {"x": "a"}, "command": "touch CANARY"}', status: 400 },
    { name: '__proto__ at the top', body: '{"__proto__": {"polluted": "yes"}, "params": {"x": "a"}}', status: 400 },
    { name: '__proto__ in params', body: '{"params": {"__proto__": {"polluted": "yes"}, "x": "a"}}', status: 400 },
    { name: 'constructor.prototype at the top', body: '{"constructor": {"prototype": {"polluted": "yes"}}, "params": {"x": "a"}}', status: 400 },
    { name: 'constructor.prototype in params', body: '{"params": {"constructor": {"prototype": {"polluted": "yes"}}, "x": "a"}}', status: 400 },
    { name: 'escaped __proto__ key', body: '{"params": {"\\u005f_proto__": {"polluted": "yes"}, "x": "a"}}', status: 400 },
    { name: 'form __proto__[polluted] (an "_" field, ignored)', contentType: 'application/x-www-form-urlencoded', body: '__proto__[polluted]=yes&x=a', status: 200, literal: 'a' },
    { name: 'form __proto__=… (an "_" field, ignored)', contentType: 'application/x-www-form-urlencoded', body: '__proto__=yes&x=a', status: 200, literal: 'a' },
    { name: 'form constructor[prototype][polluted]', contentType: 'application/x-www-form-urlencoded', body: 'constructor[prototype][polluted]=yes&x=a', status: 400 },
    { name: 'form constructor=…', contentType: 'application/x-www-form-urlencoded', body: 'constructor=yes&x=a', status: 400 },
    { name: 'form repeated x', contentType: 'application/x-www-form-urlencoded', body: 'x=a&x=touch', status: 400 },
    { name: 'form x[]', contentType: 'application/x-www-form-urlencoded', body: 'x[]=a', status: 400 },
    { name: 'text/plain body (what another site can send)', contentType: 'text/plain', body: 'x=a', status: 415 },
    { name: 'multipart body', contentType: 'multipart/form-data; boundary=b', body: '--b\r\ncontent-disposition: form-data; name="x"\r\n\r\na\r\n--b--\r\n', status: 415 },
    { name: '100 KB JSON body', body: JSON.stringify({ params: { x: big } }), status: 413 },
    { name: '100 KB form body', contentType: 'application/x-www-form-urlencoded', body: `x=${big}`, status: 413 },
    { name: '100 KB JSON body to the page', url: PAGE, body: JSON.stringify({ params: { x: big } }), status: 413 },
    { name: 'more parameters than server.maxParams', body: JSON.stringify({ params: Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`p${i}`, 'a'])) }), status: 400 },
  ];

  it.each(BODY_CASES)('$name → $status', async ({ url, contentType, body, status, literal }) => {
    const log = logOf('string');
    const before = probeRuns(log);
    const response = await send(port, url ?? RUNS, { method: 'POST', headers: { 'content-type': contentType ?? 'application/json', accept: 'application/json' }, body });
    expect(response.status, response.body.slice(0, 300)).toBe(status);
    const after = probeRuns(log);
    if (literal === undefined) expect(after).toEqual(before);
    else expect(after).toEqual([...before, [literal]]);
    expect(response.body).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  const QUERY_CASES: { name: string; query: string; status: number; literal?: string }[] = [
    { name: '__proto__ in a query string', query: '__proto__=x&x=a', status: 400 },
    { name: '__proto__[polluted] in a query string', query: '__proto__[polluted]=yes&x=a', status: 400 },
    { name: 'constructor[prototype][polluted] in a query string', query: 'constructor[prototype][polluted]=yes&x=a', status: 400 },
    { name: 'toString in a query string', query: 'toString=x&x=a', status: 400 },
    { name: 'repeated x', query: 'x=a&x=b', status: 400 },
    { name: 'raw %00', query: 'x=a%00b', status: 400 },
    { name: 'encoded CR LF', query: 'x=a%0d%0aSet-Cookie:%20x=y', status: 400 },
    { name: 'invalid percent-encoding', query: 'x=%E0%A4%A', status: 200, literal: 'a\ufffd' },
    { name: 'more parameters than server.maxParams', query: Array.from({ length: 70 }, (_, i) => `p${i}=a`).join('&'), status: 400 },
  ];

  it.each(QUERY_CASES)('GET result with $name → $status', async ({ query, status, literal }) => {
    const log = logOf('string');
    const before = probeRuns(log);
    const response = await send(port, `/api/actions/${actionOf('string')}/result?${query}`);
    expect(response.status, response.body.slice(0, 300)).toBe(status);
    expect(response.headers['set-cookie']).toBeUndefined();
    const after = probeRuns(log);
    if (literal === undefined) expect(after).toEqual(before);
    else expect(after.length).toBe(before.length + 1);
  });

  it.each([
    ['a 20 KB header', { 'x-big': 'a'.repeat(20 * 1024) }],
    ['200 headers of 100 bytes', Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, 'b'.repeat(100)]))],
    ['a 20 KB cookie', { cookie: `porthole_session=${'c'.repeat(20 * 1024)}` }],
  ])('%s → 431, nothing runs', async (_name, headers) => {
    const log = logOf('string');
    const before = probeRuns(log);
    const response = await send(port, RUNS, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: '{"params": {"x": "a"}}' });
    expect(response.status).toBe(431);
    expect(probeRuns(log)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------

describe('SQL injection through bound parameters', () => {
  interface SqlCase { name: string; action: 'name' | 'id'; value: string; status: number; ids?: number[] }
  const SQL_CASES: SqlCase[] = [
    { name: 'control: alice', action: 'name', value: 'alice', status: 200, ids: [1] },
    { name: "' OR '1'='1", action: 'name', value: "' OR '1'='1", status: 200, ids: [] },
    { name: "' OR 1=1 --", action: 'name', value: "' OR 1=1 -- ", status: 200, ids: [] },
    { name: "alice' --", action: 'name', value: "alice' --", status: 200, ids: [] },
    { name: "alice' #", action: 'name', value: "alice' #", status: 200, ids: [] },
    { name: '1; DROP TABLE t; --', action: 'name', value: `1; DROP TABLE ${TABLE}; --`, status: 200, ids: [] },
    { name: "'; DROP TABLE t; --", action: 'name', value: `'; DROP TABLE ${TABLE}; --`, status: 200, ids: [] },
    { name: "'; DELETE FROM t; --", action: 'name', value: `'; DELETE FROM ${TABLE}; --`, status: 200, ids: [] },
    { name: "' UNION SELECT 1, 'x' --", action: 'name', value: "' UNION SELECT 1, 'x' -- ", status: 200, ids: [] },
    { name: "o'brien matches only itself", action: 'name', value: "o'brien", status: 200, ids: [3] },
    { name: "\\' matches only the row holding it", action: 'name', value: "\\'", status: 200, ids: [4] },
    { name: "\\' OR 1=1 --", action: 'name', value: "\\' OR 1=1 -- ", status: 200, ids: [] },
    { name: 'a placeholder in the value', action: 'name', value: ':name', status: 200, ids: [] },
    { name: 'a $1 placeholder in the value', action: 'name', value: '$1', status: 200, ids: [] },
    { name: 'a ? placeholder in the value', action: 'name', value: '?', status: 200, ids: [] },
    { name: 'a LIKE wildcard', action: 'name', value: '%', status: 200, ids: [] },
    { name: 'a NUL ending the string', action: 'name', value: "alice\u0000' OR '1'='1", status: 400 },
    { name: 'control: id 2', action: 'id', value: '2', status: 200, ids: [2] },
    { name: 'id 1 OR 1=1', action: 'id', value: '1 OR 1=1', status: 400 },
    { name: 'id 1; DROP TABLE t', action: 'id', value: `1; DROP TABLE ${TABLE}`, status: 400 },
    { name: 'id 1 UNION SELECT 2, version()', action: 'id', value: '1 UNION SELECT 2, version()', status: 400 },
    { name: 'id 0x01', action: 'id', value: '0x01', status: 400 },
    { name: 'id -1 (fine outside argv)', action: 'id', value: '-1', status: 200, ids: [] },
  ];

  const CASES_BY_DRIVER = DRIVERS.flatMap((driver) => SQL_CASES.map((c) => ({ ...c, driver, label: `${driver}: ${c.action} = ${show(c.value)} (${c.name}) → ${c.status}${c.ids ? `, ids ${JSON.stringify(c.ids)}` : ''}` })));

  it.each(CASES_BY_DRIVER)('$label', async ({ driver, action, value, status, ids }) => {
    const id = `q-${driver}-${action}`;
    const asJson = await send(port, `/api/actions/${id}/result?${action}=${encodeURIComponent(value)}`, { headers: { accept: 'application/json' } });
    const asBody = await send(port, `/api/actions/${id}/runs`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ params: { [action]: value } }) });
    for (const response of [asJson, asBody]) {
      expect(response.status, response.body.slice(0, 300)).toBe(status);
      if (ids) expect(json<TableJson>(response).rows.map((r) => r[0])).toEqual(ids);
    }
    expect(await tableRows(driver)).toEqual(ROWS);
  });

  const WRITES = DRIVERS.flatMap((driver) => [
    { driver, action: `w-${driver}-delete`, body: { params: { name: "' OR '1'='1" } } },
    { driver, action: `w-${driver}-insert`, body: { params: { name: 'mallory' } } },
    { driver, action: `w-${driver}-update`, body: { params: { name: 'mallory' } } },
    { driver, action: `w-${driver}-stacked`, body: {} },
    { driver, action: `w-${driver}-alter`, body: {} },
    { driver, action: `w-${driver}-truncate`, body: {} },
    { driver, action: `w-${driver}-create`, body: {} },
    { driver, action: `w-${driver}-drop`, body: {} },
  ]);

  it.each(WRITES)('read-only $driver refuses $action with 502, and the table is untouched', async ({ driver, action, body }) => {
    const response = await send(port, `/api/actions/${action}/runs`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
    const state = await tableState(driver);
    if (JSON.stringify(state) !== JSON.stringify(PRISTINE)) await restoreTable(driver);
    expect(state, 'the table after the attempt').toEqual(PRISTINE);
    expect(response.status, response.body.slice(0, 300)).toBe(502);
  });
});

// ---------------------------------------------------------------------------------------

describe('XSS in command output, query cells and echoed input', () => {
  const RAW = ['<script>alert(', '<img src=x', '<b onmouseover', '<svg onload'];
  /** The text a browser would show for an HTML body: entities decoded, tags left as they are. */
  const shown = (html: string) =>
    html
      .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
      .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
      .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&amp;/g, '&');
  const expectEscaped = (response: Response) => {
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    for (const raw of RAW) expect(response.body).not.toContain(raw);
  };

  let runId = '';

  it.each([
    ['GET /actions/xss-out (page)', '/actions/xss-out'],
    ['GET /api/actions/xss-out/result.html', '/api/actions/xss-out/result.html'],
    ['GET /xss-out.html (alias)', '/xss-out.html'],
    ['GET /xss-out with Accept: text/html', '/xss-out'],
  ])('command output on %s → 200, escaped', async (_name, url) => {
    const response = await send(port, url, { headers: HTML });
    expect(response.status).toBe(200);
    expectEscaped(response);
    expect(shown(response.body), 'the output is shown, as text').toContain(XSS_OUTPUT);
  });

  it('command output in the history run page and its downloads → escaped or not HTML', async () => {
    const run = await send(port, '/api/actions/xss-out/runs', { method: 'POST', headers: JSON_HEADERS, body: '{}' });
    expect(run.status).toBe(200);
    runId = json<{ runId: string }>(run).runId;
    const page = await eventually(async () => {
      const response = await send(port, `/actions/xss-out/runs/${runId}`, { headers: HTML });
      return response.status === 200 && shown(response.body).includes(XSS_OUTPUT) ? response : undefined;
    });
    expect(page, 'the run page').toBeDefined();
    expectEscaped(page!);
    const text = await send(port, `/api/actions/xss-out/runs/${runId}/result.txt`);
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    expect(text.headers['x-content-type-options']).toBe('nosniff');
  });

  it.each([
    ['GET /actions/xss-cells (page)', '/actions/xss-cells'],
    ['GET /api/actions/xss-cells/result.html', '/api/actions/xss-cells/result.html'],
    ['GET / (dashboard card)', '/'],
  ])('query cells and column names on %s → 200, escaped', async (_name, url) => {
    const response = await send(port, url, { headers: HTML });
    expect(response.status).toBe(200);
    expectEscaped(response);
    expect(shown(response.body), 'the cell is shown, as text').toContain(XSS_CELL);
    expect(shown(response.body), 'the column name is shown, as text').toContain(XSS_COLUMN);
  });

  it.each([
    ['an accepted value echoed in the form', `/actions/${actionOf('string')}?x=${encodeURIComponent('"><script>alert(3)</script>')}`, 200],
    ['a refused value echoed next to its error', `/actions/${actionOf('string')}?x=${encodeURIComponent('"><svg onload=alert(4)>\n')}`, 400],
    ['an unknown parameter name', `/actions/${actionOf('string')}?x=a&${encodeURIComponent('<script>alert(7)</script>')}=1`, 400],
    ['an unknown action id', `/actions/${encodeURIComponent('<script>alert(8)</script>')}`, 404],
    ['an unknown path', `/${encodeURIComponent('<script>alert(9)</script>')}`, 404],
    ['a page form POST echoing the value', `/actions/${actionOf('integer')}`, 400, `x=${encodeURIComponent('"><img src=x onerror=alert(10)>')}`],
  ])('%s → %i, escaped', async (_name, url, status, body?: string) => {
    const response = body === undefined
      ? await send(port, url, { headers: HTML })
      : await send(port, url, { method: 'POST', headers: { ...HTML, 'content-type': 'application/x-www-form-urlencoded' }, body });
    expect(response.status).toBe(status);
    expectEscaped(response);
  });

  it('every HTML answer forbids inline script through its Content-Security-Policy', async () => {
    const response = await send(port, '/actions/xss-out', { headers: HTML });
    expect(response.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(response.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
  });
});

// ---------------------------------------------------------------------------------------

describe('path traversal in run ids, action ids and static paths', () => {
  const LEAKS = [/root:.*:0:0:/, /"name": "porthole"/, /buildServer/, /BEGIN .*PRIVATE KEY/];
  const a = actionOf('string');
  const RUN_PATHS = [
    '../../../../etc/passwd',
    '..%2f..%2f..%2f..%2fetc%2fpasswd',
    '%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '..%5c..%5c..%5cetc%5cpasswd',
    '%252e%252e%252f%252e%252e%252fetc%252fpasswd',
    '....//....//etc/passwd',
    '..;/..;/etc/passwd',
    '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b%00',
    '3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b%2f..%2f..',
  ];
  const URLS = RUN_PATHS.flatMap((run) => [
    `/api/actions/${a}/runs/${run}`,
    `/api/actions/${a}/runs/${run}/result.json`,
    `/api/actions/${a}/runs/${run}/events`,
    `/actions/${a}/runs/${run}`,
  ]).concat([
    '/api/actions/..%2f..%2fetc%2fpasswd/result',
    '/api/actions/%2e%2e/result',
    `/api/actions/${a}%00/result`,
    '/actions/..%2f..%2fpackage.json',
  ]);

  it.each(URLS)('%s → 404, no file content', async (url) => {
    const before = probeRuns(logOf('string'));
    const response = await send(port, url);
    expect(response.status).toBe(404);
    for (const leak of LEAKS) expect(response.body).not.toMatch(leak);
    expect(probeRuns(logOf('string'))).toEqual(before);
  });

  // @fastify/static answers 403 for a path that climbs out of its folder, 404 for one that does not exist.
  const STATIC: [string, number][] = [
    ['/static/../../../../etc/passwd', 403],
    ['/static/../../package.json', 403],
    ['/static/..%2f..%2fpackage.json', 403],
    ['/static/%2e%2e/%2e%2e/package.json', 403],
    ['/static/%2e%2e%2f%2e%2e%2fpackage.json', 403],
    ['/static/..%5c..%5cpackage.json', 403],
    ['/static/%252e%252e%252f%252e%252e%252fpackage.json', 404],
    ['/static/..%252f..%252fpackage.json', 403],
    ['/static/%c0%ae%c0%ae/%c0%ae%c0%ae/package.json', 400],
    ['/static/../http/server.ts', 403],
    ['/static/%2e%2e/http/server.ts', 403],
    ['/static/vendor/../../../package.json', 403],
    ['/static/vendor/%2e%2e/%2e%2e/%2e%2e/package.json', 403],
    ['/static/vendor/package.json', 404],
    ['/static/vendor/chart.js', 404],
    ['/static/vendor/..%2fhelpers.js', 404],
    ['/static/%00../../package.json', 403],
    ['/static//etc/passwd', 403],
    ['/static/.%2e/.%2e/package.json', 403],
  ];

  it.each(STATIC)('%s → %i, no file content', async (url, status) => {
    const response = await send(port, url);
    expect(response.status).toBe(status);
    for (const leak of LEAKS) expect(response.body).not.toMatch(leak);
  });

  it('the static files that exist are still served (control)', async () => {
    const chart = await send(port, '/static/vendor/chart.umd.min.js');
    expect(chart.status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------

describe('spoofed forwarding headers and IPv4-mapped peers (dual-stack server on ::)', () => {
  const NET_DIR = tempDir('porthole-sec-net-');
  const NET_PROBE = writeProbe(NET_DIR);
  const servers: Record<'untrusted' | 'proxied' | 'forwarded', TestServer | undefined> = { untrusted: undefined, proxied: undefined, forwarded: undefined };
  const netLog = (name: string) => path.join(NET_DIR, `log-${name}`);

  const yaml = (name: string, network: string) => `network:\n${network}\nactions:\n  probe:\n    command: [${q(NET_PROBE)}, ${q(netLog(name))}]\n    cwd: ${q(NET_DIR)}\n    path: /do-probe\n`;

  beforeAll(async () => {
    servers.untrusted = await startServer(yaml('untrusted', '  allow: [127.0.0.2]'), { dir: tempDir('porthole-sec-n1-') });
    servers.proxied = await startServer(yaml('proxied', '  allow: [10.9.8.7]\n  trustedProxies: [127.0.0.1]'), { dir: tempDir('porthole-sec-n2-') });
    servers.forwarded = await startServer(yaml('forwarded', '  allow: [10.9.8.7]\n  trustedProxies: [127.0.0.1]\n  proxyHeader: forwarded'), { dir: tempDir('porthole-sec-n3-') });
  });

  afterAll(async () => {
    await Promise.all(Object.values(servers).flatMap((s) => (s ? [s.close()] : [])));
  });

  interface NetCase { name: string; server: keyof typeof servers; peer: string; headers: Record<string, string>; status: number; clientIp?: string }
  const NET_CASES: NetCase[] = [
    // No trusted proxies: the socket peer is the client, whatever the headers say.
    { name: 'X-Forwarded-For naming the allowed address', server: 'untrusted', peer: '127.0.0.1', headers: { 'x-forwarded-for': '127.0.0.2' }, status: 404 },
    { name: 'X-Forwarded-For with the allowed address twice', server: 'untrusted', peer: '127.0.0.1', headers: { 'x-forwarded-for': '127.0.0.2, 127.0.0.2' }, status: 404 },
    { name: 'X-Forwarded-For with a mapped allowed address', server: 'untrusted', peer: '127.0.0.1', headers: { 'x-forwarded-for': '::ffff:127.0.0.2' }, status: 404 },
    { name: 'Forwarded: for=the allowed address', server: 'untrusted', peer: '127.0.0.1', headers: { forwarded: 'for=127.0.0.2' }, status: 404 },
    { name: 'Forwarded: for="[::ffff:127.0.0.2]"', server: 'untrusted', peer: '127.0.0.1', headers: { forwarded: 'for="[::ffff:127.0.0.2]"' }, status: 404 },
    { name: 'X-Real-IP and True-Client-IP', server: 'untrusted', peer: '127.0.0.1', headers: { 'x-real-ip': '127.0.0.2', 'true-client-ip': '127.0.0.2', 'x-client-ip': '127.0.0.2' }, status: 404 },
    { name: 'IPv6 ::1 peer spoofing the allowed address', server: 'untrusted', peer: '::1', headers: { 'x-forwarded-for': '127.0.0.2' }, status: 404 },
    { name: '127.0.0.3 spoofing the allowed address', server: 'untrusted', peer: '127.0.0.3', headers: { 'x-forwarded-for': '127.0.0.2', forwarded: 'for=127.0.0.2' }, status: 404 },
    { name: 'the allowed peer (arrives as ::ffff:127.0.0.2) with no headers', server: 'untrusted', peer: '127.0.0.2', headers: {}, status: 200, clientIp: '127.0.0.2' },
    { name: 'the allowed peer claiming to be someone else is still itself', server: 'untrusted', peer: '127.0.0.2', headers: { 'x-forwarded-for': '10.1.2.3', forwarded: 'for=10.1.2.3' }, status: 200, clientIp: '127.0.0.2' },

    // Trusted proxy 127.0.0.1 (a mapped peer on this socket), X-Forwarded-For.
    { name: 'the trusted proxy naming the allowed client', server: 'proxied', peer: '127.0.0.1', headers: { 'x-forwarded-for': '10.9.8.7' }, status: 200, clientIp: '10.9.8.7' },
    { name: 'the trusted proxy naming the allowed client in mapped form', server: 'proxied', peer: '127.0.0.1', headers: { 'x-forwarded-for': '::ffff:10.9.8.7' }, status: 200, clientIp: '10.9.8.7' },
    { name: 'the trusted proxy naming the allowed client in mapped hex form', server: 'proxied', peer: '127.0.0.1', headers: { 'x-forwarded-for': '::ffff:a09:807' }, status: 200, clientIp: '10.9.8.7' },
    { name: 'the trusted proxy naming another mapped client', server: 'proxied', peer: '127.0.0.1', headers: { 'x-forwarded-for': '::ffff:10.9.8.8' }, status: 404 },
    { name: 'a client-supplied allowed hop left of the real one', server: 'proxied', peer: '127.0.0.1', headers: { 'x-forwarded-for': '10.9.8.7, 10.6.6.6' }, status: 404 },
    { name: 'an untrusted peer sending the header', server: 'proxied', peer: '127.0.0.2', headers: { 'x-forwarded-for': '10.9.8.7' }, status: 404 },
    { name: 'an untrusted ::1 peer sending the header', server: 'proxied', peer: '::1', headers: { 'x-forwarded-for': '10.9.8.7' }, status: 404 },
    { name: 'a spoofed Forwarded when the proxy writes X-Forwarded-For', server: 'proxied', peer: '127.0.0.1', headers: { forwarded: 'for=10.9.8.7' }, status: 404 },
    { name: 'garbage in X-Forwarded-For', server: 'proxied', peer: '127.0.0.1', headers: { 'x-forwarded-for': '10.9.8.7; rm -rf /' }, status: 404 },
    { name: 'the trusted proxy itself without the header', server: 'proxied', peer: '127.0.0.1', headers: {}, status: 404 },

    // Trusted proxy with proxyHeader: forwarded.
    { name: 'Forwarded from the trusted proxy', server: 'forwarded', peer: '127.0.0.1', headers: { forwarded: 'for=10.9.8.7' }, status: 200, clientIp: '10.9.8.7' },
    { name: 'Forwarded with a mapped IPv6 client', server: 'forwarded', peer: '127.0.0.1', headers: { forwarded: 'for="[::ffff:10.9.8.7]"' }, status: 200, clientIp: '10.9.8.7' },
    { name: 'a spoofed X-Forwarded-For when the proxy writes Forwarded', server: 'forwarded', peer: '127.0.0.1', headers: { 'x-forwarded-for': '10.9.8.7' }, status: 404 },
    { name: 'Forwarded from an untrusted peer', server: 'forwarded', peer: '127.0.0.2', headers: { forwarded: 'for=10.9.8.7' }, status: 404 },
    { name: 'a client-supplied allowed element left of the real one', server: 'forwarded', peer: '127.0.0.1', headers: { forwarded: 'for=10.9.8.7, for=10.6.6.6' }, status: 404 },
  ];

  const label = (c: NetCase) => `${c.server}: ${c.name} from ${c.peer} → ${c.status}`;

  it.each(NET_CASES.map((c) => ({ ...c, label: label(c) })))('$label', async ({ server: which, peer, headers, status, clientIp }) => {
    const s = servers[which]!;
    const log = netLog(which);
    const before = probeRuns(log);
    const host = peer.includes(':') ? '::1' : '127.0.0.1';
    const response = await send(s.port, '/api/actions/probe/runs', { method: 'POST', host, localAddress: peer, headers: { ...JSON_HEADERS, ...headers }, body: '{}' });
    expect(response.status, response.body.slice(0, 200)).toBe(status);
    const after = probeRuns(log);
    if (status !== 200) {
      expect(after, 'nothing ran').toEqual(before);
      // The alias refuses the same way.
      const alias = await send(s.port, '/do-probe', { method: 'POST', host, localAddress: peer, headers: { ...JSON_HEADERS, ...headers }, body: '{}' });
      expect(alias.status).toBe(status);
      expect(probeRuns(log)).toEqual(before);
      return;
    }
    expect(after.length).toBe(before.length + 1);
    const runId = json<{ runId: string }>(response).runId;
    const record = await eventually(async () => {
      const r = s.service.app.store.history.get(runId);
      return (await r) ?? undefined;
    });
    expect(record?.clientIp).toBe(clientIp);
  });
});

// Keep the canary path visible in failures: if any attack ever executes, this is where it lands.
it('no canary was created by any attack', () => {
  expect(existsSync(CANARY)).toBe(false);
  expect(readFileSync(PROBE, 'utf8')).toContain('argc=');
});
