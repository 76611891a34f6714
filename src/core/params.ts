import type { Action, ParamSpec } from './action.js';
import { ParamsInvalidError, type ParamProblem } from './errors.js';
import type { ParamValue, ValidatedParams } from './params-types.js';

/**
 * The only way to make a ValidatedParams: every value checked against its declared
 * type on the server before anything runs. All problems are reported together.
 */
export function validateParams(action: Action, input: Readonly<Record<string, unknown>>): ValidatedParams {
  const problems: ParamProblem[] = [];
  const known = new Set(action.params.map((p) => p.name));
  for (const name of Object.keys(input)) {
    if (!known.has(name)) {
      const takes = action.params.length > 0 ? `one of ${[...known].join(', ')}` : 'none: this action takes no parameters';
      problems.push({ param: printable(name), reason: 'unknown parameter', allowed: takes });
    }
  }
  const values: Record<string, ParamValue> = {};
  for (const spec of action.params) {
    const raw = Object.hasOwn(input, spec.name) ? input[spec.name] : undefined;
    const checked = checkParam(spec, raw);
    if ('reason' in checked) problems.push({ param: spec.name, reason: checked.reason, allowed: describeAllowed(spec) });
    else values[spec.name] = checked.value;
  }
  if (problems.length > 0) throw new ParamsInvalidError(action.id, problems);
  return { actionId: action.id, values: Object.freeze(values) } as unknown as ValidatedParams;
}

type Checked = { value: ParamValue } | { reason: string };

/** Validates one parameter; an absent or empty value takes the default, or is null when optional. */
export function checkParam(spec: ParamSpec, raw: unknown): Checked {
  if (raw === undefined || raw === null || raw === '') {
    if (spec.default !== undefined) return checkValue(spec, spec.default);
    return spec.required ? { reason: 'is required' } : { value: null };
  }
  return checkValue(spec, raw);
}

function checkValue(spec: ParamSpec, raw: unknown): Checked {
  if (Array.isArray(raw) || (typeof raw === 'object' && raw !== null)) return { reason: 'expected a single value, got a list or object' };
  if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') return { reason: `unsupported value of type ${typeof raw}` };
  const checked = checkTyped(spec, raw);
  if ('value' in checked && spec.inArgv && typeof checked.value !== 'boolean' && String(checked.value).startsWith('-')) {
    if (!('allowLeadingDash' in spec && spec.allowLeadingDash)) {
      return { reason: 'must not start with "-" (it would be read as an option by the command)' };
    }
  }
  return checked;
}

// Always refused in text: C0/C1 controls, DEL, bidi overrides and isolates, line/paragraph separators.
const FORBIDDEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;
const SINGLE_LINE_FORBIDDEN = /[\t\n]/;
// In a /u regex an unpaired surrogate is its own code point, of category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

function checkTyped(spec: ParamSpec, raw: string | number | boolean): Checked {
  switch (spec.type) {
    case 'string': {
      if (typeof raw !== 'string') return { reason: `expected text, got a ${typeof raw}` };
      if (LONE_SURROGATE.test(raw)) return { reason: 'contains an invalid (unpaired surrogate) character' };
      if (FORBIDDEN.test(raw) || (!spec.multiline && SINGLE_LINE_FORBIDDEN.test(raw))) {
        return { reason: 'contains a control character' };
      }
      const length = [...raw].length;
      if (spec.minLength !== undefined && length < spec.minLength) return { reason: `is too short (${length} characters)` };
      if (length > spec.maxLength) return { reason: `is too long (${length} characters)` };
      if (spec.regex && !spec.regex.test(raw)) return { reason: 'does not match the required pattern' };
      return { value: raw };
    }
    case 'integer':
    case 'number': {
      const value = parseNumber(raw, spec.type);
      if (value === undefined) return { reason: `is not ${spec.type === 'integer' ? 'a whole number' : 'a number'}` };
      if (spec.min !== undefined && value < spec.min) return { reason: `is below the minimum ${spec.min}` };
      if (spec.max !== undefined && value > spec.max) return { reason: `is above the maximum ${spec.max}` };
      return { value };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      const text = String(raw).toLowerCase();
      if (TRUE.has(text)) return { value: true };
      if (FALSE.has(text)) return { value: false };
      return { reason: 'is not a yes/no value' };
    }
    case 'enum': {
      const text = String(raw);
      return enumValues(spec).includes(text) ? { value: text } : { reason: 'is not one of the allowed values' };
    }
    case 'date': {
      const value = typeof raw === 'string' ? parseDate(raw) : undefined;
      return value === undefined ? { reason: 'is not a valid date' } : { value };
    }
    case 'datetime': {
      const value = typeof raw === 'string' ? parseDatetime(raw) : undefined;
      return value === undefined ? { reason: 'is not a valid date and time' } : { value };
    }
  }
}

