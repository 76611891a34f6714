import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/core/iso-time.js';

describe('isoTime', () => {
  it('is what toISOString says, for now and for times around it', () => {
    const now = Date.now();
    for (const ms of [now, now + 1, now + 999, now + 1000, now - 1, now - 86_400_000, now + 3_600_000]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
    expect(isoTime()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('pads the milliseconds, at every second and millisecond boundary', () => {
    const base = Date.parse('2026-12-31T23:59:59.000Z');
    for (const ms of [0, 1, 9, 10, 99, 100, 999, 1000, 1001]) expect(isoTime(base + ms)).toBe(new Date(base + ms).toISOString());
  });

  it('agrees with toISOString across random times, back and forth between seconds', () => {
    for (let i = 0; i < 5000; i++) {
      const ms = Math.floor(Math.random() * 4_000_000_000_000) - 1_000_000_000_000;
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it('drops a fraction of a millisecond, as Date does', () => {
    expect(isoTime(1_796_400_000_123.9)).toBe(new Date(1_796_400_000_123.9).toISOString());
  });
});
