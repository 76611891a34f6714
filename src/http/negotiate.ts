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

/**
 * The response format: an explicit suffix or `?format=` wins, then the Accept header.
 * `fallback` is what a client that accepts anything (curl's `*\/*`) gets.
 */
export function negotiate(request: IncomingMessage, fallback: Format, explicit?: string): Format {
  if (explicit !== undefined && explicit in CONTENT_TYPES) return explicit as Format;
  if (!request.headers.accept || request.headers.accept.trim() === '*/*') return fallback;
  const order = [fallback, ...(['json', 'html', 'csv', 'text'] as const).filter((f) => f !== fallback)];
  const chosen = accepts(request).type(order.map((f) => CONTENT_TYPES[f].split(';')[0]!));
  const match = order.find((f) => CONTENT_TYPES[f].startsWith(String(chosen)));
  return match ?? fallback;
}
