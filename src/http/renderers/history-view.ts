import type { Action } from '../../core/action.js';
import type { RunRecord } from '../../store/history.js';
import { escapeHtml, timeAgo } from './html.js';

function paramsText(params: RunRecord['params']): string {
  const entries = Object.entries(params).filter(([, v]) => v !== null);
  return entries.length === 0 ? '—' : entries.map(([k, v]) => `${k}=${String(v)}`).join(', ');
}

/** A run's outcome, or its status while it has none, as a coloured label. */
export function outcomeBadge(record: Pick<RunRecord, 'outcome' | 'status'>): string {
  const outcome = escapeHtml(record.outcome ?? record.status);
  return `<span class="outcome ${outcome}">${outcome}</span>`;
}

/** Where a run came from: the client's address (and user), or the command line. */
function origin(record: Pick<RunRecord, 'clientIp' | 'source' | 'user'>): string {
  return `${escapeHtml(record.clientIp ?? (record.source === 'cli' ? 'command line' : '—'))}${record.user ? ` (${escapeHtml(record.user)})` : ''}`;
}

/** Recent runs of one action: when, from where, by whom, with what, and how it went. */
export function historyTable(action: Action, records: readonly RunRecord[]): string {
  if (records.length === 0) return '<p class="meta">No runs yet.</p>';
  const rows = records.map((r) => `<tr>
<td><a href="/actions/${escapeHtml(action.id)}/runs/${escapeHtml(r.id)}">${timeAgo(r.queuedAt)}</a></td>
<td>${origin(r)}</td>
<td>${escapeHtml(paramsText(r.params))}</td>
<td>${outcomeBadge(r)}</td>
<td class="num">${r.durationMs === undefined ? '—' : `${r.durationMs} ms`}</td>
</tr>`);
  return `<div class="table-wrap"><table class="history">
<caption class="visually-hidden">Recent runs of ${escapeHtml(action.title)}</caption>
<thead><tr><th scope="col">When</th><th scope="col">From</th><th scope="col">Parameters</th><th scope="col">Outcome</th><th scope="col">Duration</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></div>`;
}

/** The heading facts of one run. */
export function runFacts(record: Pick<RunRecord, 'queuedAt' | 'clientIp' | 'source' | 'params' | 'user'>): string {
  return `<dl class="facts">
<dt>Started</dt><dd>${timeAgo(record.queuedAt)}</dd>
<dt>From</dt><dd>${origin(record)}</dd>
<dt>Parameters</dt><dd>${escapeHtml(paramsText(record.params))}</dd>
</dl>`;
}
