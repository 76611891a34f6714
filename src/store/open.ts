import path from 'node:path';
import type Database from 'better-sqlite3';
import type { Config } from '../config/load.js';
import { AuditLog, SessionStore, TokenStore } from './auth-store.js';
import { openDatabase } from './database.js';
import type { RunHistory } from './history.js';
import { SqliteHistory } from './sqlite-history.js';
import { WriteBatch } from './write-batch.js';

/** Everything Porthole keeps about itself, in one SQLite file in the data directory. */
export interface Store {
  history: RunHistory;
  sessions: SessionStore;
  tokens: TokenStore;
  audit: AuditLog;
  close(): void;
}

function storeFile(config: Config): string {
  return path.join(config.dataDir, 'porthole.db');
}

/**
 * Run records, audit lines and token use are written in batches (see write-batch.ts); a
 * batch that cannot be written is reported through onWriteError, since no caller waits for it.
 * Sessions are written at once: a login must hold before its answer is sent.
 */
export function openStore(config: Config, onWriteError: (error: unknown) => void): Store {
  const db: Database.Database = openDatabase(storeFile(config));
  const batch = new WriteBatch(db, onWriteError);
  return {
    history: new SqliteHistory(db, { maxRuns: config.history.maxRuns, maxAgeMs: config.history.maxAge, maxOutputBytes: config.history.maxOutput }, batch),
    sessions: new SessionStore(db),
    tokens: new TokenStore(db, batch),
    audit: new AuditLog(db, batch),
    close: () => {
      batch.flush();
      db.close();
    },
  };
}
