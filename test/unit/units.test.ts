import { describe, expect, it } from 'vitest';

import { formatDuration, formatSize, parseDuration, parseSize } from '../../src/config/units.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['0ms', 0],
    ['1s', 1000],
    ['10s', 10_000],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['24h', 86_400_000],
    ['30d', 2_592_000_000],
    ['1500ms', 1500],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['10', '10 s', ' 10s', '10s ', '1e3s', '-5s', '+5s', '1.5s', '.5s', 's', '', '10S', '10MS', '10sec', '10D', '10us', '1h30m', '0x10s', '٣s', '１s', '99999999999999999999h'])(
    '%j is not a duration',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe('parseSize', () => {
  it.each([
    ['0B', 0],
    ['512B', 512],
    ['1KiB', 1024],
    ['64KiB', 65_536],
    ['1MiB', 1_048_576],
    ['1GiB', 1_073_741_824],
    ['1KB', 1000],
    ['2MB', 2_000_000],
    ['1GB', 1_000_000_000],
  ])('%j is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['1', '1M', '1K', '64k', '1 MiB', ' 1MiB', '1.5MiB', '-1B', '+1B', '1TiB', '1mib', '1kib', '1e3B', 'MiB', '', '99999999999999999GiB'])('%j is not a size', (text) => {
    expect(parseSize(text)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [1, '1ms'],
    [500, '500ms'],
    [1500, '1500ms'],
    [1000, '1s'],
    [30_000, '30s'],
    [90_000, '90s'],
    [60_000, '1m'],
    [300_000, '5m'],
    [5_400_000, '90m'],
    [3_600_000, '1h'],
    [86_400_000, '1d'],
    [90_000_000, '25h'],
  ])('%d ms is %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([0, 1, 999, 1000, 61_000, 3_600_000, 7_260_000])('round-trips %d through parseDuration', (ms) => {
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('formatSize', () => {
  it.each([
    [0, '0B'],
    [1, '1B'],
    [1000, '1000B'],
    [1023, '1023B'],
    [1024, '1KiB'],
    [1536, '1536B'],
    [65_536, '64KiB'],
    [1_048_576, '1MiB'],
    [1_572_864, '1536KiB'],
    [1_073_741_824, '1GiB'],
    [3 * 1024 ** 3, '3GiB'],
  ])('%d bytes is %j', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it.each([0, 1, 1000, 1024, 1536, 1_048_576, 5 * 1024 ** 3])('round-trips %d through parseSize', (bytes) => {
    expect(parseSize(formatSize(bytes))).toBe(bytes);
  });
});
