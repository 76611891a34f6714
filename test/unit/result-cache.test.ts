import { afterEach, describe, expect, it, vi } from 'vitest';

import { parseConfig } from '../../src/config/load.js';
import type { Action } from '../../src/core/action.js';
import { validateParams } from '../../src/core/params.js';
import type { Outcome } from '../../src/core/result.js';
import { ResultCache, cacheKey } from '../../src/core/result-cache.js';
import { Run } from '../../src/core/run.js';
import { textResult } from '../helpers/results.js';

const config = parseConfig(
  [
    'datasources:',
    '  db: { driver: sqlite, path: test.db }',
    'actions:',
    '  uptime:',
    '    command: [uptime]',
    '    safe: true',
    '    cache: 10s',
    '  tasks:',
    '    query: { datasource: db, sql: "SELECT * FROM tasks WHERE status = :status LIMIT :n" }',
    '    cache: 10s',
    '    params:',
    '      status: { type: string }',
    '      n: { type: integer, default: 10 }',
    '',
  ].join('\n'),
  '/nonexistent/porthole.yaml',
  {},
);
const uptime: Action = config.actions.get('uptime')!;
const tasks: Action = config.actions.get('tasks')!;

function newRun(action: Action = uptime, input: Record<string, unknown> = {}): Run {
  return new Run(action, validateParams(action, input), { source: 'cli' });
}

/** Finishes a run and lets the cache see the result. */
async function finish(run: Run, stdout = 'ok', outcome: Outcome = 'succeeded'): Promise<void> {
  run.finish(textResult(run, stdout, outcome));
  await run.result;
  for (let i = 0; i < 3; i++) await Promise.resolve();
}

const BIG = { maxEntries: 100, maxBytes: 1_000_000 };

afterEach(() => {
  vi.useRealTimers();
});

describe('ResultCache: single flight', () => {
  it('an in-flight run is returned to everyone asking for the same key', () => {
    const cache = new ResultCache(BIG);
    const run = newRun();
    const key = cacheKey('uptime', {});
    expect(cache.get(key)).toBeUndefined();
    cache.track(key, run, 10_000);
    expect(cache.get(key)).toBe(run);
    expect(cache.get(key)).toBe(run);
    expect(cache.size).toBe(1);
  });

  it('an in-flight run never expires while it runs', () => {
    const cache = new ResultCache(BIG);
    const run = newRun();
    cache.track('k', run, 10);
    expect(cache.get('k', Date.now() + 1_000_000_000)).toBe(run);
  });

  it('different parameters are different keys', () => {
    const cache = new ResultCache(BIG);
    const open = newRun(tasks, { status: 'open' });
    const done = newRun(tasks, { status: 'done' });
    cache.track(cacheKey('tasks', open.params.values), open, 10_000);
    cache.track(cacheKey('tasks', done.params.values), done, 10_000);
    expect(cache.get(cacheKey('tasks', { status: 'open', n: 10 }))).toBe(open);
    expect(cache.get(cacheKey('tasks', { n: 10, status: 'done' }))).toBe(done);
    expect(cache.get(cacheKey('tasks', { status: 'open', n: 11 }))).toBeUndefined();
  });

  it('tracking a new run for a key replaces the old one, and the old one finishing changes nothing', async () => {
    const cache = new ResultCache(BIG);
    const old = newRun();
    const fresh = newRun();
    cache.track('k', old, 10_000);
    cache.track('k', fresh, 10_000);
    expect(cache.get('k')).toBe(fresh);
    await finish(old, 'old', 'failed');
    expect(cache.get('k')).toBe(fresh);
    await finish(fresh, 'fresh');
    expect(cache.get('k')).toBe(fresh);
  });
});

