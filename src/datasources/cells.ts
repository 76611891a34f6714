import type { Cell } from '../core/result.js';

/**
 * Value normalisation shared by the drivers, so a cell means the same thing whichever
 * database it came from: no precision is lost (big integers and long decimals stay exact
 * strings), temporal values are ISO 8601 text, binary is base64.
 */

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?$/;
/** A double holds every decimal of up to 15 significant digits exactly (round trip). */
const MAX_EXACT_DIGITS = 15;

/** Integers as numbers while they fit a double exactly, else exact decimal strings. */
export function integerCell(value: string | number | bigint): Cell {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (!INTEGER.test(value)) return value;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

/** DECIMAL/NUMERIC text: a number when at most 15 significant digits, else the exact text. */
export function decimalCell(text: string): Cell {
  const m = DECIMAL.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return text; // NaN, Infinity and the like
  const whole = (m[2] ?? '').replace(/^0+/, '');
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  const digits = whole === '' ? fraction.replace(/^0+/, '') : whole + fraction;
  return digits.length <= MAX_EXACT_DIGITS ? Number(text) : text;
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` (no zone) to `YYYY-MM-DDTHH:MM:SS[.ffffff]`. */
export function localDateTimeCell(text: string): string {
  return /^\d{4}-\d\d-\d\d \d/.test(text) ? `${text.slice(0, 10)}T${text.slice(11)}` : text;
}

const ZONED = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?|Z)?$/;

/**
 * A point in time as ISO 8601 in UTC (`...Z`). Text without an offset is already UTC
 * (sessions run in UTC); an offset is applied, keeping the fractional digits exact.
 */
export function utcTimestampCell(text: string): string {
  const m = ZONED.exec(text);
  if (!m) return text; // infinity, BC dates: as the database printed them
  const [, y, mo, d, h, mi, s, frac = '', sign, oh = '0', om = '0', os = '0'] = m;
  const time = new Date(0);
  time.setUTCFullYear(Number(y), Number(mo) - 1, Number(d)); // Date.UTC would map years 0-99 to 19xx
  time.setUTCHours(Number(h), Number(mi), Number(s), 0);
  if (sign !== undefined) {
    const offsetMs = (Number(oh) * 3600 + Number(om) * 60 + Number(os)) * 1000;
    time.setTime(time.getTime() + (sign === '+' ? -offsetMs : offsetMs));
  }
  return `${time.toISOString().slice(0, -5)}${frac}Z`;
}

export function binaryCell(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
}

/** PostgreSQL's text form of bytea (`\x0a0b...`) to base64. */
export function pgByteaCell(text: string): string {
  return text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex').toString('base64') : text;
}

/** Anything else a driver may hand over, reduced to a Cell. */
export function genericCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return integerCell(value);
  if (value instanceof Uint8Array) return binaryCell(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}
