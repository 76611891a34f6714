import { PortholeError } from './errors.js';

interface Waiter {
  key: string;
  limit: number;
  grant: () => void;
  fail: (error: unknown) => void;
}

export type Release = () => void;

/**
 * Concurrency slots: a global limit and a per-key (per-action) limit. Runs beyond the
 * limits wait in one bounded FIFO queue; beyond the queue they are refused as busy.
 */
export class Limiter {
  private running = 0;
  private readonly perKey = new Map<string, number>();
  private readonly waiting: Waiter[] = [];

  constructor(
    private globalLimit: number,
    private queueLimit: number,
  ) {}

  /** New limits (a config reload); runs holding a slot keep it, and waiters go if there is room now. */
  setLimits(globalLimit: number, queueLimit: number): void {
    this.globalLimit = globalLimit;
    this.queueLimit = queueLimit;
    this.dispatch();
  }

  get queued(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /** Throws BUSY at once when the run could neither start nor queue. */
  reserve(key: string, limit: number): void {
    if (!this.hasRoom(key, limit) && this.waiting.length >= this.queueLimit) {
      throw new PortholeError('BUSY', `too many runs: ${this.running} running and ${this.waiting.length} waiting; try again shortly`);
    }
  }

  /** Resolves with a release function once a slot is free; an aborted wait leaves the queue. */
  async acquire(key: string, limit: number, signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) throw new PortholeError('CANCELLED', 'cancelled while waiting for a slot');
    // Every release dispatches what fits, so anyone still waiting is blocked on its own key:
    // a run with room may go ahead of them.
    if (this.hasRoom(key, limit)) return this.take(key);
    this.reserve(key, limit);
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        key,
        limit,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.take(key));
        },
        fail: reject,
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(new PortholeError('CANCELLED', 'cancelled while waiting for a slot'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Refuses every waiting run, e.g. when the server shuts down. */
  drain(error: unknown): void {
    for (const waiter of this.waiting.splice(0)) waiter.fail(error);
  }

  private hasRoom(key: string, limit: number): boolean {
    return this.running < this.globalLimit && (this.perKey.get(key) ?? 0) < limit;
  }

  private take(key: string): Release {
    this.running++;
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const left = (this.perKey.get(key) ?? 1) - 1;
      if (left === 0) this.perKey.delete(key);
      else this.perKey.set(key, left);
      this.dispatch();
    };
  }

  // Earliest waiter that fits goes first; one blocked action does not hold up the others.
  private dispatch(): void {
    for (let i = 0; i < this.waiting.length && this.running < this.globalLimit; ) {
      const waiter = this.waiting[i]!;
      if (this.hasRoom(waiter.key, waiter.limit)) {
        this.waiting.splice(i, 1);
        waiter.grant();
      } else {
        i++;
      }
    }
  }
}
