import type { Config } from '../config/load.js';
import { parseDuration } from '../config/units.js';
import { tableToCsv } from '../http/renderers/csv.js';
import { tableToText } from '../http/renderers/text-table.js';
import { openCliStore } from './store.js';
import { EXIT } from './exit-codes.js';

export interface AuditOptions {
  user?: string;
  action?: string;
  since?: string;
  limit: string;
  format: 'text' | 'json' | 'csv';
}

const COLUMNS = ['at', 'event', 'user', 'ip', 'action', 'outcome', 'detail'] as const;

/** `porthole audit`: who did what, when, from where; newest first. */
export function auditCommand(config: Config, options: AuditOptions): number {
  const sinceMs = options.since === undefined ? undefined : parseDuration(options.since);
  if (options.since !== undefined && sinceMs === undefined) {
    console.error(`porthole: --since expects a duration such as 1d or 30m, got "${options.since}"`);
    return EXIT.usage;
  }
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    console.error('porthole: --limit expects a whole number above 0');
    return EXIT.usage;
  }
  const store = openCliStore(config);
  try {
    const events = store.audit.query({
      limit,
      ...(options.user !== undefined ? { user: options.user } : {}),
      ...(options.action !== undefined ? { action: options.action } : {}),
      ...(sinceMs !== undefined ? { since: new Date(Date.now() - sinceMs).toISOString() } : {}),
    });
    if (options.format === 'json') {
      console.log(JSON.stringify(events, null, 2));
      return EXIT.ok;
    }
    const table = { columns: COLUMNS.map((name) => ({ name, type: 'text' })), rows: events.map((e) => COLUMNS.map((c) => e[c] ?? null)), truncated: false };
    process.stdout.write(options.format === 'csv' ? tableToCsv(table) : events.length === 0 ? 'no events\n' : tableToText(table));
    return EXIT.ok;
  } finally {
    store.close();
  }
}
