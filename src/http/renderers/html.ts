import type { Cell, RunResult, TableOutput } from '../../core/result.js';

/** Escapes text for HTML element content and attribute values. Everything shown goes through here. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface PageOptions {
  /** Load the chart library (only pages that draw charts pay for it). */
  charts?: boolean;
  /** Links above the title, from the dashboard down. */
  trail?: { href: string; label: string }[];
  /** The signed-in person, shown with a sign-out button. */
  user?: string;
  /** Token for state-changing requests made with the session cookie (forms and the script). */
  csrf?: string;
}

/** The hidden form field that carries the CSRF token, when there is one. */
export function csrfField(token: string | undefined): string {
  return token === undefined ? '' : `<input type="hidden" name="_csrf" value="${escapeHtml(token)}">`;
}

/** A complete Porthole page: no inline script or style (see the CSP in server.ts). */
export function page(title: string, body: string, options: PageOptions = {}): string {
  const trail = [{ href: '/', label: 'Porthole' }, ...(options.trail ?? [])]
    .map((link) => `<a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a>`)
    .join('<span aria-hidden="true"> / </span>');
  const charts = options.charts ? '\n<script src="/static/vendor/chart.umd.min.js" defer></script>' : '';
  const csrfMeta = options.csrf === undefined ? '' : `\n<meta name="csrf-token" content="${escapeHtml(options.csrf)}">`;
  const account = options.user === undefined
    ? ''
    : `<form class="account" method="post" action="/logout"><span>${escapeHtml(options.user)}</span>${csrfField(options.csrf)}<button type="submit">Sign out</button></form>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Porthole</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/porthole.css">${csrfMeta}${charts}
<script src="/static/porthole.js" defer></script>
</head>
<body>
<header class="top"><div class="bar"><nav aria-label="Breadcrumb">${trail}</nav>${account}</div></header>
<main id="main">
${body}
</main>
</body>
</html>
`;
}

/** A page that says nothing about what serves it: for "not found" and "forbidden". */
export function barePage(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n<body>\n${body}\n</body>\n</html>\n`;
}

/** An ISO time shown as "12 s ago"; the script keeps it current. */
export function timeAgo(iso: string, prefix = ''): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return `<time class="ago" datetime="${escapeHtml(iso)}" data-prefix="${escapeHtml(prefix)}">${escapeHtml(prefix)}${describeAge(seconds)}</time>`;
}

export function describeAge(seconds: number): string {
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

function cellHtml(cell: Cell | undefined): string {
  if (cell === null || cell === undefined) return '<td class="null">NULL</td>';
  if (typeof cell === 'number') return `<td class="num" data-value="${cell}">${escapeHtml(cell.toLocaleString('en-US', { maximumFractionDigits: 20 }))}</td>`;
  return `<td>${escapeHtml(String(cell))}</td>`;
}

/** A result table; with `sortable`, headers are buttons the script sorts by. */
export function tableHtml(table: TableOutput, options: { sortable?: boolean; maxRows?: number; caption?: string } = {}): string {
  const numeric = table.columns.map((_, i) => table.rows.some((row) => typeof row[i] === 'number') && table.rows.every((row) => row[i] === null || typeof row[i] === 'number'));
  const head = table.columns
    .map((c, i) => {
      const align = numeric[i] ? ' class="num"' : '';
      return options.sortable ? `<th scope="col"${align} aria-sort="none"><button type="button" class="sort">${escapeHtml(c.name)}</button></th>` : `<th scope="col"${align}>${escapeHtml(c.name)}</th>`;
    })
    .join('');
  const rows = (options.maxRows === undefined ? table.rows : table.rows.slice(0, options.maxRows))
    .map((row) => `<tr>${table.columns.map((_, i) => cellHtml(row[i])).join('')}</tr>`)
    .join('\n');
  const caption = options.caption ? `<caption class="visually-hidden">${escapeHtml(options.caption)}</caption>` : '';
  return `<div class="table-wrap"><table class="result-table${options.sortable ? ' sortable' : ''}">${caption}\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table></div>`;
}

/** The outcome line under a result: what happened, how long it took, how old it is. */
export function outcomeHtml(result: RunResult, ageMs?: number): string {
  const exit = result.kind === 'text' ? ` · exit code ${result.exitCode ?? `none (${escapeHtml(result.signal ?? 'stopped')})`}` : '';
  const age = ageMs === undefined ? '' : ` · from the cache, ${describeAge(Math.round(ageMs / 1000))}`;
  const error = result.error ? `<p class="error" role="alert">${escapeHtml(result.error.message)}</p>\n` : '';
  return `${error}<p class="meta" id="run-status" data-outcome="${escapeHtml(result.outcome)}">${escapeHtml(result.outcome)} in ${result.durationMs} ms${exit}${age}</p>`;
}

/** Command output in a monospace panel, stderr apart, with truncation said out loud. */
export function outputHtml(stdout: string, stderr: string, truncated: { stdout: boolean; stderr: boolean }): string {
  const cut = (['stdout', 'stderr'] as const).filter((s) => truncated[s]);
  return [
    `<pre id="output" class="output" tabindex="0" aria-label="Output">${escapeHtml(stdout)}</pre>`,
    `<pre id="errors" class="output stderr" tabindex="0" aria-label="Error output"${stderr ? '' : ' hidden'}>${escapeHtml(stderr)}</pre>`,
    cut.length > 0 ? `<p class="truncated" role="note">Output cut: ${cut.join(' and ')} went past the output limit.</p>` : '',
  ].join('\n');
}
