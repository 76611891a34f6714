import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/config/load.js';
import type { Action } from '../../src/core/action.js';
import { ParamsInvalidError, PortholeError, type ParamProblem } from '../../src/core/errors.js';
import { validateParams } from '../../src/core/params.js';
import type { ParamValue } from '../../src/core/params-types.js';

/** Where the parameters of a test action end up. */
type Use = 'argv' | 'sql' | 'env';

/**
 * Builds an action the way an operator would: a small YAML config, parsed and compiled.
 * `params` maps each parameter name to its YAML (flow) spec.
 */
function actionWith(params: Record<string, string>, use: Use = 'argv'): Action {
  const names = Object.keys(params);
  const declared = names.map((name) => `      ${name}: ${params[name]}`);
  let body: string[];
  if (use === 'argv') {
    body = [`    command: [echo, ${names.map((n) => JSON.stringify(`{{${n}}}`)).join(', ')}]`];
  } else if (use === 'sql') {
    body = [`    query: { datasource: db, sql: ${JSON.stringify(`SELECT ${names.map((n) => `:${n}`).join(', ') || '1'}`)} }`];
  } else {
    body = [`    shell: ${JSON.stringify(names.map((n) => `echo "$PORTHOLE_PARAM_${n.toUpperCase()}"`).join('; ') || 'true')}`];
  }
  const text = [
    'datasources:',
    '  db: { driver: sqlite, path: test.db }',
    'actions:',
    '  test:',
    ...body,
    ...(names.length > 0 ? ['    params:', ...declared] : []),
    '',
  ].join('\n');
  const config = parseConfig(text, '/nonexistent/porthole.yaml', {});
  expect(config.warnings).toEqual([]);
  return config.actions.get('test')!;
}

function one(spec: string, use: Use = 'argv'): Action {
  return actionWith({ x: spec }, use);
}

function accepts(action: Action, input: Record<string, unknown>): Readonly<Record<string, ParamValue>> {
  return validateParams(action, input).values;
}

