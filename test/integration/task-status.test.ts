import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, porthole } from '../helpers/cli.js';
import { requireService } from '../helpers/services.js';

const available = await requireService('mariadb');
const EXAMPLE = path.join(ROOT, 'examples/task-status');
const password = `flask-${randomBytes(6).toString('hex')}`;

/** Sets up the seed's database and user exactly as examples/task-status/README.md says. */
async function setUpSeed(): Promise<void> {
  const admin = await mysql.createConnection({ host: '127.0.0.1', user: 'root', multipleStatements: true });
  try {
    await admin.query(readFileSync(path.join(EXAMPLE, 'schema.sql'), 'utf8'));
    for (const host of ['localhost', '127.0.0.1']) {
      await admin.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', ['flaskuser', host, password]);
      await admin.query('ALTER USER ?@? IDENTIFIED BY ?', ['flaskuser', host, password]);
      await admin.query('GRANT SELECT ON flasktest.* TO ?@?', ['flaskuser', host]);
    }
  } finally {
    await admin.end();
  }
}

describe.skipIf(!available)('examples/task-status: the seed on MariaDB', () => {
  beforeAll(setUpSeed);

  it('check accepts the example without printing the password', async () => {
    const out = await porthole(['check', '-c', path.join(EXAMPLE, 'porthole.yaml')], { env: { TASKS_DB_PASSWORD: password } });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('task-status [query, safe] at /status/');
    expect(out.stdout + out.stderr).not.toContain(password);
  });

  it('refuses to load without the password variable', async () => {
    const out = await porthole(['check', '-c', path.join(EXAMPLE, 'porthole.yaml')]);
    expect(out.code).toBe(3);
    expect(out.stderr).toContain('TASKS_DB_PASSWORD is not set');
  });

  it('counts tasks by status: Success 1, Pending 1, Failed 1', async () => {
    const out = await porthole(['run', 'task-status', '-c', path.join(EXAMPLE, 'porthole.yaml'), '--format', 'json'], {
      env: { TASKS_DB_PASSWORD: password },
    });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as { rows: unknown[][]; columns: { name: string; type: string }[] };
    expect(result.columns.map((c) => c.name)).toEqual(['status', 'tasks']);
    expect(result.rows).toEqual([['Success', 1], ['Pending', 1], ['Failed', 1]]);
  });

  it('prints the same as a table for people', async () => {
    const out = await porthole(['run', 'task-status', '-c', path.join(EXAMPLE, 'porthole.yaml')], { env: { TASKS_DB_PASSWORD: password } });
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(
      ['+---------+-------+', '| status  | tasks |', '+---------+-------+', '| Success |     1 |', '| Pending |     1 |', '| Failed  |     1 |', '+---------+-------+', ''].join('\n'),
    );
  });

  it('a wrong password is a clear error naming the datasource, not the password', async () => {
    const out = await porthole(['run', 'task-status', '-c', path.join(EXAMPLE, 'porthole.yaml')], { env: { TASKS_DB_PASSWORD: 'wrong-password-123' } });
    expect(out.code).toBe(5);
    expect(out.stderr).toContain('"tasks"');
    expect(out.stderr).not.toContain('wrong-password-123');
  });
});
