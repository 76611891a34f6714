import type { RunResult } from '../core/result.js';

/**
 * A result as history keeps it, as JSON: its output cut to `maxBytes` (see storedResult), and
 * whether anything was cut. A result whose whole JSON fits had nothing to cut, which is most
 * of them: they are made into JSON once and not measured row by row.
 */
export function storedResultJson(result: RunResult, maxBytes: number): { json: string; cut: boolean } {
  // Output with more characters than the limit has more bytes too: it is cut before any JSON is
  // made of it, so a 10 MB output never becomes a 10 MB string here.
  if (result.kind === 'table' || result.stdout.length + result.stderr.length <= maxBytes) {
    const json = JSON.stringify(result);
    // A character is at most three bytes of UTF-8, so a short text is known to fit without counting.
    if (json.length * 3 <= maxBytes || Buffer.byteLength(json) <= maxBytes) return { json, cut: false };
  }
  const stored = storedResult(result, maxBytes);
  return { json: JSON.stringify(stored.result), cut: stored.cut };
}

/**
 * Cuts a result's output to what history keeps: each text stream to `maxBytes`, a table
 * to the rows whose JSON fits in `maxBytes`. Returns the result and whether anything was cut.
 */
function storedResult(result: RunResult, maxBytes: number): { result: RunResult; cut: boolean } {
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
