import type { Action } from '../../core/action.js';
import type { RunResult } from '../../core/result.js';
import type { RunRecord } from '../../store/history.js';
import { escapeHtml, timeAgo } from './html.js';
import { outcomeBadge } from './history-view.js';
import { cardResult } from './result-view.js';

/** What a card can show: a fresh result, a run still going, or (unsafe actions) the last run. */
export type CardState =
  | { kind: 'result'; result: RunResult; finishedAt: string }
  | { kind: 'pending' }
  | { kind: 'last-run'; record?: RunRecord };

/** The changing part of a card; the script swaps it in place when the card refreshes. */
export function cardBody(action: Action, state: CardState): string {
  switch (state.kind) {
    case 'result':
      return `${cardResult(action, state.result)}\n<p class="meta">${timeAgo(state.finishedAt, 'updated ')}</p>`;
    case 'pending':
      return '<p class="meta pending">Running…</p>';
    case 'last-run': {
      const last = state.record
        ? `<p class="meta">Last run ${timeAgo(state.record.queuedAt)}: ${outcomeBadge(state.record)}</p>`
        : '<p class="meta">Not run yet.</p>';
      return `${last}\n<p><a class="button" href="/actions/${escapeHtml(action.id)}">Run…</a></p>`;
    }
  }
}

function card(action: Action, state: CardState): string {
  const refresh = action.safe && action.refreshMs !== undefined ? ` data-refresh-ms="${action.refreshMs}"` : '';
  const pending = state.kind === 'pending' ? ' data-pending="true"' : '';
  const description = action.description ? `<p class="description">${escapeHtml(action.description)}</p>` : '';
  return `<li class="card" data-action="${escapeHtml(action.id)}"${refresh}${pending}>
<h3><a href="/actions/${escapeHtml(action.id)}">${escapeHtml(action.title)}</a></h3>
${description}<div class="card-body" aria-live="polite">${cardBody(action, state)}</div>
</li>`;
}

/** The dashboard: actions in their groups, in the order the config lists them. */
export function dashboardHtml(actions: readonly Action[], states: ReadonlyMap<string, CardState>): string {
  const groups = new Map<string, Action[]>();
  for (const action of actions) {
    const name = action.group ?? '';
    const members = groups.get(name);
    if (members) members.push(action);
    else groups.set(name, [action]);
  }
  const sections = [...groups.entries()].map(([name, members]) => {
    const heading = name ? `<h2>${escapeHtml(name)}</h2>` : groups.size > 1 ? '<h2>Other</h2>' : '';
    const cards = members.map((a) => card(a, states.get(a.id) ?? { kind: 'pending' })).join('\n');
    return `<section class="group">${heading}\n<ul class="cards">\n${cards}\n</ul>\n</section>`;
  });
  return `<h1>Dashboard</h1>\n${sections.join('\n')}`;
}
