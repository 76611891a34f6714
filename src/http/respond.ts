import type { FastifyReply } from 'fastify';
import { ERRORS } from '../core/errors.js';
import type { RunResult } from '../core/result.js';
import type { Run } from '../core/run.js';
import { resultToCsv } from './renderers/csv.js';
import { escapeHtml, page } from './renderers/html.js';
import { resultSection } from './renderers/result-view.js';
import { tableToText } from './renderers/text-table.js';
import { STREAM_JSON_ABOVE, textResultJson } from './renderers/json-stream.js';
import { CONTENT_TYPES, type Format } from './negotiate.js';

/** The HTTP status of a finished run: 200 only for success, otherwise what its failure maps to. */
export function statusOf(result: RunResult): number {
  return result.outcome === 'succeeded' || !result.error ? 200 : ERRORS[result.error.code];
}

/** Sends a result in the negotiated format, with its age when it came from the cache. */
export function sendResult(reply: FastifyReply, run: { id: string; action: Run['action'] }, result: RunResult, format: Format, ageMs?: number): FastifyReply {
  void reply.code(statusOf(result)).type(CONTENT_TYPES[format]).header('x-porthole-run', run.id);
  if (ageMs !== undefined) void reply.header('age', String(Math.floor(ageMs / 1000)));
  switch (format) {
    case 'json': {
      const extra = ageMs === undefined ? {} : { cache: { ageMs } };
      if (result.kind === 'text' && result.stdout.length + result.stderr.length > STREAM_JSON_ABOVE) return reply.send(textResultJson(result, extra));
      return reply.send({ ...result, ...extra });
    }
    case 'csv':
      return reply.send(resultToCsv(result));
    case 'html':
      return reply.send(page(run.action.title, `<h1>${escapeHtml(run.action.title)}</h1>\n${resultSection(run.action, result, { ageMs })}`, { charts: run.action.kind === 'query' && run.action.chart !== undefined }));
    case 'text':
      return reply.send(resultText(result));
  }
}

/** Text already made for a result: a cached result is answered many times, unchanged. */
const texts = new WeakMap<RunResult, string>();

/** For terminals: the table or the output, then a line saying what went wrong, if anything. */
function resultText(result: RunResult): string {
  let text = texts.get(result);
  if (text === undefined) {
    text = renderText(result);
    texts.set(result, text);
  }
  return text;
}

function renderText(result: RunResult): string {
  const body = result.kind === 'table' ? (result.columns.length > 0 ? tableToText(result) : '') : result.stdout;
  const notes: string[] = [];
  if (result.kind === 'table' && result.truncated) notes.push(`(only the first ${result.rows.length} rows: row limit reached)`);
  if (result.kind === 'text' && (result.truncated.stdout || result.truncated.stderr)) notes.push('(output cut at the output limit)');
  if (result.kind === 'text' && result.outcome !== 'succeeded' && result.stderr) notes.push(result.stderr.trimEnd());
  if (result.error) notes.push(`${result.outcome}: ${result.error.message}`);
  return body + notes.map((n) => `${n}\n`).join('');
}
