import type Database from 'better-sqlite3';

/** How the store writes: at once, or gathered and committed together. */
export interface StoreWriter {
  write(change: () => void): void;
  /** Commits whatever is waiting, before a read or on close. */
  flush(): void;
}

/** Writes at once; an error is thrown to the caller. For tools that write once and exit. */
export const immediateWriter: StoreWriter = {
  write: (change) => change(),
  flush: () => undefined,
};

/** How long a batch gathers writes before it is committed. */
const BATCH_WINDOW_MS = 20;

/**
 * Writes made within a short window, committed in one transaction at its end. A commit per
 * record (a run's start, its end, its audit line) was the largest cost of a fast uncached
 * request, and one per event-loop turn still a third of it: under load a turn holds only a
 * few requests. A 20 ms window took uncached /status/ from about 6,000 to 9,000 requests/s.
 * Reads flush first, so a record is visible as soon as it is written; closing flushes too, so
 * what a crash (not a shutdown) can lose is at most one window's records.
 */
export class WriteBatch implements StoreWriter {
  private pending: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Made once: better-sqlite3 builds a new wrapper, properties and all, for each transaction() call. */
  private readonly commit: (changes: (() => void)[]) => void;

  constructor(
    db: Database.Database,
    private readonly onError: (error: unknown) => void,
    private readonly windowMs = BATCH_WINDOW_MS,
  ) {
    this.commit = db.transaction((changes: (() => void)[]) => {
      for (const change of changes) change();
    });
  }

  write(change: () => void): void {
    this.pending.push(change);
    if (this.timer) return;
    // Unref'd: waiting writes never hold a process open; close() flushes them.
    this.timer = setTimeout(() => this.flush(), this.windowMs).unref();
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const changes = this.pending;
    if (changes.length === 0) return;
    this.pending = [];
    try {
      this.commit(changes);
    } catch {
      // One bad record must not take the others with it: retry each on its own.
      for (const change of changes) {
        try {
          change();
        } catch (error) {
          this.onError(error);
        }
      }
    }
  }
}
