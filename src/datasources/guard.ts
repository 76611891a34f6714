import type { PortholeError } from '../core/errors.js';
import { cancelledError, timeoutError } from './errors.js';

/** How much longer than the server-side statement timeout the client waits before stepping in. */
export const BACKSTOP_MS = 1000;
/** The stop action (e.g. a KILL on a fresh connection) may not hold up the caller longer than this. */
const STOP_ACTION_LIMIT_MS = 3000;

/**
 * The client-side backstop for one query. When the deadline passes or the signal aborts,
 * it runs the driver's stop action (which stops the statement on the server) and only
 * then rejects, so a caller that sees TIMEOUT/CANCELLED knows the server has let go.
 */
export class QueryGuard {
  reason: 'timeout' | 'cancelled' | undefined;
  private readonly stopped: Promise<never>;
  private reject: (error: PortholeError) => void = () => undefined;
  private stopAction: (() => Promise<void>) | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => void this.fire('cancelled');

  constructor(
    private readonly datasource: string,
    private readonly timeoutMs: number,
    backstopMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.stopped = new Promise<never>((_, reject) => {
      this.reject = reject;
    });
    // Handled by run(); this only keeps a guard that fires before run() from warning.
    this.stopped.catch(() => undefined);
    this.timer = setTimeout(() => void this.fire('timeout'), timeoutMs + backstopMs);
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (signal?.aborted) void this.fire('cancelled');
  }

  /** What to do to stop the statement on the server; replaces any earlier action. */
  onStop(action: () => Promise<void>): void {
    this.stopAction = action;
  }

  error(): PortholeError {
    return this.reason === 'cancelled' ? cancelledError(this.datasource) : timeoutError(this.datasource, this.timeoutMs);
  }

  /** The work's outcome, or TIMEOUT/CANCELLED if the guard fires first. */
  async run<T>(work: Promise<T>): Promise<T> {
    // Stopping makes the work fail (killed connection or process); the guard's error
    // is the one to report, once the stop action has finished.
    const settled = work.catch((error: unknown) => (this.reason === undefined ? Promise.reject(error as Error) : this.stopped));
    try {
      return await Promise.race([settled, this.stopped]);
    } finally {
      clearTimeout(this.timer);
      this.signal?.removeEventListener('abort', this.onAbort);
    }
  }

  private async fire(reason: 'timeout' | 'cancelled'): Promise<void> {
    if (this.reason !== undefined) return;
    this.reason = reason;
    const action = this.stopAction;
    if (action) {
      let limit: NodeJS.Timeout | undefined;
      await Promise.race([
        action().catch(() => undefined),
        new Promise<void>((resolve) => {
          limit = setTimeout(resolve, STOP_ACTION_LIMIT_MS);
        }),
      ]);
      clearTimeout(limit);
    }
    this.reject(this.error());
  }
}
