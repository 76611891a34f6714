import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ROOT, porthole } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';

const DEMO = path.join(ROOT, 'examples/demo/porthole.yaml');

describe('porthole --help / --version', () => {
  it('prints help and exits 0', async () => {
    const out = await porthole(['--help']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('check');
    expect(out.stdout).toContain('run');
  });

  it('prints the version', async () => {
    const out = await porthole(['--version']);
    expect(out.code).toBe(0);
    expect(out.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('rejects an unknown command as a usage error', async () => {
    const out = await porthole(['frobnicate']);
    expect(out.code).toBe(2);
  });
});

describe('porthole check', () => {
  it('summarises the demo config', async () => {
    const out = await porthole(['check', '-c', DEMO]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('OK');
    expect(out.stdout).toMatch(/actions: 10 \(5 commands, 5 queries\)/);
    expect(out.stdout).toContain('task-status [query, safe] at /status/');
    expect(out.stdout).toContain('network allow: 127.0.0.1, ::1');
  });

  it('finds the config through PORTHOLE_CONFIG', async () => {
    const out = await porthole(['check'], { env: { PORTHOLE_CONFIG: DEMO } });
    expect(out.code).toBe(0);
  });

  it('says where to put a config when there is none', async () => {
    const out = await porthole(['check'], { cwd: tempDir() });
    expect(out.code).toBe(3);
    expect(out.stderr).toContain('porthole.yaml');
    expect(out.stderr).toContain('no such file');
  });

  it('lists every error with file, line and key, and exits 3', async () => {
    const file = writeConfig(`actions:
  one:
    command: [ls, "{{nope}}"]
    tiemout: 5s
  two:
    query: { datasource: missing, sql: "SELECT 1" }
  three:
    shell: echo {{x}}
`);
    const out = await porthole(['check', '-c', file]);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain(`${file}:4:5: error: actions.one.tiemout: unknown key "tiemout"`);
    expect(out.stderr).toContain('actions.two.query.datasource');
    expect(out.stderr).toContain('(3 errors)');
  });

  it('never prints a secret, even when the secret is what is wrong', async () => {
    const secret = 'sup3r-s3cret-passw0rd';
    const file = writeConfig(`datasources:
  db: { driver: mysql, database: d, user: u, password: "\${env:DB_PASSWORD}", connectTimeout: "\${env:DB_PASSWORD}" }
actions:
  q: { query: { datasource: db, sql: "SELECT 1" } }
`);
    const bad = await porthole(['check', '-c', file], { env: { DB_PASSWORD: secret } });
    expect(bad.code).toBe(3);
    expect(bad.stdout + bad.stderr).not.toContain(secret);

    const good = writeConfig(`datasources:
  db: { driver: mysql, database: d, user: u, password: "\${env:DB_PASSWORD}" }
actions:
  q: { query: { datasource: db, sql: "SELECT 1" } }
`);
    const ok = await porthole(['check', '-c', good], { env: { DB_PASSWORD: secret } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('mysql u@127.0.0.1:3306/d (read-only)');
    expect(ok.stdout + ok.stderr).not.toContain(secret);
  });
});

describe('porthole run', () => {
  it('runs a demo query and prints a table', async () => {
    const out = await porthole(['run', 'task-status', '-c', DEMO]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/\| status\s+\| tasks \|/);
    expect(out.stdout).toMatch(/\| Success\s+\|\s+7 \|/);
    expect(out.stderr).toMatch(/3 rows in \d+ ms/);
  });

  it('prints JSON and CSV', async () => {
    const json = await porthole(['run', 'tasks', '-c', DEMO, '-p', 'status=Failed', '--format', 'json']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout) as { kind: string; outcome: string; rows: unknown[][]; columns: { name: string }[] };
    expect(result).toMatchObject({ kind: 'table', outcome: 'succeeded' });
    expect(result.columns.map((c) => c.name)).toEqual(['id', 'title', 'status', 'updated_at']);
    expect(result.rows.every((row) => row[2] === 'Failed')).toBe(true);

    const csv = await porthole(['run', 'top-products', '-c', DEMO, '-p', 'limit=2', '--format', 'csv']);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('product,revenue');
    expect(lines).toHaveLength(3);
  });

  it('streams a command and exits with success', async () => {
    const out = await porthole(['run', 'date-time', '-c', DEMO, '-p', 'zone=Asia/Tokyo']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} JST\n$/);
  });

  it('lists every invalid parameter and runs nothing (exit 2)', async () => {
    const out = await porthole(['run', 'top-products', '-c', DEMO, '-p', 'limit=1e3', '-p', 'extra=1']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('limit: is not a whole number');
    expect(out.stderr).toContain('extra: unknown parameter');
    expect(out.stdout).toBe('');
  });

  it('rejects a malformed -p and an unknown action', async () => {
    expect((await porthole(['run', 'uptime', '-c', DEMO, '-p', 'novalue'])).code).toBe(2);
    const unknown = await porthole(['run', 'nope', '-c', DEMO]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no action "nope"');
    expect(unknown.stderr).toContain('task-status');
  });

  it('records the run in history, with secret parameters masked', async () => {
    const dir = tempDir();
    const file = writeConfig(`actions:
  greet: { command: [echo, "{{token}}"], params: { token: { type: string, secret: true } } }
`, dir);
    const out = await porthole(['run', 'greet', '-c', file, '-p', 'token=hunter2-secret']);
    expect(out.code).toBe(0);
    const db = new Database(path.join(dir, 'data', 'porthole.db'), { readonly: true });
    const rows = db.prepare('SELECT action_id, source, params, outcome FROM runs').all();
    db.close();
    expect(rows).toEqual([{ action_id: 'greet', source: 'cli', params: '{"token":"***"}', outcome: 'succeeded' }]);
  });

  it('exits 1 with the exit code shown when a command fails, and 4 on timeout', async () => {
    const file = writeConfig(`defaults: { killGrace: 200ms }
actions:
  fail: { shell: "echo partial; exit 7" }
  slow: { command: [sleep, "30.123"], timeout: 500ms }
`);
    const failed = await porthole(['run', 'fail', '-c', file]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('partial\n');
    expect(failed.stderr).toContain('exited with code 7');
    const slow = await porthole(['run', 'slow', '-c', file]);
    expect(slow.code).toBe(4);
    expect(slow.stderr).toContain('timed-out');
  });

  it('exits 5 naming an unreachable datasource, without its password', async () => {
    const file = writeConfig(`datasources:
  warehouse: { driver: postgres, host: 127.0.0.1, port: 1, database: d, user: u, password: "\${env:PW}", connectTimeout: 2s }
actions:
  q: { query: { datasource: warehouse, sql: "SELECT 1" } }
`);
    const out = await porthole(['run', 'q', '-c', file], { env: { PW: 'pw-that-must-not-show' } });
    expect(out.code).toBe(5);
    expect(out.stderr).toContain('warehouse');
    expect(out.stdout + out.stderr).not.toContain('pw-that-must-not-show');
  });
});
