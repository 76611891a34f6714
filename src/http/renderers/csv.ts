import { stringify } from 'csv-stringify/sync';
import type { TableOutput } from '../../core/result.js';

/** RFC 4180 CSV with a header row; NULL becomes an empty field. */
export function tableToCsv(table: TableOutput): string {
  return stringify([table.columns.map((c) => c.name), ...table.rows], {
    cast: { boolean: (value) => String(value), number: (value) => String(value) },
  });
}
