import type { RunResult } from '../core/result.js';

/**
 * Cuts a result's output to what history keeps: each text stream to `maxBytes`, a table
 * to the rows whose JSON fits in `maxBytes`. Returns the result and whether anything was cut.
 */
export function storedResult(result: RunResult, maxBytes: number): { result: RunResult; cut: boolean } {
  if (result.kind === 'text') {
    const stdout = cutText(result.stdout, maxBytes);
    const stderr = cutText(result.stderr, maxBytes);
    return { result: { ...result, stdout: stdout.text, stderr: stderr.text }, cut: stdout.cut || stderr.cut };
  }
  let bytes = 0;
  let kept = 0;
  for (const row of result.rows) {
    bytes += Buffer.byteLength(JSON.stringify(row)) + 1;
    if (bytes > maxBytes) break;
    kept++;
  }
  return { result: { ...result, rows: result.rows.slice(0, kept) }, cut: kept < result.rows.length };
}

function cutText(text: string, maxBytes: number): { text: string; cut: boolean } {
  if (Buffer.byteLength(text) <= maxBytes) return { text, cut: false };
  // maxBytes characters are at least maxBytes bytes, so only they are encoded, not the whole
  // output. Decoding a cut buffer may end in half a character; drop it rather than store U+FFFD.
  return { text: Buffer.from(text.slice(0, maxBytes)).subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, ''), cut: true };
}
