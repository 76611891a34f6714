import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FastifyReply } from 'fastify';
import { EventEmitter } from 'node:events';
import { debounce } from '../../src/config/debounce.js';
import { keepRestartOnly } from '../../src/config/restart-only.js';
import { Generations, buildGeneration } from '../../src/http/generation.js';
import { Leases } from '../../src/http/leases.js';
import type { Store } from '../../src/store/open.js';
import { configFrom, tempDir } from '../helpers/config.js';

const BASE = `
listen: 127.0.0.1:8080
actions:
  hello: { command: [echo, hi], path: /hello/ }
`;

describe('debounce', () => {
  afterEach(() => vi.useRealTimers());

  it('calls once, after the last call of a burst has been quiet for the wait', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const d = debounce(fn, 300);
    d.call();
    vi.advanceTimersByTime(200);
    d.call();
    vi.advanceTimersByTime(200);
    d.call();
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(300);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('calls nothing once cancelled', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const d = debounce(fn, 300);
    d.call();
    d.cancel();
    vi.advanceTimersByTime(1000);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('leases', () => {
  it('drains at once when nothing is held', async () => {
    await expect(new Leases().drained()).resolves.toBeUndefined();
  });

  it('drains when the last lease goes, however often a release is called', async () => {
    const leases = new Leases();
    const first = leases.acquire();
    let settle!: () => void;
    leases.holdUntil(new Promise<void>((resolve) => (settle = resolve)));
    let drained = false;
    void leases.drained().then(() => (drained = true));
    first();
    first();
    await Promise.resolve();
    expect(drained).toBe(false);
    settle();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(drained).toBe(true);
  });
});

describe('generations', () => {
  const store = {} as Store;
  const reply = () => {
    const raw = new EventEmitter();
    return { reply: { raw } as unknown as FastifyReply, close: () => raw.emit('close') };
  };

  it('serves new requests from the new generation at once, and closes the old datasources only when its requests end', async () => {
    const old = buildGeneration(configFrom(BASE), store);
    const next = buildGeneration(configFrom(BASE.replace('/hello/', '/hi/')), store);
    const closeOld = vi.spyOn(old.datasources, 'closeAll');
    const generations = new Generations(old);

    const inFlight = reply();
    expect(generations.enter(inFlight.reply)).toBe(old);
    generations.replace(next, (error) => expect.fail(String(error)));
    expect(generations.enter(reply().reply)).toBe(next);
    expect(generations.current.aliases.has('/hi')).toBe(true);
    expect(generations.current.aliases.has('/hello')).toBe(false);

    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closeOld).not.toHaveBeenCalled();
    inFlight.close();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closeOld).toHaveBeenCalledTimes(1);
  });

  it('refuses a replacement once closing has begun: nothing would ever close it', async () => {
    const old = buildGeneration(configFrom(BASE), store);
    const generations = new Generations(old);
    const closing = generations.close();
    expect(generations.replace(buildGeneration(configFrom(BASE), store), (error) => expect.fail(String(error)))).toBe(false);
    expect(generations.current).toBe(old);
    await closing;
  });

  it('lists an action path with and without its trailing slash and with every format suffix', () => {
    const { aliases } = buildGeneration(configFrom(BASE), store);
    expect([...aliases.keys()].sort()).toEqual(['/hello', '/hello.csv', '/hello.html', '/hello.json', '/hello.txt']);
    expect(aliases.get('/hello.csv')?.format).toBe('csv');
    expect(aliases.get('/hello')?.format).toBeUndefined();
  });
});

describe('settings that need a restart', () => {
  it('keeps them as they were and names each one that changed', () => {
    const running = configFrom(BASE);
    const changed = configFrom(`
listen: 127.0.0.1:9090
dataDir: elsewhere
server: { bodyLimit: 1MiB, maxParams: 10 }
history: { maxRuns: 5 }
limits: { concurrency: 2 }
actions:
  other: { command: [echo, other] }
`);
    const { config, kept } = keepRestartOnly(running, changed);
    expect(kept.sort()).toEqual(['dataDir', 'history', 'listen', 'server.bodyLimit']);
    expect(config.listen).toEqual(running.listen);
    expect(config.dataDir).toBe(running.dataDir);
    expect(config.history).toEqual(running.history);
    expect(config.server.bodyLimit).toBe(running.server.bodyLimit);
    // Everything else is the new file's.
    expect(config.server.maxParams).toBe(10);
    expect(config.limits.concurrency).toBe(2);
    expect([...config.actions.keys()]).toEqual(['other']);
  });

  it('says nothing when only reloadable settings changed', () => {
    const dir = tempDir();
    const { kept } = keepRestartOnly(configFrom(BASE, { dir }), configFrom(`${BASE}\nnetwork: { allow: [10.0.0.0/8] }\n`, { dir }));
    expect(kept).toEqual([]);
  });
});