describe('ResultCache: TTL', () => {
  it('a successful result is reused until its TTL has passed, counted from when it finished', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2024-01-01T00:00:00Z'));
    const cache = new ResultCache(BIG);
    const run = newRun();
    cache.track('k', run, 10_000);
    vi.setSystemTime(new Date('2024-01-01T00:00:05Z'));
    await finish(run);
    const finishedAt = Date.now();
    expect(cache.get('k', finishedAt + 9_999)).toBe(run);
    expect(cache.get('k', finishedAt + 10_000)).toBeUndefined();
    // Once expired it is gone for good.
    expect(cache.get('k', finishedAt)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it.each<Outcome>(['failed', 'timed-out', 'cancelled', 'unavailable'])('a %s result is not kept', async (outcome) => {
    const cache = new ResultCache(BIG);
    const run = newRun();
    cache.track('k', run, 10_000);
    expect(cache.get('k')).toBe(run);
    await finish(run, 'boom', outcome);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe('ResultCache: bounds', () => {
  it('keeps at most maxEntries finished results, evicting the least recently used', async () => {
    const cache = new ResultCache({ maxEntries: 2, maxBytes: 1_000_000 });
    const [a, b, c] = [newRun(), newRun(), newRun()];
    cache.track('a', a, 60_000);
    await finish(a);
    cache.track('b', b, 60_000);
    await finish(b);
    expect(cache.get('a')).toBe(a); // a is now the most recently used
    cache.track('c', c, 60_000);
    await finish(c);
    expect(cache.size).toBe(2);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(a);
    expect(cache.get('c')).toBe(c);
  });

  it('keeps at most maxBytes of output, evicting the least recently used', async () => {
    const cache = new ResultCache({ maxEntries: 100, maxBytes: 10 });
    const [a, b, c] = [newRun(), newRun(), newRun()];
    cache.track('a', a, 60_000);
    await finish(a, '1234');
    cache.track('b', b, 60_000);
    await finish(b, '5678');
    expect(cache.size).toBe(2);
    cache.track('c', c, 60_000);
    await finish(c, 'abcd'); // 12 bytes > 10: a, the oldest, goes
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(b);
    expect(cache.get('c')).toBe(c);
  });

  it('a single result larger than maxBytes is not kept', async () => {
    const cache = new ResultCache({ maxEntries: 100, maxBytes: 10 });
    const run = newRun();
    cache.track('k', run, 60_000);
    await finish(run, 'x'.repeat(11));
    expect(cache.get('k')).toBeUndefined();
  });

  it('byte accounting forgets expired and replaced entries', async () => {
    const cache = new ResultCache({ maxEntries: 100, maxBytes: 10 });
    const a = newRun();
    cache.track('a', a, 1);
    await finish(a, '123456789');
    expect(cache.get('a', Date.now() + 1000)).toBeUndefined();
    // With a's 9 bytes forgotten, two 5-byte results fit.
    const [b, c] = [newRun(), newRun()];
    cache.track('b', b, 60_000);
    await finish(b, '12345');
    cache.track('c', c, 60_000);
    await finish(c, '12345');
    expect(cache.get('b')).toBe(b);
    expect(cache.get('c')).toBe(c);
  });

  it('in-flight runs are never evicted, even beyond the bounds', async () => {
    const cache = new ResultCache({ maxEntries: 1, maxBytes: 1_000_000 });
    const flying = newRun();
    cache.track('flying', flying, 60_000);
    const done = newRun();
    cache.track('done', done, 60_000);
    await finish(done);
    expect(cache.get('flying')).toBe(flying);
  });
});

describe('cacheKey', () => {
  it.each([
    [{ a: 1, b: 'x' }, { b: 'x', a: 1 }],
    [{ z: null, a: true, m: 2.5 }, { m: 2.5, a: true, z: null }],
    [{}, {}],
  ])('does not depend on the order of the parameters: %j', (one, other) => {
    expect(cacheKey('act', one)).toBe(cacheKey('act', other));
  });

  it.each([
    [['act', { a: 1 }], ['act', { a: '1' }]],
    [['act', { a: 1 }], ['other', { a: 1 }]],
    [['act', { a: null }], ['act', {}]],
    [['act', { a: 'x', b: 'y' }], ['act', { a: 'x,b', b: 'y' }]],
    [['act', { a: true }], ['act', { a: 'true' }]],
    [['a', { b: 1 }], ['a\u0000', { b: 1 }]],
  ] as const)('tells apart %j and %j', ([idA, valuesA], [idB, valuesB]) => {
    expect(cacheKey(idA, valuesA)).not.toBe(cacheKey(idB, valuesB));
  });

  it('a value cannot forge another parameter set', () => {
    expect(cacheKey('act', { a: '","b":"y' })).not.toBe(cacheKey('act', { a: '', b: 'y' }));
    expect(cacheKey('act', { a: '1"],["b",2' })).not.toBe(cacheKey('act', { a: '1', b: 2 }));
  });
});
