import type { Run } from './run.js';
import type { RunResult } from './result.js';

interface Entry {
  run: Run;
  /** Infinity while the run is still in flight. */
  expiresAt: number;
  bytes: number;
}

export interface CacheLimits {
  maxEntries: number;
  maxBytes: number;
}

/**
 * Shared results for cached actions: an in-flight run is shared by everyone asking for
 * the same action and parameters (single flight), and a successful result is reused until
 * its TTL passes. Bounded in entries and bytes; the least recently used goes first.
 */
export class ResultCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(private readonly limits: CacheLimits) {}

  get(key: string, now = Date.now()): Run | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.run;
  }

  /** Registers an in-flight run; it is kept after finishing only if it succeeded. */
  track(key: string, run: Run, ttlMs: number): void {
    this.delete(key);
    this.entries.set(key, { run, expiresAt: Infinity, bytes: 0 });
    void run.result.then((result) => {
      const entry = this.entries.get(key);
      if (entry?.run !== run) return;
      if (result.outcome !== 'succeeded') {
        this.delete(key);
        return;
      }
      entry.expiresAt = Date.now() + ttlMs;
      entry.bytes = sizeOf(result);
      this.bytes += entry.bytes;
      this.evict();
    });
  }

  get size(): number {
    return this.entries.size;
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.bytes -= entry.bytes;
    this.entries.delete(key);
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) return;
      // In-flight runs are still being shared; only finished ones can go.
      if (entry.expiresAt !== Infinity) this.delete(key);
    }
  }
}

export function cacheKey(actionId: string, values: Readonly<Record<string, unknown>>): string {
  const sorted = Object.keys(values).sort().map((k) => [k, values[k]]);
  return `${actionId}\u0000${JSON.stringify(sorted)}`;
}

/** Approximate memory held by a result: the text it carries. */
function sizeOf(result: RunResult): number {
  if (result.kind === 'text') return result.stdout.length + result.stderr.length;
  return JSON.stringify(result.rows).length + JSON.stringify(result.columns).length;
}
