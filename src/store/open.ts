import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Config } from '../config/load.js';
import { AuditLog, SessionStore, TokenStore } from './auth-store.js';
import { openDatabase } from './database.js';
import type { RunHistory } from './history.js';
import { SqliteHistory } from './sqlite-history.js';

/** Everything Porthole keeps about itself, in one SQLite file in the data directory. */
export interface Store {
  history: RunHistory;
  sessions: SessionStore;
  tokens: TokenStore;
  audit: AuditLog;
  close(): void;
}

export function storeFile(config: Config): string {
  return path.join(config.dataDir, 'porthole.db');
}

export function openStore(config: Config): Store {
  const db: Database.Database = openDatabase(storeFile(config));
  return {
    history: new SqliteHistory(db, { maxRuns: config.history.maxRuns, maxAgeMs: config.history.maxAge, maxOutputBytes: config.history.maxOutput }),
    sessions: new SessionStore(db),
    tokens: new TokenStore(db),
    audit: new AuditLog(db),
    close: () => db.close(),
  };
}
