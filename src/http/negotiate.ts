import accepts from 'accepts';
import type { IncomingMessage } from 'node:http';

export type Format = 'html' | 'json' | 'csv' | 'text';

export const CONTENT_TYPES: Record<Format, string> = {
  html: 'text/html; charset=utf-8',
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

/** The suffixes that pick a format outright: `/status.json`, `/api/actions/x/result.csv`. */
export const FORMAT_SUFFIXES: Readonly<Record<string, Format>> = { '.json': 'json', '.csv': 'csv', '.txt': 'text', '.html': 'html' };

const FORMATS = ['json', 'html', 'csv', 'text'] as const;

/** For each fallback, the formats in order of preference (the fallback first) and their media types. */
const PREFERENCES = Object.fromEntries(
  FORMATS.map((fallback) => {
    const formats = [fallback, ...FORMATS.filter((f) => f !== fallback)];
    return [fallback, { formats, types: formats.map((f) => CONTENT_TYPES[f].split(';')[0]!) }];
  }),
) as Record<Format, { formats: Format[]; types: string[] }>;

/**
 * The response format by the Accept header (a suffix such as `.json` is decided by the route,
 * before asking). `fallback` is what a client that accepts anything (curl's `*\/*`) gets.
 */
export function negotiate(request: IncomingMessage, fallback: Format): Format {
  if (!request.headers.accept || request.headers.accept.trim() === '*/*') return fallback;
  const { formats, types } = PREFERENCES[fallback];
  const chosen = accepts(request).type(types);
  return typeof chosen === 'string' ? (formats[types.indexOf(chosen)] ?? fallback) : fallback;
}
