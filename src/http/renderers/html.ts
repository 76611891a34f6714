import type { RunResult, TableOutput } from '../../core/result.js';

/** Escapes text for HTML element content and attribute values. Everything shown goes through here. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A complete page: no inline script, styles from /static (see the CSP in server.ts). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Porthole</title>
<link rel="stylesheet" href="/static/porthole.css">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export function tableHtml(table: TableOutput): string {
  const head = table.columns.map((c) => `<th scope="col">${escapeHtml(c.name)}</th>`).join('');
  const rows = table.rows
    .map((row) => `<tr>${row.map((cell) => (cell === null ? '<td class="null">NULL</td>' : `<td${typeof cell === 'number' ? ' class="num"' : ''}>${escapeHtml(String(cell))}</td>`)).join('')}</tr>`)
    .join('\n');
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table>`;
}

/** A run's result as HTML: the table or the output, then what happened. */
export function resultHtml(result: RunResult, ageMs?: number): string {
  const parts: string[] = [];
  if (result.kind === 'table') {
    if (result.columns.length > 0) parts.push(tableHtml(result));
    parts.push(`<p class="meta">${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ' — <strong>truncated</strong>: more rows exist than the limit allows' : ''}</p>`);
  } else {
    if (result.stdout) parts.push(`<pre class="output">${escapeHtml(result.stdout)}</pre>`);
    if (result.stderr) parts.push(`<pre class="output stderr">${escapeHtml(result.stderr)}</pre>`);
    const cut = (['stdout', 'stderr'] as const).filter((s) => result.truncated[s]);
    if (cut.length > 0) parts.push(`<p class="meta"><strong>truncated</strong>: ${cut.join(' and ')} went past the output limit</p>`);
    parts.push(`<p class="meta">exit code ${result.exitCode ?? `none (${escapeHtml(result.signal ?? 'stopped')})`}</p>`);
  }
  if (result.error) parts.push(`<p class="error" role="alert">${escapeHtml(result.error.message)}</p>`);
  const age = ageMs === undefined ? '' : ` · cached ${Math.round(ageMs / 1000)} s ago`;
  parts.push(`<p class="meta">${escapeHtml(result.outcome)} in ${result.durationMs} ms${age}</p>`);
  return parts.join('\n');
}
