import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import type { TextResult } from '../../src/core/result.js';
import { textResultJson } from '../../src/http/renderers/json-stream.js';

const result = (stdout: string, stderr = ''): TextResult => ({
  runId: 'r1',
  actionId: 'a',
  startedAt: '2026-01-01T00:00:00.000Z',
  kind: 'text',
  exitCode: 0,
  signal: null,
  truncated: { stdout: false, stderr: false },
  outcome: 'succeeded',
  durationMs: 5,
  stdout,
  stderr,
});

describe('textResultJson', () => {
  // 64 KiB slices: put awkward characters right on the boundaries.
  const edge = 64 * 1024;
  const cases: [string, string, string][] = [
    ['empty', '', ''],
    ['plain', 'hello\n', 'warning\n'],
    ['quotes, backslashes, control characters and NUL', '"\\\n\r\t\u0000\u001f</script>', '\u2028\u2029'],
    ['a surrogate pair cut by a slice boundary', `${'a'.repeat(edge - 1)}😀${'b'.repeat(10)}`, ''],
    ['an escape straddling a boundary', `${'a'.repeat(edge - 1)}"\\${'c'.repeat(edge)}`, `${'é'.repeat(edge + 3)}`],
    ['several megabytes', 'x'.repeat(3 * 1024 * 1024 + 7), 'y'.repeat(edge * 2)],
  ];

  for (const [name, stdout, stderr] of cases) {
    it(`reads back as the same result: ${name}`, async () => {
      const r = result(stdout, stderr);
      const json = await text(textResultJson(r));
      expect(JSON.parse(json)).toEqual(r);
    });
  }

  it('adds extra fields such as the cache age', async () => {
    const r = result('out');
    expect(JSON.parse(await text(textResultJson(r, { cache: { ageMs: 12 } })))).toEqual({ ...r, cache: { ageMs: 12 } });
  });

  it('writes the output in slices, not as one string', async () => {
    const pieces: string[] = [];
    for await (const piece of textResultJson(result('z'.repeat(1024 * 1024)))) pieces.push(String(piece));
    expect(pieces.length).toBeGreaterThan(16);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(64 * 1024);
  });
});
