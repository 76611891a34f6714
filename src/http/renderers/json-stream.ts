import { Readable } from 'node:stream';
import type { TextResult } from '../../core/result.js';

/** Output up to this size is answered as one JSON string; beyond it, piece by piece. */
export const STREAM_JSON_ABOVE = 1024 * 1024;
const SLICE = 64 * 1024;

/** A string's JSON form, in slices; a surrogate pair cut in two still reads back whole. */
function* escapedSlices(text: string): Generator<string> {
  for (let i = 0; i < text.length; i += SLICE) yield JSON.stringify(text.slice(i, i + SLICE)).slice(1, -1);
}

/**
 * A text result with large output as a JSON stream. `JSON.stringify` of the whole result
 * makes the answer once more as a string and once more as bytes; written in slices, the
 * answer costs little beyond the output the result already holds. stdout and stderr come
 * last; the other fields are as `JSON.stringify` writes them.
 */
export function textResultJson(result: TextResult, extra: Record<string, unknown> = {}): Readable {
  const { stdout, stderr, ...rest } = result;
  const head = JSON.stringify({ ...rest, ...extra });
  return Readable.from(
    (function* () {
      yield `${head.slice(0, -1)}${head === '{}' ? '' : ','}"stdout":"`;
      yield* escapedSlices(stdout);
      yield '","stderr":"';
      yield* escapedSlices(stderr);
      yield '"}';
    })(),
    { objectMode: false },
  );
}