const TRUE = new Set(['true', '1', 'on', 'yes']);
const FALSE = new Set(['false', '0', 'off', 'no']);

// ASCII digits only: other digit systems, exponents, hex, spaces and signs like "+" are refused.
const INTEGER = /^-?(0|[1-9][0-9]*)$/;
const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

function parseNumber(raw: string | number | boolean, type: 'integer' | 'number'): number | undefined {
  if (typeof raw === 'boolean') return undefined;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return undefined;
    return type === 'integer' && !Number.isSafeInteger(raw) ? undefined : raw;
  }
  if (!(type === 'integer' ? INTEGER : DECIMAL).test(raw)) return undefined;
  const value = Number(raw);
  if (type === 'integer' && !Number.isSafeInteger(value)) return undefined;
  return Number.isFinite(value) ? value : undefined;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/** `YYYY-MM-DD`, only for dates that exist on the calendar. */
function parseDate(text: string): string | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return text;
}

/**
 * Normalised to `YYYY-MM-DD HH:MM:SS`, the literal every supported database accepts.
 * A value with a zone is converted to UTC (database sessions run in UTC); one without is taken as written.
 */
function parseDatetime(text: string): string | undefined {
  const m = DATETIME.exec(text);
  if (!m) return undefined;
  const [, day, hh, mm, ss = '00', , zone] = m;
  if (parseDate(day!) === undefined || Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return undefined;
  if (!zone) return `${day} ${hh}:${mm}:${ss}`;
  if (zone !== 'Z') {
    const [zh, zm] = zone.slice(1).split(':').map(Number);
    if (zh! > 14 || zm! > 59) return undefined;
  }
  const instant = new Date(`${day}T${hh}:${mm}:${ss}${zone}`);
  if (Number.isNaN(instant.getTime())) return undefined;
  return instant.toISOString().slice(0, 19).replace('T', ' ');
}

export function enumValues(spec: Extract<ParamSpec, { type: 'enum' }>): string[] {
  return spec.values.map((v) => (typeof v === 'string' ? v : v.value));
}

/** What the parameter accepts, in words, for error messages and help. */
export function describeAllowed(spec: ParamSpec): string {
  const dash = 'inArgv' in spec && spec.inArgv && !('allowLeadingDash' in spec && spec.allowLeadingDash) ? ', not starting with "-"' : '';
  switch (spec.type) {
    case 'string': {
      const parts = [`text of ${spec.minLength ?? 0} to ${spec.maxLength} characters`];
      parts.push(spec.multiline ? 'line breaks and tabs allowed, no other control characters' : 'on one line, no control characters');
      if (spec.pattern) parts.push(`matching the pattern ${spec.pattern}`);
      return parts.join(', ') + dash;
    }
    case 'integer':
    case 'number': {
      const kind = spec.type === 'integer' ? 'a whole number written with the digits 0-9' : 'a decimal number such as 12.5 (digits 0-9, no exponent)';
      const range = [spec.min !== undefined ? `at least ${spec.min}` : '', spec.max !== undefined ? `at most ${spec.max}` : ''].filter(Boolean);
      return [kind, ...range].join(', ') + dash;
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${enumValues(spec).join(', ')}`;
    case 'date':
      return 'a date written YYYY-MM-DD';
    case 'datetime':
      return 'a date and time written YYYY-MM-DDTHH:MM[:SS], optionally with Z or ±HH:MM';
  }
}

/** Parameter names from requests are echoed in errors; keep them short and printable. */
function printable(name: string): string {
  const clean = name.replace(/[^\x20-\x7E]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean;
}

/** Parameter values safe to log and store: secret ones replaced by `***`. */
export function maskedValues(action: Action, params: ValidatedParams): Record<string, ParamValue> {
  const secret = new Set(action.params.filter((p) => p.type === 'string' && p.secret).map((p) => p.name));
  return Object.fromEntries(Object.entries(params.values).map(([name, value]) => [name, secret.has(name) && value !== null ? '***' : value]));
}
