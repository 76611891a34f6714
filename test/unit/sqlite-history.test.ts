import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Action } from '../../src/core/action.js';
import { validateParams } from '../../src/core/params.js';
import { Run } from '../../src/core/run.js';
import { SqliteHistory } from '../../src/store/sqlite-history.js';
import { WriteBatch } from '../../src/store/write-batch.js';
import { textResult } from '../helpers/results.js';

const config = parseConfig('actions:\n  uptime: { command: [uptime] }\n', '/nonexistent/porthole.yaml', {});
const uptime: Action = config.actions.get('uptime')!;
const WINDOW_MS = 5;
const windowPassed = () => new Promise((resolve) => setTimeout(resolve, WINDOW_MS * 4));

const result = (run: Run, stdout: string) => textResult(run, stdout, 'succeeded', { durationMs: 3 });

describe('SqliteHistory through a write batch', () => {
  let db: Database.Database;
  let history: SqliteHistory;
  let statements: string[];
  let errors: unknown[];

  beforeEach(() => {
    db = new Database(':memory:');
    errors = [];
    statements = [];
    // Which kind of write reached the database, in order (the history prepares its statements up front).
    const trace = db.prepare.bind(db);
    db.prepare = ((sql: string) => {
      const statement = trace(sql);
      const run = statement.run.bind(statement);
      statement.run = ((...args: unknown[]) => (statements.push(sql.trim().split(/\s+/)[0]!), run(...args)));
      return statement;
    }) as typeof db.prepare;
    history = new SqliteHistory(db, { maxRuns: 100, maxAgeMs: 86_400_000, maxOutputBytes: 1024 }, new WriteBatch(db, (e) => errors.push(e), WINDOW_MS));
    statements = [];
  });
  afterEach(() => db.close());

  it('writes a run that finishes within the window once, already finished', async () => {
    const run = new Run(uptime, validateParams(uptime, {}), { source: 'http', clientIp: '127.0.0.1' });
    await history.recordCreated(run, {});
    await history.recordFinished(run, result(run, 'up 3 days'));
    await windowPassed();
    expect(statements).toEqual(['INSERT']);
    const record = await history.get(run.id);
    expect(record).toMatchObject({ id: run.id, status: 'finished', outcome: 'succeeded', clientIp: '127.0.0.1', exitCode: 0, durationMs: 3 });
    expect(record?.result).toMatchObject({ stdout: 'up 3 days' });
    expect(errors).toEqual([]);
  });

  it('inserts a run queued, then updates it when it finishes after the window', async () => {
    const run = new Run(uptime, validateParams(uptime, {}), { source: 'cli' });
    await history.recordCreated(run, {});
    await windowPassed();
    expect((await history.get(run.id))?.status).toBe('queued');
    await history.recordFinished(run, result(run, 'later'));
    await windowPassed();
    expect(statements).toEqual(['INSERT', 'UPDATE']);
    expect(await history.get(run.id)).toMatchObject({ status: 'finished', outcome: 'succeeded', result: { stdout: 'later' } });
  });

  it('shows a run to a read at once, before the window ends', async () => {
    const run = new Run(uptime, validateParams(uptime, {}), { source: 'cli' });
    await history.recordCreated(run, {});
    await history.recordFinished(run, result(run, 'now'));
    expect(await history.list('uptime', { limit: 10 })).toMatchObject([{ id: run.id, status: 'finished' }]);
  });
});

describe('SqliteHistory kept to history.maxRuns', () => {
  it('trims the oldest finished runs as runs are recorded, without waiting for a prune', async () => {
    const db = new Database(':memory:');
    try {
      const history = new SqliteHistory(db, { maxRuns: 150, maxAgeMs: 86_400_000, maxOutputBytes: 1024 });
      const runs: Run[] = [];
      for (let i = 0; i < 400; i++) {
        const run = new Run(uptime, validateParams(uptime, {}), { source: 'cli' });
        // Distinct, increasing queue times, as a busy server's would be.
        Object.defineProperty(run, 'queuedAt', { value: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)) });
        await history.recordCreated(run, {});
        await history.recordFinished(run, result(run, String(i)));
        runs.push(run);
      }
      const count = () => (db.prepare('SELECT COUNT(*) AS c FROM runs').get() as { c: number }).c;
      // Trimmed every 100 runs (a tenth of maxRuns, at least 100): never far above the limit.
      expect(count()).toBeLessThanOrEqual(150 + 100);
      expect(count()).toBeGreaterThanOrEqual(150);
      expect(await history.get(runs.at(-1)!.id)).toBeDefined();
      expect(await history.get(runs[0]!.id)).toBeUndefined();
    } finally {
      db.close();
    }
  });
});
