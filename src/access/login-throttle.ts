/**
 * Counts failed logins per user name and per address within a window. Bounded: the oldest
 * keys are forgotten first, so a flood of made-up names cannot grow memory without end.
 */
const MAX_KEYS = 10_000;

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
  ) {}

  /** Milliseconds until another attempt is allowed for this user or address; 0 when allowed now. */
  retryAfter(user: string, ip: string | undefined, now = Date.now()): number {
    return Math.max(this.wait(`user:${user.toLowerCase()}`, now), this.wait(`ip:${ip ?? '?'}`, now));
  }

  fail(user: string, ip: string | undefined, now = Date.now()): void {
    for (const key of [`user:${user.toLowerCase()}`, `ip:${ip ?? '?'}`]) {
      const recent = this.recent(key, now);
      recent.push(now);
      this.failures.delete(key);
      this.failures.set(key, recent);
    }
    while (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
  }

  /** A successful login clears the user's count (not the address's: one good account does not unlock guessing others). */
  succeed(user: string): void {
    this.failures.delete(`user:${user.toLowerCase()}`);
  }

  private recent(key: string, now: number): number[] {
    return (this.failures.get(key) ?? []).filter((t) => now - t < this.windowMs);
  }

  private wait(key: string, now: number): number {
    const recent = this.recent(key, now);
    if (recent.length < this.maxFailures) return 0;
    return this.windowMs - (now - recent[recent.length - this.maxFailures]!);
  }
}
