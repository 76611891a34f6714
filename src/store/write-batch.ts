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

/**
 * Writes made during one turn of the event loop, committed in one transaction at the end of
 * it. A commit per record (a run's start, its end, its audit line) was the largest cost of a
 * fast uncached request; one per turn is a fraction of it. Reads flush first, so a record is
 * visible as soon as it is written; what a crash can lose is at most one turn's records.
 */
export class WriteBatch implements StoreWriter {
  private pending: (() => void)[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Database.Database,
    private readonly onError: (error: unknown) => void,
  ) {}

  write(change: () => void): void {
    this.pending.push(change);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    const changes = this.pending;
    if (changes.length === 0) return;
    this.pending = [];
    try {
      this.db.transaction(() => {
        for (const change of changes) change();
      })();
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
