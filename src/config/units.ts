/** Durations (`500ms`, `10s`, `5m`, `1h`) and sizes (`512B`, `64KiB`, `1MiB`, `1GiB`). */

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const SIZE = /^(\d+)(B|KiB|MiB|GiB|KB|MB|GB)$/;
const SIZE_BYTES = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1000, MB: 1000 ** 2, GB: 1000 ** 3 } as const;

export const DURATION_HELP = 'a whole number with a unit: ms, s, m, h or d (e.g. 500ms, 10s, 5m, 30d)';
export const SIZE_HELP = 'a whole number with a unit: B, KiB, MiB, GiB (or KB, MB, GB) (e.g. 64KiB, 1MiB)';

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]) * DURATION_MS[m[2] as keyof typeof DURATION_MS];
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Bytes, or undefined when the text is not a size. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]) * SIZE_BYTES[m[2] as keyof typeof SIZE_BYTES];
  return Number.isSafeInteger(value) ? value : undefined;
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function formatSize(bytes: number): string {
  for (const [unit, n] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${unit}`;
  }
  return `${bytes}B`;
}
