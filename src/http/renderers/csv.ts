import { stringify } from 'csv-stringify/sync';
import type { RunResult, TableOutput } from '../../core/result.js';

/** RFC 4180 CSV with a header row; NULL becomes an empty field. */
export function tableToCsv(table: TableOutput): string {
  return stringify([table.columns.map((c) => c.name), ...table.rows], {
    cast: { boolean: (value) => String(value), number: (value) => String(value) },
  });
}

/** Any result as CSV: a table as itself, command output as (stream, text) rows. */
export function resultToCsv(result: RunResult): string {
  if (result.kind === 'table') return tableToCsv(result);
  return tableToCsv({
    columns: [{ name: 'stream', type: 'text' }, { name: 'text', type: 'text' }],
    rows: [['stdout', result.stdout], ['stderr', result.stderr]],
    truncated: false,
  });
}
