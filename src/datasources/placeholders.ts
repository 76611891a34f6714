import { PortholeError } from '../core/errors.js';
import type { ParamValue } from '../core/params-types.js';

/**
 * `:name` placeholders in operator SQL, translated to what each driver binds:
 * `?` for MySQL and SQLite (one value per occurrence), `$n` for PostgreSQL (one value per
 * distinct name). Quoted text, comments, casts (`::int`), assignments (`:=`) and slices
 * (`a[1:2]`, `a[lo:hi]`) are left alone. A single left-to-right scan: no backtracking.
 */
export type Dialect = 'mysql' | 'postgres' | 'sqlite';

export interface TranslatedSql {
  sql: string;
  /** The parameter bound at each position: `$i` / the i-th `?` takes `names[i - 1]`. */
  names: string[];
}

interface Placeholder {
  start: number;
  end: number;
  name: string;
}

const QUOTE = 39; // '
const DQUOTE = 34; // "
const BACKTICK = 96; // `
const BACKSLASH = 92;
const COLON = 58;
const DASH = 45;
const HASH = 35;
const SLASH = 47;
const STAR = 42;
const DOLLAR = 36;
const LBRACKET = 91;

const UNICODE_START = /^[\p{L}_]$/u;
const UNICODE_PART = /^[\p{L}\p{N}_]$/u;

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isNameStart(sql: string, i: number): boolean {
  const c = sql.charCodeAt(i);
  if (isAsciiLetter(c) || c === 95) return true;
  return c >= 128 && UNICODE_START.test(String.fromCodePoint(sql.codePointAt(i) ?? 0));
}

/** Length in UTF-16 units of the name character at `i`, or 0 when there is none. */
function namePartLength(sql: string, i: number): number {
  const c = sql.charCodeAt(i);
  if (isAsciiLetter(c) || isDigit(c) || c === 95) return 1;
  if (c < 128 || Number.isNaN(c)) return 0;
  const ch = String.fromCodePoint(sql.codePointAt(i) ?? 0);
  return UNICODE_PART.test(ch) ? ch.length : 0;
}

/** Identifier characters, including `$` (PostgreSQL and MySQL allow it inside names). */
function isWordChar(c: number): boolean {
  return isAsciiLetter(c) || isDigit(c) || c === 95 || c === DOLLAR || c >= 128;
}

/** Index just past a quoted section opened at `i` by `quote`; doubled quotes escape. */
function skipQuoted(sql: string, i: number, quote: number, backslashEscapes: boolean): number {
  let j = i + 1;
  while (j < sql.length) {
    const c = sql.charCodeAt(j);
    if (backslashEscapes && c === BACKSLASH) {
      j += 2;
    } else if (c === quote) {
      if (sql.charCodeAt(j + 1) === quote) j += 2;
      else return j + 1;
    } else {
      j++;
    }
  }
  return sql.length;
}

function skipLine(sql: string, i: number): number {
  const end = sql.indexOf('\n', i);
  return end === -1 ? sql.length : end + 1;
}

/** PostgreSQL block comments nest; MySQL's and SQLite's do not. */
function skipBlockComment(sql: string, i: number, nested: boolean): number {
  let depth = 1;
  let j = i + 2;
  while (j < sql.length) {
    const c = sql.charCodeAt(j);
    if (c === STAR && sql.charCodeAt(j + 1) === SLASH) {
      j += 2;
      if (--depth === 0) return j;
    } else if (nested && c === SLASH && sql.charCodeAt(j + 1) === STAR) {
      depth++;
      j += 2;
    } else {
      j++;
    }
  }
  return sql.length;
}

/** `$tag$` at `i` (tag empty or an identifier not starting with a digit), or undefined. */
function dollarTag(sql: string, i: number): string | undefined {
  let j = i + 1;
  if (sql.charCodeAt(j) === DOLLAR) return '$$';
  if (!isNameStart(sql, j)) return undefined;
  while (j < sql.length) {
    const c = sql.charCodeAt(j);
    if (c === DOLLAR) return sql.slice(i, j + 1);
    const n = namePartLength(sql, j);
    if (n === 0) return undefined;
    j += n;
  }
  return undefined;
}

function isMysqlLineComment(sql: string, i: number): boolean {
  // MySQL needs whitespace (or the end) after `--`, so `5--3` stays arithmetic.
  const next = sql.charCodeAt(i + 2);
  return Number.isNaN(next) || next <= 32;
}

