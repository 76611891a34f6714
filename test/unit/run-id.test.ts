import { describe, expect, it } from 'vitest';
import { newRunId } from '../../src/core/run-id.js';
import { isRunId } from '../../src/http/routes/api.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('run ids', () => {
  it('are UUIDv7: version 7, the RFC variant, and the API accepts them', () => {
    for (let i = 0; i < 1000; i++) {
      const id = newRunId();
      expect(id).toMatch(UUID_V7);
      expect(isRunId(id)).toBe(true);
    }
  });

  it('start with the time in milliseconds', () => {
    const at = Date.parse('2026-12-04T16:40:00.123Z');
    const id = newRunId(at);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
  });

  it('sort by the time they were made, whatever their random part', () => {
    const ids = Array.from({ length: 200 }, (_, i) => newRunId(1_796_000_000_000 + i * 7));
    expect([...ids].sort()).toEqual(ids);
  });

  it('differ within one millisecond', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newRunId(1_796_000_000_000)));
    expect(ids.size).toBe(10_000);
  });
});