function rejects(action: Action, input: Record<string, unknown>): ParamsInvalidError {
  try {
    validateParams(action, input);
  } catch (error) {
    if (error instanceof ParamsInvalidError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

function problem(action: Action, value: unknown): ParamProblem {
  const error = rejects(action, { x: value });
  expect(error.problems).toHaveLength(1);
  expect(error.problems[0]!.param).toBe('x');
  return error.problems[0]!;
}

describe('integer', () => {
  const integer = one('{ type: integer }', 'sql');

  it.each([
    ['0', 0],
    ['12', 12],
    ['-3', -3],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    [5, 5],
    [-7, -7],
  ])('accepts %j as %j', (input, value) => {
    expect(accepts(integer, { x: input })).toEqual({ x: value });
  });

  it.each([
    '12abc',
    '1e3',
    ' 5',
    '5 ',
    '0x10',
    '+5',
    '007',
    '1.0',
    '1.5',
    '٣', // Arabic-Indic digit three
    '１２', // fullwidth digits
    '9007199254740993',
    '9007199254740992',
    '-',
    '--5',
    '1_000',
    '1,000',
    'NaN',
    'Infinity',
    '0b1',
    '5\n',
    '\u00a05',
  ])('rejects %j', (input) => {
    const p = problem(integer, input);
    expect(p.reason).toBe('is not a whole number');
    expect(p.allowed).toContain('whole number');
  });

  it.each([NaN, Infinity, -Infinity, 1.5, 2 ** 53, true, false])('rejects the JS value %s', (input) => {
    expect(problem(integer, input).reason).toBe('is not a whole number');
  });

  it.each([
    ['0', 'is below the minimum 1'],
    ['11', 'is above the maximum 10'],
    [11, 'is above the maximum 10'],
    [-5, 'is below the minimum 1'],
  ])('enforces min/max: %j', (input, reason) => {
    const ranged = one('{ type: integer, min: 1, max: 10 }', 'sql');
    const p = problem(ranged, input);
    expect(p.reason).toBe(reason);
    expect(p.allowed).toBe('a whole number written with the digits 0-9, at least 1, at most 10');
  });

  it.each([
    ['1', 1],
    ['10', 10],
  ])('accepts the bounds %j', (input, value) => {
    expect(accepts(one('{ type: integer, min: 1, max: 10 }', 'sql'), { x: input })).toEqual({ x: value });
  });
});

describe('number', () => {
  const number = one('{ type: number }', 'sql');

  it.each([
    ['12.5', 12.5],
    ['-3', -3],
    ['0', 0],
    ['0.25', 0.25],
    ['-0.5', -0.5],
    [3.5, 3.5],
  ])('accepts %j as %j', (input, value) => {
    expect(accepts(number, { x: input })).toEqual({ x: value });
  });

  it.each(['1e3', '.5', '5.', '1.2.3', '+1', ' 1', '1 ', '0x1', 'NaN', 'Infinity', '٣.٥', '１.５', '00.5', '1,5', '-.5'])('rejects %j', (input) => {
    const p = problem(number, input);
    expect(p.reason).toBe('is not a number');
    expect(p.allowed).toContain('no exponent');
  });

  it.each([NaN, Infinity, -Infinity, true])('rejects the JS value %s', (input) => {
    expect(problem(number, input).reason).toBe('is not a number');
  });

  it('enforces fractional min/max', () => {
    const ranged = one('{ type: number, min: 0.5, max: 1.5 }', 'sql');
    expect(accepts(ranged, { x: '0.5' })).toEqual({ x: 0.5 });
    expect(accepts(ranged, { x: '1.5' })).toEqual({ x: 1.5 });
    expect(problem(ranged, '0.49').reason).toBe('is below the minimum 0.5');
    expect(problem(ranged, '1.51').reason).toBe('is above the maximum 1.5');
  });
});

describe('boolean', () => {
  const boolean = one('{ type: boolean }', 'sql');

  it.each([
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['on', true],
    ['off', false],
    ['yes', true],
    ['no', false],
    ['TRUE', true],
    ['No', false],
    [true, true],
    [false, false],
    [1, true],
    [0, false],
  ])('accepts %j as %s', (input, value) => {
    expect(accepts(boolean, { x: input })).toEqual({ x: value });
  });

  it.each(['maybe', 'y', 'n', '2', ' true', 'true ', 'truee', 2, -1, 'null'])('rejects %j', (input) => {
    const p = problem(boolean, input);
    expect(p.reason).toBe('is not a yes/no value');
    expect(p.allowed).toBe('true or false');
  });
});

describe('enum', () => {
  const enumeration = one('{ type: enum, values: [a, B, { value: /var, label: Var } ] }', 'sql');

  it.each(['a', 'B', '/var'])('accepts exactly %j', (input) => {
    expect(accepts(enumeration, { x: input })).toEqual({ x: input });
  });

  it.each(['A', 'b', ' a', 'a ', 'Var', '/VAR', '/var/', 'a\u0000', 'ａ'])('rejects %j (exact, case-sensitive, untrimmed match only)', (input) => {
    const p = problem(enumeration, input);
    expect(p.reason).toBe('is not one of the allowed values');
    expect(p.allowed).toBe('one of a, B, /var');
  });

  it('a value starting with "-" in argv needs allowLeadingDash', () => {
    expect(problem(one('{ type: enum, values: [-h, -v] }'), '-h').reason).toContain('must not start with "-"');
    expect(accepts(one('{ type: enum, values: [-h, -v], allowLeadingDash: true }'), { x: '-h' })).toEqual({ x: '-h' });
  });
});

describe('date', () => {
  const date = one('{ type: date }', 'sql');

  it.each(['2024-02-29', '2023-12-31', '2000-02-29', '1970-01-01'])('accepts %j unchanged', (input) => {
    expect(accepts(date, { x: input })).toEqual({ x: input });
  });

  it.each(['2023-02-29', '2024-13-01', '2024-1-1', '2024-02-30', '2024-00-10', '2024-04-31', '1900-02-29', '24-01-01', '2024-01-01T00:00', '2024/01/01', ' 2024-01-01', '２０２４-01-01', '2024-01-0١', 'today'])(
    'rejects %j',
    (input) => {
      const p = problem(date, input);
      expect(p.reason).toBe('is not a valid date');
      expect(p.allowed).toBe('a date written YYYY-MM-DD');
    },
  );

  it('rejects a JS number', () => {
    expect(problem(date, 20240101).reason).toBe('is not a valid date');
  });
});

describe('datetime', () => {
  const datetime = one('{ type: datetime }', 'sql');

  it.each([
    ['2024-03-01T12:30:45Z', '2024-03-01 12:30:45'],
    ['2024-03-01T12:30Z', '2024-03-01 12:30:00'],
    ['2024-03-01T12:30:45+02:00', '2024-03-01 10:30:45'],
    ['2024-03-01T12:30:45-05:30', '2024-03-01 18:00:45'],
    ['2024-01-01T01:00:00+02:00', '2023-12-31 23:00:00'],
    ['2024-12-31T23:00:00-02:00', '2025-01-01 01:00:00'],
    ['2024-03-01T12:30:45.123Z', '2024-03-01 12:30:45'],
    ['2024-03-01T12:30:45+00:00', '2024-03-01 12:30:45'],
    // Without a zone: kept as written, only normalised.
    ['2024-03-01T12:30', '2024-03-01 12:30:00'],
    ['2024-03-01T12:30:45', '2024-03-01 12:30:45'],
    ['2024-03-01 12:30:45', '2024-03-01 12:30:45'],
    ['2024-02-29T23:59:59', '2024-02-29 23:59:59'],
  ])('accepts %j as %j', (input, value) => {
    expect(accepts(datetime, { x: input })).toEqual({ x: value });
  });

  it.each([
    '2024-03-01T24:00',
    '2024-03-01T12:60',
    '2024-03-01T12:30:60',
    '2024-03-01T99:00Z',
    '2023-02-29T00:00',
    '2024-03-01',
    '2024-03-01T1:00',
    '2024-03-01T12:00+15:00',
    '2024-03-01T12:00+02:60',
    '2024-03-01T12:00+02',
    '2024-03-01T12:00 Z',
    '2024-03-01t12:00',
    'now',
  ])('rejects %j', (input) => {
    const p = problem(datetime, input);
    expect(p.reason).toBe('is not a valid date and time');
    expect(p.allowed).toContain('YYYY-MM-DDTHH:MM');
  });
});

describe('string', () => {
  // A permissive string parameter that lands in argv.
  const text = one('{ type: string }');

  it.each([
    ['NUL', 'a\u0000b'],
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['CRLF', 'a\r\nb'],
    ['TAB', 'a\tb'],
    ['ESC', 'red\u001b[31m'],
    ['BEL', 'a\u0007'],
    ['DEL', 'a\u007f'],
    ['C1 NEL', 'a\u0085b'],
    ['C1 CSI', 'a\u009b31m'],
    ['U+2028 line separator', 'a\u2028b'],
    ['U+2029 paragraph separator', 'a\u2029b'],
    ['U+202E right-to-left override', 'abc\u202Etxt.exe'],
    ['U+202A left-to-right embedding', '\u202Aabc'],
    ['U+2066 left-to-right isolate', 'abc\u2066'],
    ['a lone high surrogate', 'a\uD800b'],
    ['a lone low surrogate', 'a\uDC00'],
    ['a reversed surrogate pair', '\uDE00\uD83D'],
  ])('rejects %s', (_name, input) => {
    const p = problem(text, input);
    expect(p.reason).toMatch(/control character|unpaired surrogate/);
    expect(p.allowed).toContain('no control characters');
  });

  it.each([
    ['$(id)'],
    ['`id`'],
    ['a; rm -rf /'],
    ['a | nc evil 1'],
    ['true && reboot'],
    [`it's "quoted"`],
    ['*.txt ~ ../../etc/passwd'],
    ['${HOME} $PATH %s %n'],
    ['> /etc/passwd < x 2>&1'],
    ['héllo wörld 日本語 😀'],
    ['  spaces  around  '],
    ['a\u00a0b\u200db'],
  ])('accepts shell metacharacters as plain data, unchanged: %j', (input) => {
    expect(accepts(text, { x: input })).toEqual({ x: input });
  });

  it('allows LF and TAB only when multiline, never CR or other controls', () => {
    const multi = one('{ type: string, multiline: true }');
    expect(accepts(multi, { x: 'line 1\nline 2\tcol' })).toEqual({ x: 'line 1\nline 2\tcol' });
    expect(problem(multi, 'a\r\nb').reason).toBe('contains a control character');
    expect(problem(multi, 'a\u0000').reason).toBe('contains a control character');
    expect(problem(multi, 'a\u2028').reason).toBe('contains a control character');
    expect(problem(multi, 'a\u202E').reason).toBe('contains a control character');
    expect(problem(multi, 'a\u001b').reason).toBe('contains a control character');
    expect(problem(text, 'a\tb').reason).toBe('contains a control character');
  });

  it.each([
    ['[a-z]+', 'abc', true],
    ['[a-z]+', 'abc1', false],
    ['[a-z]+', '1abc', false],
    ['[a-z]+', 'ab cd', false],
    ['a|b', 'a', true],
    ['a|b', 'ab', false],
    ['a|b', 'xa', false],
    ['\\d{3}', '123', true],
    ['\\d{3}', '1234', false],
    ['[a-z]+', 'abc\n', false],
  ])('pattern %j is anchored to the whole value: %j → %s', (pattern, input, ok) => {
    const patterned = one(`{ type: string, pattern: ${JSON.stringify(pattern)}, multiline: true }`);
    if (ok) expect(accepts(patterned, { x: input })).toEqual({ x: input });
    else expect(problem(patterned, input).reason).toBe('does not match the required pattern');
  });

  it('the allowed text names the pattern', () => {
    expect(problem(one('{ type: string, pattern: "[a-z]+" }'), 'A').allowed).toBe(
      'text of 0 to 1024 characters, on one line, no control characters, matching the pattern [a-z]+, not starting with "-"',
    );
  });

  it.each([
    ['😀😀😀', true],
    ['😀😀😀😀', false],
    ['abc', true],
    ['abcd', false],
    ['日本語', true],
  ])('maxLength 3 counts characters, not UTF-16 units: %j → %s', (input, ok) => {
    const short = one('{ type: string, maxLength: 3 }');
    if (ok) expect(accepts(short, { x: input })).toEqual({ x: input });
    else expect(problem(short, input).reason).toBe('is too long (4 characters)');
  });

  it.each([
    ['😀', false],
    ['😀😀', true],
    ['a', false],
    ['ab', true],
  ])('minLength 2 counts characters: %j → %s', (input, ok) => {
    const long = one('{ type: string, minLength: 2 }');
    if (ok) expect(accepts(long, { x: input })).toEqual({ x: input });
    else expect(problem(long, input).reason).toBe('is too short (1 characters)');
  });

  it('the default maxLength is 1024', () => {
    expect(accepts(text, { x: 'a'.repeat(1024) })).toEqual({ x: 'a'.repeat(1024) });
    expect(problem(text, 'a'.repeat(1025)).reason).toBe('is too long (1025 characters)');
  });

  it.each([5, true])('rejects the JS value %j for a string', (input) => {
    expect(problem(text, input).reason).toMatch(/^expected text/);
  });
});

describe('a leading "-" (option injection)', () => {
  it.each([
    { what: 'a string in argv', spec: '{ type: string }', use: 'argv' as const, value: '-rf', ok: false },
    { what: 'a string in argv, "--"', spec: '{ type: string }', use: 'argv' as const, value: '--help', ok: false },
    { what: 'a string in argv, "-" alone', spec: '{ type: string }', use: 'argv' as const, value: '-', ok: false },
    { what: 'a string in argv, dash later', spec: '{ type: string }', use: 'argv' as const, value: 'a-b', ok: true },
    { what: 'a string in argv with allowLeadingDash', spec: '{ type: string, allowLeadingDash: true }', use: 'argv' as const, value: '-rf', ok: true },
    { what: 'a string only in SQL', spec: '{ type: string }', use: 'sql' as const, value: '-rf', ok: true },
    { what: 'a string only in env (shell)', spec: '{ type: string }', use: 'env' as const, value: '--exec=x', ok: true },
    { what: 'an integer in argv', spec: '{ type: integer }', use: 'argv' as const, value: '-5', ok: false },
    { what: 'an integer in argv, as a JS number', spec: '{ type: integer }', use: 'argv' as const, value: -5, ok: false },
    { what: 'an integer in argv with allowLeadingDash', spec: '{ type: integer, allowLeadingDash: true }', use: 'argv' as const, value: '-5', ok: true },
    { what: 'a number in argv', spec: '{ type: number }', use: 'argv' as const, value: '-0.5', ok: false },
    { what: 'a number only in SQL', spec: '{ type: number }', use: 'sql' as const, value: '-0.5', ok: true },
  ])('$what: $value → $ok', ({ spec, use, value, ok }) => {
    const action = one(spec, use);
    if (ok) {
      expect(accepts(action, { x: value })).toEqual({ x: typeof value === 'string' && spec.includes('string') ? value : Number(value) });
    } else {
      const p = problem(action, value);
      expect(p.reason).toBe('must not start with "-" (it would be read as an option by the command)');
      expect(p.allowed).toContain('not starting with "-"');
    }
  });

  it('a dash in the middle of an argv element is still refused at the start of the value', () => {
    const config = parseConfig(
      ['actions:', '  a:', '    command: [grep, "--regexp={{x}}"]', '    params: { x: { type: string } }', ''].join('\n'),
      '/nonexistent/porthole.yaml',
      {},
    );
    expect(() => validateParams(config.actions.get('a')!, { x: '-e' })).toThrow(ParamsInvalidError);
  });
});

describe('presence: required, defaults, optional, unknown', () => {
  it('a missing required parameter is reported', () => {
    const error = rejects(one('{ type: string }'), {});
    expect(error.problems).toEqual([{ param: 'x', reason: 'is required', allowed: expect.any(String) as unknown }]);
  });

  it.each([undefined, null, ''])('%j counts as absent: required → error, default → default, optional → null', (absent) => {
    expect(rejects(one('{ type: integer }', 'sql'), { x: absent }).problems[0]!.reason).toBe('is required');
    expect(accepts(one('{ type: integer, default: 7 }', 'sql'), { x: absent })).toEqual({ x: 7 });
    expect(accepts(one('{ type: integer, required: false }', 'sql'), { x: absent })).toEqual({ x: null });
  });

  it.each([
    ['{ type: string, default: hello }', 'hello'],
    ['{ type: integer, default: 3 }', 3],
    ['{ type: number, default: 2.5 }', 2.5],
    ['{ type: boolean, default: false }', false],
    ['{ type: enum, values: [a, b], default: b }', 'b'],
    ['{ type: date, default: "2024-02-29" }', '2024-02-29'],
    ['{ type: datetime, default: "2024-03-01T12:00:00+01:00" }', '2024-03-01 11:00:00'],
  ])('applies the default of %s', (spec, value) => {
    expect(accepts(one(spec, 'sql'), {})).toEqual({ x: value });
  });

  it('a given value wins over the default', () => {
    expect(accepts(one('{ type: integer, default: 3 }', 'sql'), { x: '4' })).toEqual({ x: 4 });
  });

  it('an optional parameter without a default is null', () => {
    expect(accepts(one('{ type: string, required: false }'), {})).toEqual({ x: null });
  });

  it('unknown parameters are rejected, and the error lists the allowed names', () => {
    const action = actionWith({ alpha: '{ type: string }', beta: '{ type: string, required: false }' });
    const error = rejects(action, { alpha: 'ok', gamma: '1', beta: 'ok' });
    expect(error.problems).toEqual([{ param: 'gamma', reason: 'unknown parameter', allowed: 'one of alpha, beta' }]);
  });

  it('an action without parameters says it takes none', () => {
    const action = actionWith({});
    expect(accepts(action, {})).toEqual({});
    expect(rejects(action, { x: '1' }).problems).toEqual([{ param: 'x', reason: 'unknown parameter', allowed: 'none: this action takes no parameters' }]);
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('%j as an input name is just an unknown parameter', (name) => {
    const input = JSON.parse(`{${JSON.stringify(name)}: "x", "x": "ok"}`) as Record<string, unknown>;
    const error = rejects(one('{ type: string }'), input);
    expect(error.problems).toEqual([{ param: name, reason: 'unknown parameter', allowed: 'one of x' }]);
  });

  it('a parameter named like an Object.prototype member is not satisfied by the prototype', () => {
    const action = actionWith({ constructor: '{ type: string }' }, 'sql');
    expect(rejects(action, {}).problems[0]).toMatchObject({ param: 'constructor', reason: 'is required' });
    expect(accepts(action, { constructor: 'x' })).toEqual({ constructor: 'x' });
  });

  it('unknown names are echoed printable and short', () => {
    const error = rejects(one('{ type: string, required: false }'), { 'a\u001b[31m\nb': 1, ['n'.repeat(100)]: 1 });
    expect(error.problems.map((p) => p.param)).toEqual(['a?[31m?b', `${'n'.repeat(64)}…`]);
  });

  it.each([
    ['{ type: string }', ['a', 'b']],
    ['{ type: string }', { toString: 'x' }],
    ['{ type: integer }', [1]],
    ['{ type: boolean }', { value: true }],
    ['{ type: enum, values: [a] }', ['a']],
    ['{ type: date }', new Date(0)],
  ])('%s rejects the list or object %j', (spec, value) => {
    expect(problem(one(spec, 'sql'), value).reason).toBe('expected a single value, got a list or object');
  });

  it.each([[() => 1], [Symbol('x')], [10n]])('rejects a value of an unsupported JS type', (value) => {
    expect(problem(one('{ type: string }'), value).reason).toMatch(/^unsupported value of type/);
  });
});

describe('every problem is listed together', () => {
  it('one ParamsInvalidError carries one entry per bad parameter, with reason and allowed', () => {
    const action = actionWith({
      count: '{ type: integer, min: 1 }',
      name: '{ type: string, pattern: "[a-z]+" }',
      when: '{ type: date }',
      mode: '{ type: enum, values: [fast, slow] }',
      verbose: '{ type: boolean, default: false }',
      ok: '{ type: string }',
    });
    const error = rejects(action, { count: '0', name: 'Bad!', when: '2023-02-29', verbose: 'maybe', ok: 'fine', extra: 'x' });
    expect(error).toBeInstanceOf(PortholeError);
    expect(error.code).toBe('PARAMS_INVALID');
    expect(error.statusCode).toBe(400);
    expect(error.problems).toEqual([
      { param: 'extra', reason: 'unknown parameter', allowed: 'one of count, name, when, mode, verbose, ok' },
      { param: 'count', reason: 'is below the minimum 1', allowed: 'a whole number written with the digits 0-9, at least 1, not starting with "-"' },
      { param: 'name', reason: 'does not match the required pattern', allowed: 'text of 0 to 1024 characters, on one line, no control characters, matching the pattern [a-z]+, not starting with "-"' },
      { param: 'when', reason: 'is not a valid date', allowed: 'a date written YYYY-MM-DD' },
      { param: 'mode', reason: 'is required', allowed: 'one of fast, slow' },
      { param: 'verbose', reason: 'is not a yes/no value', allowed: 'true or false' },
    ]);
    for (const p of error.problems) expect(error.message).toContain(`${p.param}: ${p.reason} (allowed: ${p.allowed})`);
    expect(error.message).toMatch(/^invalid parameters for action "test":/);
  });

  it('valid input produces frozen values for exactly the declared parameters', () => {
    const action = actionWith({ a: '{ type: integer }', b: '{ type: string, required: false }', c: '{ type: boolean, default: true }' }, 'sql');
    const validated = validateParams(action, { a: '5' });
    expect(validated.actionId).toBe('test');
    expect(validated.values).toEqual({ a: 5, b: null, c: true });
    expect(Object.isFrozen(validated.values)).toBe(true);
  });
});
