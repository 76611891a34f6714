import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WriteBatch } from '../../src/store/write-batch.js';

const WINDOW_MS = 5;
const turn = () => new Promise((resolve) => setImmediate(resolve));
const windowPassed = () => new Promise((resolve) => setTimeout(resolve, WINDOW_MS * 4));

describe('WriteBatch', () => {
  let db: Database.Database;
  let errors: unknown[];
  let batch: WriteBatch;
  const insert = (n: number) => () => db.prepare('INSERT INTO t (n) VALUES (?)').run(n);
  const count = () => (db.prepare('SELECT COUNT(*) AS c FROM t').get() as { c: number }).c;

  beforeEach(() => {
    db = new Database(':memory:');
    db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
    errors = [];
    batch = new WriteBatch(db, (error) => errors.push(error), WINDOW_MS);
  });
  afterEach(() => db.close());

  it('holds writes until the window ends, across turns, then commits them together', async () => {
    // Each call of the batch's transaction function is one commit.
    let commits = 0;
    const wrapped = db.transaction.bind(db);
    db.transaction = ((fn: (...args: unknown[]) => void) => {
      const transaction = wrapped(fn);
      return (...args: unknown[]) => {
        commits += 1;
        return transaction(...args);
      };
    }) as unknown as typeof db.transaction;
    batch = new WriteBatch(db, (error) => errors.push(error), WINDOW_MS);
    batch.write(insert(1));
    batch.write(insert(2));
    batch.write(insert(3));
    expect(count()).toBe(0);
    await turn();
    batch.write(insert(4));
    expect(count()).toBe(0);
    await windowPassed();
    expect(count()).toBe(4);
    expect(commits).toBe(1);
    expect(errors).toEqual([]);
  });

  it('commits at once when flushed, so a read sees every write before it', () => {
    batch.write(insert(1));
    batch.flush();
    expect(count()).toBe(1);
    batch.flush();
    expect(count()).toBe(1);
  });

  it('keeps the good writes of a batch in which one fails, and reports the failure', async () => {
    batch.write(insert(1));
    batch.write(insert(1));
    batch.write(insert(2));
    await windowPassed();
    expect(count()).toBe(2);
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/UNIQUE/);
  });

  it('starts a new batch after a flush', async () => {
    batch.write(insert(1));
    await windowPassed();
    batch.write(insert(2));
    expect(count()).toBe(1);
    await windowPassed();
    expect(count()).toBe(2);
  });
});
