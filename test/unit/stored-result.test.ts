import { describe, expect, it } from 'vitest';
import type { RunResult, TableResult, TextResult } from '../../src/core/result.js';
import { storedResultJson } from '../../src/store/stored-result.js';

const base = { runId: 'r', actionId: 'a', startedAt: '2026-12-04T00:00:00.000Z', durationMs: 1, outcome: 'succeeded' as const };
const text = (stdout: string, stderr = ''): TextResult => ({ ...base, kind: 'text', stdout, stderr, exitCode: 0, signal: null, truncated: { stdout: false, stderr: false } });
const table = (rows: (string | number)[][]): TableResult => ({ ...base, kind: 'table', columns: [{ name: 'n', type: 'int' }, { name: 's', type: 'text' }], rows, truncated: false });
const parse = (json: string) => JSON.parse(json) as RunResult;

describe('what history stores of a result', () => {
  it('a result that fits is stored whole, as its JSON', () => {
    for (const result of [text('hello\n', 'warning\n'), table([[1, 'a'], [2, 'b']])]) {
      expect(storedResultJson(result, 1024)).toEqual({ json: JSON.stringify(result), cut: false });
    }
  });

  it('cuts each text stream to the limit on its own', () => {
    const { json, cut } = storedResultJson(text('x'.repeat(3000), 'short'), 1000);
    expect(cut).toBe(true);
    expect(parse(json)).toMatchObject({ stdout: 'x'.repeat(1000), stderr: 'short' });
  });

  it('never stores half a character', () => {
    const { json, cut } = storedResultJson(text('é'.repeat(600)), 1001);
    expect(cut).toBe(true);
    expect((parse(json) as TextResult).stdout).toBe('é'.repeat(500));
  });

  it('keeps the first rows whose JSON fits, and says rows were cut', () => {
    const rows = Array.from({ length: 100 }, (_, i) => [i, 'y'.repeat(40)]);
    const { json, cut } = storedResultJson(table(rows), 1000);
    const kept = (parse(json) as TableResult).rows;
    expect(cut).toBe(true);
    expect(kept).toEqual(rows.slice(0, kept.length));
    expect(kept.length).toBeGreaterThan(10);
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(1000);
  });

  it('a result bigger than the limit only through its other fields keeps all its output', () => {
    const result = { ...text('ok'), error: { code: 'COMMAND_FAILED' as const, message: 'm'.repeat(2000) }, outcome: 'failed' as const };
    expect(storedResultJson(result, 1000)).toEqual({ json: JSON.stringify(result), cut: false });
  });
});
