import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type Database from 'better-sqlite3';
import { isoTime } from '../core/iso-time.js';
import { immediateWriter, type StoreWriter } from './write-batch.js';

/** A signed-in session as the server keeps it; the browser holds only an unguessable id. */
export interface SessionRecord {
  user: string;
  groups: string[];
  via: 'password' | 'oidc';
  createdAt: number;
  lastSeenAt: number;
  /** Absolute expiry (ms since epoch), whatever the activity. */
  expiresAt: number;
  /** Ties a password session to the password it was opened with: a changed password ends it. */
  fingerprint: string;
}

export interface TokenRecord {
  id: string;
  user: string;
  name: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
  revokedAt?: string;
}

export type AuditEventName = 'login' | 'login-failed' | 'logout' | 'token-used' | 'run' | 'denied';

export interface AuditEvent {
  at: string;
  event: AuditEventName;
  user?: string;
  ip?: string;
  action?: string;
  outcome?: string;
  detail?: string;
}

export interface AuditQuery {
  user?: string;
  action?: string;
  since?: string;
  limit: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  data TEXT NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user);
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  last_used_at TEXT,
  revoked_at TEXT,
  UNIQUE (user, name)
);
CREATE TABLE IF NOT EXISTS audit (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  event TEXT NOT NULL,
  user TEXT,
  ip TEXT,
  action TEXT,
  outcome TEXT,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit (at);
`;

/** `ph_<id>_<secret>`: 9 random bytes and 24 random bytes, base64url. */
const TOKEN = /^ph_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{32})$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Server-side sessions, keyed by a hash of the id so a copy of the database opens no session. */
export class SessionStore {
  // Prepared once: a session is looked up (and touched) on every signed-in request.
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;
  private readonly touch: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.insert = db.prepare('INSERT INTO sessions (id_hash, user, data, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)');
    this.select = db.prepare('SELECT data, last_seen_at, expires_at FROM sessions WHERE id_hash = ?');
    this.touch = db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?');
    this.remove = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
  }

  /** Opens a session and returns the id for the cookie. A new id every time: no fixation. */
  create(record: SessionRecord): string {
    const id = randomBytes(32).toString('base64url');
    this.insert.run(sha256(id), record.user, JSON.stringify(record), record.lastSeenAt, record.expiresAt);
    return id;
  }

  /** The session if it exists and has not expired (idle or absolute); an expired one is removed. */
  get(id: string, idleMs: number, now = Date.now()): SessionRecord | undefined {
    const hash = sha256(id);
    const row = this.select.get(hash) as
      | { data: string; last_seen_at: number; expires_at: number }
      | undefined;
    if (!row) return undefined;
    if (now >= row.expires_at || now - row.last_seen_at >= idleMs) {
      this.remove.run(hash);
      return undefined;
    }
    this.touch.run(now, hash);
    return { ...(JSON.parse(row.data) as SessionRecord), lastSeenAt: now };
  }

  delete(id: string): void {
    this.remove.run(sha256(id));
  }

  deleteForUser(user: string): number {
    return this.db.prepare('DELETE FROM sessions WHERE user = ?').run(user).changes;
  }

  prune(idleMs: number, now = Date.now()): number {
    return this.db.prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?').run(now, now - idleMs).changes;
  }
}

/**
 * API tokens: `ph_<id>_<secret>`, shown once; only a hash of the secret is kept. The
 * secret is 192 random bits, so a fast hash is enough.
 */
export class TokenStore {
  // Prepared once: a token is checked, and its use recorded, on every API request that carries one.
  private readonly select: Database.Statement;
  private readonly markUsed: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: StoreWriter = immediateWriter,
  ) {
    db.exec(SCHEMA);
    this.select = db.prepare('SELECT * FROM tokens WHERE id = ?');
    this.markUsed = db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?');
  }

  create(user: string, name: string, expiresAt?: Date): { token: string; record: TokenRecord } {
    let id = randomBytes(9).toString('base64url');
    // An id starting with "-" would read as an option on the command line (porthole token revoke ID).
    while (id.startsWith('-')) id = randomBytes(9).toString('base64url');
    const secret = randomBytes(24).toString('base64url');
    const createdAt = new Date().toISOString();
    try {
      this.db
        .prepare('INSERT INTO tokens (id, user, name, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, user, name, sha256(secret), createdAt, expiresAt?.toISOString() ?? null);
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new Error(`user ${user} already has a token named "${name}"; revoke it or choose another name`, { cause: error });
      throw error;
    }
    return { token: `ph_${id}_${secret}`, record: { id, user, name, createdAt, ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}) } };
  }

  /** The token's record when it is valid (known, not revoked, not expired); records its use. */
  verify(token: string, now = new Date()): TokenRecord | undefined {
    const m = TOKEN.exec(token);
    if (!m) return undefined;
    const row = this.select.get(m[1]) as TokenRow | undefined;
    if (!row) return undefined;
    const given = Buffer.from(sha256(m[2]!), 'hex');
    const stored = Buffer.from(row.secret_hash, 'hex');
    if (given.length !== stored.length || !timingSafeEqual(given, stored)) return undefined;
    if (row.revoked_at || (row.expires_at && Date.parse(row.expires_at) <= now.getTime())) return undefined;
    const usedAt = isoTime(now.getTime());
    this.writer.write(() => this.markUsed.run(usedAt, row.id));
    return toToken({ ...row, last_used_at: usedAt });
  }

  list(user?: string): TokenRecord[] {
    this.writer.flush();
    const rows = (user === undefined
      ? this.db.prepare('SELECT * FROM tokens ORDER BY created_at').all()
      : this.db.prepare('SELECT * FROM tokens WHERE user = ? ORDER BY created_at').all(user)) as TokenRow[];
    return rows.map(toToken);
  }

  /** Revokes by id, or by user and name. Returns whether a live token was revoked. */
  revoke(which: { id: string } | { user: string; name: string }, now = new Date()): boolean {
    const result =
      'id' in which
        ? this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now.toISOString(), which.id)
        : this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE user = ? AND name = ? AND revoked_at IS NULL').run(now.toISOString(), which.user, which.name);
    return result.changes > 0;
  }
}

interface TokenRow {
  id: string;
  user: string;
  name: string;
  secret_hash: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

function toToken(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    user: row.user,
    name: row.name,
    createdAt: row.created_at,
    ...(row.expires_at ? { expiresAt: row.expires_at } : {}),
    ...(row.last_used_at ? { lastUsedAt: row.last_used_at } : {}),
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
  };
}

/** Who did what, when, from where: logins, token use, runs and refusals. */
export class AuditLog {
  private readonly insert: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    private readonly writer: StoreWriter = immediateWriter,
  ) {
    db.exec(SCHEMA);
    this.insert = db.prepare('INSERT INTO audit (at, event, user, ip, action, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?)');
  }

  record(event: Omit<AuditEvent, 'at'>, at = new Date()): void {
    const row = [isoTime(at.getTime()), event.event, event.user ?? null, event.ip ?? null, event.action ?? null, event.outcome ?? null, event.detail ?? null];
    this.writer.write(() => this.insert.run(row));
  }

  query(query: AuditQuery): AuditEvent[] {
    this.writer.flush();
    const filters = [
      ['user = ?', query.user],
      ['action = ?', query.action],
      ['at >= ?', query.since],
    ].filter(([, value]) => value !== undefined) as [string, string][];
    const where = filters.map(([clause]) => clause);
    const args = filters.map(([, value]) => value);
    const sql = `SELECT at, event, user, ip, action, outcome, detail FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, query.limit) as Record<string, string | null>[];
    return rows.map((row) => Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)) as unknown as AuditEvent);
  }

  prune(before: string): number {
    this.writer.flush();
    return this.db.prepare('DELETE FROM audit WHERE at < ?').run(before).changes;
  }
}
