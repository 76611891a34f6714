/**
 * Counts failed logins per user name and per address within a window. Bounded: each key
 * keeps only its last `maxFailures` times, and the oldest keys are forgotten first, so a
 * flood of attempts or made-up names cannot grow memory or cost.
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
    return Math.max(this.wait(userKey(user), now), this.wait(ipKey(ip), now));
  }

  /**
   * Counts an attempt as failed before the (slow) password check, so parallel guesses
   * cannot all slip through; a success takes it back with the returned function.
   */
  attempt(user: string, ip: string | undefined, now = Date.now()): () => void {
    for (const key of [userKey(user), ipKey(ip)]) this.push(key, now);
    return () => {
      this.failures.delete(userKey(user));
      this.remove(ipKey(ip), now);
    };
  }

  private push(key: string, now: number): void {
    const recent = this.recent(key, now);
    recent.push(now);
    this.failures.delete(key);
    this.failures.set(key, recent.slice(-this.maxFailures));
    while (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
  }

  private remove(key: string, time: number): void {
    const list = this.failures.get(key);
    const index = list?.lastIndexOf(time) ?? -1;
    if (list && index >= 0) list.splice(index, 1);
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

const userKey = (user: string) => `user:${user.toLowerCase()}`;
const ipKey = (ip: string | undefined) => `ip:${ip ?? '?'}`;