function scan(sql: string, dialect: Dialect): Placeholder[] {
  const found: Placeholder[] = [];
  const mysql = dialect === 'mysql';
  const postgres = dialect === 'postgres';
  let i = 0;
  while (i < sql.length) {
    const c = sql.charCodeAt(i);
    const prev = i > 0 ? sql.charCodeAt(i - 1) : NaN;
    if (c === QUOTE) {
      // PostgreSQL E'...' strings take backslash escapes; plain strings do not.
      const eString = postgres && (prev === 69 || prev === 101) && !(i > 1 && isWordChar(sql.charCodeAt(i - 2)));
      i = skipQuoted(sql, i, QUOTE, mysql || eString);
    } else if (c === DQUOTE) {
      i = skipQuoted(sql, i, DQUOTE, mysql);
    } else if (c === BACKTICK && !postgres) {
      i = skipQuoted(sql, i, BACKTICK, false);
    } else if (c === LBRACKET && dialect === 'sqlite') {
      const end = sql.indexOf(']', i + 1);
      i = end === -1 ? sql.length : end + 1;
    } else if (c === DASH && sql.charCodeAt(i + 1) === DASH && (!mysql || isMysqlLineComment(sql, i))) {
      i = skipLine(sql, i);
    } else if (c === HASH && mysql) {
      i = skipLine(sql, i);
    } else if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      i = skipBlockComment(sql, i, postgres);
    } else if (c === DOLLAR && postgres && !isWordChar(prev)) {
      const tag = dollarTag(sql, i);
      if (tag === undefined) {
        i++;
      } else {
        const end = sql.indexOf(tag, i + tag.length);
        i = end === -1 ? sql.length : end + tag.length;
      }
    } else if (c === COLON) {
      if (sql.charCodeAt(i + 1) === COLON) {
        // A cast (`::int`); skip both colons so the type name is not read as a placeholder.
        i += 2;
      } else if (isNameStart(sql, i + 1) && !isWordChar(prev)) {
        // Preceded by a name or digit it is a slice bound (`a[lo:hi]`), not a placeholder.
        let j = i + 1;
        let n: number;
        while ((n = namePartLength(sql, j)) > 0) j += n;
        found.push({ start: i, end: j, name: sql.slice(i + 1, j) });
        i = j;
      } else {
        i++;
      }
    } else {
      i++;
    }
  }
  return found;
}

export function translatePlaceholders(sql: string, dialect: Dialect): TranslatedSql {
  const found = scan(sql, dialect);
  const names: string[] = [];
  const parts: string[] = [];
  let last = 0;
  for (const p of found) {
    parts.push(sql.slice(last, p.start));
    if (dialect === 'postgres') {
      let index = names.indexOf(p.name);
      if (index === -1) index = names.push(p.name) - 1;
      parts.push(`$${index + 1}`);
    } else {
      names.push(p.name);
      parts.push('?');
    }
    last = p.end;
  }
  parts.push(sql.slice(last));
  return { sql: parts.join(''), names };
}

/**
 * `translatePlaceholders` for one datasource, remembering each SQL text it has seen: an
 * action's SQL never changes, so it is scanned once, not on every run. Only operator SQL
 * from the config reaches a datasource, and a reload makes new ones, so this stays small.
 */
export function placeholderTranslator(dialect: Dialect): (sql: string) => TranslatedSql {
  const seen = new Map<string, TranslatedSql>();
  return (sql) => {
    let translated = seen.get(sql);
    if (translated === undefined) {
      translated = translatePlaceholders(sql, dialect);
      seen.set(sql, translated);
    }
    return translated;
  };
}

/** Distinct placeholder names in order of first use, for checking them against declared params. */
export function placeholderNames(sql: string, dialect: Dialect): string[] {
  return [...new Set(scan(sql, dialect).map((p) => p.name))];
}

/** The values to bind, in placeholder order. A missing value is a bug upstream, not user error. */
export function bindValues(names: readonly string[], params: Readonly<Record<string, ParamValue>>): ParamValue[] {
  return names.map((name) => {
    const value = params[name];
    if (value === undefined || !Object.prototype.hasOwnProperty.call(params, name)) {
      throw new PortholeError('INTERNAL', `no value for SQL placeholder :${name}`);
    }
    return value;
  });
}
