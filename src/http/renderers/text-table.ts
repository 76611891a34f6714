import type { Cell, TableOutput } from '../../core/result.js';

/**
 * A table drawn with ASCII rules, like the mysql client, for terminals and `curl`.
 * Control characters in cells are shown as escapes so output cannot drive the terminal.
 */
export function tableToText(table: TableOutput): string {
  const header = table.columns.map((c) => c.name);
  const cells = table.rows.map((row) => row.map(cellText));
  const widths = header.map((name, i) => Math.max(width(name), ...cells.map((row) => width(row[i] ?? ''))));
  const rule = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
  const numeric = table.columns.map((_, i) => table.rows.every((row) => row[i] === null || typeof row[i] === 'number'));
  const line = (values: string[], alignNumbers: boolean) =>
    `| ${values.map((v, i) => (alignNumbers && numeric[i] ? pad(v, widths[i]!, 'start') : pad(v, widths[i]!, 'end'))).join(' | ')} |`;
  const body = cells.map((row) => line(row, true));
  return [rule, line(header.map(safe), false), rule, ...body, ...(body.length > 0 ? [rule] : [])].join('\n') + '\n';
}

function cellText(value: Cell | undefined): string {
  if (value === undefined) return '';
  if (value === null) return 'NULL';
  return safe(String(value));
}

function safe(text: string): string {
  return text.replace(/[\u0000-\u001F\u007F-\u009F]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

function width(text: string): number {
  return [...text].length;
}

function pad(text: string, size: number, side: 'start' | 'end'): string {
  const fill = ' '.repeat(Math.max(0, size - width(text)));
  return side === 'start' ? fill + text : text + fill;
}
