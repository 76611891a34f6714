import type { Outcome } from '../core/result.js';

/** Process exit codes of `porthole`, documented in the README. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  config: 3,
  timedOut: 4,
  unavailable: 5,
  cancelled: 130,
} as const;

export function exitCodeFor(outcome: Outcome): number {
  switch (outcome) {
    case 'succeeded':
      return EXIT.ok;
    case 'failed':
      return EXIT.failed;
    case 'timed-out':
      return EXIT.timedOut;
    case 'unavailable':
      return EXIT.unavailable;
    case 'cancelled':
      return EXIT.cancelled;
  }
}
