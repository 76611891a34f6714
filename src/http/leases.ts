/**
 * Counts the users of something that must stay open while anyone still uses it, even after
 * it has been replaced: `drained()` resolves once the last lease is released.
 */
export class Leases {
  private held = 0;
  private waiters: (() => void)[] = [];

  /** Takes a lease; the returned function releases it (once, however often it is called). */
  acquire(): () => void {
    this.held++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held--;
      if (this.held === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Holds a lease until `settled` settles. */
  holdUntil(settled: Promise<unknown>): void {
    const release = this.acquire();
    void settled.then(release, release);
  }

  /** Resolves when no lease is held (at once if none is). */
  drained(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
