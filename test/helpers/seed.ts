import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { ROOT } from './cli.js';

/** The seed example's folder: examples/task-status. */
export const SEED_EXAMPLE = path.join(ROOT, 'examples/task-status');

/**
 * Sets up the seed's database and user on the machine's MariaDB exactly as
 * examples/task-status/README.md says, with a fresh password, and returns that password.
 */
export async function setUpSeed(): Promise<string> {
  const password = `flask-${randomBytes(6).toString('hex')}`;
  const admin = await mysql.createConnection({ host: '127.0.0.1', user: 'root', multipleStatements: true });
  try {
    await admin.query(readFileSync(path.join(SEED_EXAMPLE, 'schema.sql'), 'utf8'));
    for (const host of ['localhost', '127.0.0.1']) {
      await admin.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', ['flaskuser', host, password]);
      await admin.query('ALTER USER ?@? IDENTIFIED BY ?', ['flaskuser', host, password]);
      await admin.query('GRANT SELECT ON flasktest.* TO ?@?', ['flaskuser', host]);
    }
  } finally {
    await admin.end();
  }
  return password;
}
