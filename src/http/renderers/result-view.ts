import type { Action } from '../../core/action.js';
import type { RunResult } from '../../core/result.js';
import { chartHtml } from './chart-data.js';
import { escapeHtml, outcomeHtml, outputHtml, tableHtml } from './html.js';

export interface ResultViewOptions {
  /** How old a cached result is. */
  ageMs?: number;
  /** Where the same result can be downloaded in a format (`csv`, `json`). */
  download?: (format: 'csv' | 'json') => string;
}

/** A result in full, for an action's page or a run's page. */
export function resultSection(action: Action, result: RunResult, options: ResultViewOptions = {}): string {
  const parts: string[] = [];
  if (result.kind === 'table') {
    if (result.columns.length > 0) {
      if (action.kind === 'query' && action.chart && result.rows.length > 0) parts.push(chartHtml(result, action.chart, action.title));
      parts.push(tableHtml(result, { sortable: true, caption: action.title }));
    }
    const count = `<p class="row-count">${result.rows.length} row${result.rows.length === 1 ? '' : 's'}</p>`;
    const truncated = result.truncated ? `<p class="truncated" role="note">Only the first ${result.rows.length} rows are shown: the action's row limit was reached.</p>` : '';
    const downloads = options.download && result.outcome === 'succeeded'
      ? `<p class="downloads">Download <a class="download" data-format="csv" href="${escapeHtml(options.download('csv'))}" download>CSV</a> <a class="download" data-format="json" href="${escapeHtml(options.download('json'))}" download>JSON</a></p>`
      : '';
    parts.push(`<div class="result-meta">${count}${truncated}${downloads}</div>`);
  } else {
    parts.push(outputHtml(result.stdout, result.stderr, result.truncated));
  }
  parts.push(outcomeHtml(result, options.ageMs));
  return `<section id="result" class="result" aria-live="polite" data-outcome="${escapeHtml(result.outcome)}">\n<h2>Result</h2>\n${parts.join('\n')}\n</section>`;
}

/** Lines at the end of a text, for a card. */
function tail(text: string, lines: number): string {
  const all = text.replace(/\n$/, '').split('\n');
  return all.slice(-lines).join('\n');
}

/**
 * A result small enough for a dashboard card: one value as a big figure, a chart, the
 * first rows of a table, or the last lines of output.
 */
export function cardResult(action: Action, result: RunResult): string {
  if (result.outcome !== 'succeeded') return `<p class="error">${escapeHtml(result.error?.message ?? result.outcome)}</p>`;
  if (result.kind === 'text') return `<pre class="output small">${escapeHtml(tail(result.stdout, 8))}</pre>`;
  if (result.rows.length === 1 && result.columns.length === 1) {
    const value = result.rows[0]![0];
    const shown = typeof value === 'number' ? value.toLocaleString('en-US', { maximumFractionDigits: 20 }) : String(value ?? 'NULL');
    return `<p class="figure"><span class="value">${escapeHtml(shown)}</span><span class="caption">${escapeHtml(result.columns[0]!.name)}</span></p>`;
  }
  if (action.kind === 'query' && action.chart && result.rows.length > 0) return chartHtml(result, action.chart, action.title);
  const more = result.rows.length > 5 ? `<p class="meta">${result.rows.length} rows · <a href="/actions/${escapeHtml(action.id)}">see all</a></p>` : '';
  return `${tableHtml(result, { maxRows: 5, caption: action.title })}${more}`;
}
