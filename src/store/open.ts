import path from 'node:path';
import type { Config } from '../config/load.js';
import type { RunHistory } from './history.js';
import { SqliteHistory } from './sqlite-history.js';

/** The run history a config asks for: SQLite in the data directory. */
export function openHistory(config: Config): RunHistory {
  return new SqliteHistory(path.join(config.dataDir, 'porthole.db'), {
    maxRuns: config.history.maxRuns,
    maxAgeMs: config.history.maxAge,
    maxOutputBytes: config.history.maxOutput,
  });
}
