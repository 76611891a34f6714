import { describe, expect, it } from 'vitest';

import { PortholeError } from '../../src/core/errors.js';
import { Limiter, type Release } from '../../src/core/limiter.js';

/** Lets pending promise callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** Tracks an acquire: whether it has been granted or refused yet. */
function track(promise: Promise<Release>) {
  const state: { release?: Release; error?: unknown } = {};
  promise.then(
    (release) => (state.release = release),
    (error: unknown) => (state.error = error),
  );
  return state;
}

function codeOf(error: unknown): string | undefined {
  return error instanceof PortholeError ? error.code : undefined;
}

describe('Limiter', () => {
  it.each([
    { global: 1, perKey: 5, keys: ['a', 'a', 'b'], started: 1 },
    { global: 2, perKey: 5, keys: ['a', 'b', 'c'], started: 2 },
    { global: 5, perKey: 1, keys: ['a', 'a', 'a'], started: 1 },
    { global: 5, perKey: 2, keys: ['a', 'a', 'a', 'b', 'b', 'b'], started: 4 },
    { global: 3, perKey: 2, keys: ['a', 'a', 'b', 'b'], started: 3 },
  ])('global $global, per key $perKey: of $keys, $started start at once', async ({ global, perKey, keys, started }) => {
    const limiter = new Limiter(global, 10);
    const states = keys.map((key) => track(limiter.acquire(key, perKey)));
    await settle();
    expect(states.filter((s) => s.release).length).toBe(started);
    expect(limiter.active).toBe(started);
    expect(limiter.queued).toBe(keys.length - started);
  });

  it('grants waiting runs in FIFO order', async () => {
    const limiter = new Limiter(1, 10);
    const order: string[] = [];
    const first = await limiter.acquire('k', 10);
    const waiting = ['w1', 'w2', 'w3'].map((name) =>
      limiter.acquire('k', 10).then((release) => {
        order.push(name);
        return release;
      }),
    );
    await settle();
    expect(order).toEqual([]);
    first();
    (await waiting[0]!)();
    (await waiting[1]!)();
    (await waiting[2]!)();
    expect(order).toEqual(['w1', 'w2', 'w3']);
    expect(limiter.active).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it('a key at its own limit does not hold up other keys waiting behind it', async () => {
    const limiter = new Limiter(2, 10);
    const holdA = await limiter.acquire('a', 1);
    const blockedA = track(limiter.acquire('a', 1));
    const otherB = track(limiter.acquire('b', 1));
    await settle();
    // "b" has room both globally and for its key: it starts even though "a" waits ahead of it.
    expect(otherB.release).toBeDefined();
    expect(blockedA.release).toBeUndefined();
    holdA();
    await settle();
    expect(blockedA.release).toBeDefined();
  });

  it('when a slot frees, the earliest waiter that fits goes first, skipping blocked keys', async () => {
    const limiter = new Limiter(2, 10);
    const a1 = await limiter.acquire('a', 1);
    const b1 = await limiter.acquire('b', 5);
    const a2 = track(limiter.acquire('a', 1)); // blocked by a's limit even when a global slot frees
    const c1 = track(limiter.acquire('c', 1));
    await settle();
    expect(limiter.queued).toBe(2);
    b1();
    await settle();
    expect(a2.release).toBeUndefined();
    expect(c1.release).toBeDefined();
    a1();
    await settle();
    expect(a2.release).toBeDefined();
  });

  it('beyond the queue bound a run is refused as BUSY', async () => {
    const limiter = new Limiter(1, 2);
    await limiter.acquire('k', 5);
    const queued = [track(limiter.acquire('k', 5)), track(limiter.acquire('k', 5))];
    expect(limiter.queued).toBe(2);
    expect(() => limiter.reserve('k', 5)).toThrow(PortholeError);
    let error: unknown;
    try {
      await limiter.acquire('k', 5);
    } catch (e) {
      error = e;
    }
    expect(codeOf(error)).toBe('BUSY');
    expect((error as PortholeError).statusCode).toBe(429);
    expect((error as Error).message).toMatch(/too many runs: 1 running and 2 waiting/);
    expect(limiter.queued).toBe(2);
    await settle();
    expect(queued.every((s) => s.error === undefined)).toBe(true);
  });

  it('acquire reports BUSY as a rejected promise, not a synchronous throw', async () => {
    const limiter = new Limiter(1, 0);
    await limiter.acquire('k', 1);
    let promise: Promise<Release> | undefined;
    expect(() => {
      promise = limiter.acquire('k', 1);
    }).not.toThrow();
    await expect(promise).rejects.toMatchObject({ code: 'BUSY' });
  });

  it('reserve does not throw while there is room, or while the queue has space', async () => {
    const limiter = new Limiter(1, 1);
    expect(() => limiter.reserve('k', 1)).not.toThrow();
    await limiter.acquire('k', 1);
    expect(() => limiter.reserve('k', 1)).not.toThrow();
  });

  it('a queue bound of 0 refuses anything that cannot start at once', async () => {
    const limiter = new Limiter(1, 0);
    const release = await limiter.acquire('k', 1);
    expect(() => limiter.reserve('other', 1)).toThrow(/too many runs/);
    release();
    expect(() => limiter.reserve('other', 1)).not.toThrow();
  });

  it('aborting a waiting acquire removes it from the queue and rejects with CANCELLED', async () => {
    const limiter = new Limiter(1, 5);
    const release = await limiter.acquire('k', 5);
    const controller = new AbortController();
    const aborted = track(limiter.acquire('k', 5, controller.signal));
    const next = track(limiter.acquire('k', 5));
    expect(limiter.queued).toBe(2);
    controller.abort();
    await settle();
    expect(codeOf(aborted.error)).toBe('CANCELLED');
    expect(limiter.queued).toBe(1);
    release();
    await settle();
    // The aborted waiter never takes the slot: the next one does.
    expect(aborted.release).toBeUndefined();
    expect(next.release).toBeDefined();
    expect(limiter.active).toBe(1);
  });

  it('an already aborted signal is refused at once without taking a slot', async () => {
    const limiter = new Limiter(1, 5);
    const controller = new AbortController();
    controller.abort();
    await expect(limiter.acquire('k', 1, controller.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(limiter.active).toBe(0);
    expect(limiter.queued).toBe(0);
  });

  it('aborting after the slot was granted changes nothing', async () => {
    const limiter = new Limiter(1, 5);
    const controller = new AbortController();
    const release = await limiter.acquire('k', 1, controller.signal);
    controller.abort();
    expect(limiter.active).toBe(1);
    release();
    expect(limiter.active).toBe(0);
  });

  it('drain rejects every waiting run with the given error and empties the queue', async () => {
    const limiter = new Limiter(1, 5);
    const release = await limiter.acquire('k', 5);
    const waiting = [track(limiter.acquire('k', 5)), track(limiter.acquire('x', 5)), track(limiter.acquire('y', 1))];
    const shutdown = new PortholeError('SHUTTING_DOWN', 'the server is shutting down');
    limiter.drain(shutdown);
    await settle();
    expect(waiting.map((s) => s.error)).toEqual([shutdown, shutdown, shutdown]);
    expect(limiter.queued).toBe(0);
    // The running one keeps its slot until it releases it.
    expect(limiter.active).toBe(1);
    release();
    expect(limiter.active).toBe(0);
  });

  it('release is idempotent: a second call frees nothing more', async () => {
    const limiter = new Limiter(2, 5);
    const first = await limiter.acquire('k', 1);
    const other = await limiter.acquire('j', 1);
    const waiting = track(limiter.acquire('k', 1));
    first();
    first();
    first();
    await settle();
    expect(waiting.release).toBeDefined();
    expect(limiter.active).toBe(2);
    // The double release must not have let a third run past the global limit of 2.
    const third = track(limiter.acquire('m', 1));
    await settle();
    expect(third.release).toBeUndefined();
    other();
    await settle();
    expect(third.release).toBeDefined();
  });

  it('frees per-key slots so a key can run again', async () => {
    const limiter = new Limiter(10, 5);
    for (let i = 0; i < 20; i++) {
      const release = await limiter.acquire('k', 1);
      release();
    }
    expect(limiter.active).toBe(0);
  });
});
