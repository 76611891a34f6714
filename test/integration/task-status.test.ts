import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { porthole } from '../helpers/cli.js';
import { requireService } from '../helpers/services.js';
import { SEED_EXAMPLE, setUpSeed } from '../helpers/seed.js';

const available = await requireService('mariadb');
const EXAMPLE = SEED_EXAMPLE;
let password = '';

describe.skipIf(!available)('examples/task-status: the seed on MariaDB', () => {
  beforeAll(async () => {
    password = await setUpSeed();
  });

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
