import { describe, expect, it } from 'vitest';
import { chartData } from '../../src/http/renderers/chart-data.js';
import { paramForm } from '../../src/http/renderers/form.js';
import { escapeHtml, outputHtml, tableHtml } from '../../src/http/renderers/html.js';
import { cardResult } from '../../src/http/renderers/result-view.js';
import { tableToCsv } from '../../src/http/renderers/csv.js';
import { tableToText } from '../../src/http/renderers/text-table.js';
import type { TableResult, TextResult } from '../../src/core/result.js';
import { configFrom } from '../helpers/config.js';

const HOSTILE = `<script>alert("x")</script><img src=x onerror='y'>&amp;`;

const table = (columns: string[], rows: (string | number | null)[][]) => ({ columns: columns.map((name) => ({ name, type: 'text' })), rows, truncated: false });

describe('HTML escaping', () => {
  it('escapes every character that could open markup or end an attribute', () => {
    expect(escapeHtml(HOSTILE)).not.toMatch(/[<>"']/);
    expect(escapeHtml('&')).toBe('&#38;');
  });

  it('escapes cells, column names and command output', () => {
    const html = tableHtml(table([HOSTILE], [[HOSTILE]]), { sortable: true });
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(outputHtml(HOSTILE, HOSTILE, { stdout: false, stderr: false })).not.toContain('<script');
  });

  it('marks numeric columns and keeps NULL distinct from the text "NULL"', () => {
    const html = tableHtml(table(['n', 's'], [[1, 'NULL'], [null, 'x']]));
    expect(html).toContain('<th scope="col" class="num">n</th>');
    expect(html).toContain('<td class="null">NULL</td>');
    expect(html).toContain('<td>NULL</td>');
  });
});

describe('forms', () => {
  const config = configFrom(`actions:
  a:
    command: [echo, "{{name}}", "{{n}}", "{{kind}}", "{{flag}}", "{{day}}"]
    params:
      name: { type: string, label: "Name <b>", maxLength: 10, pattern: "[a-z]+" }
      n: { type: integer, min: 1, max: 5, default: 2 }
      kind: { type: enum, values: [{ value: a, label: "Option <A>" }, b], required: false }
      flag: { type: boolean }
      day: { type: date, required: false }
`);
  const action = config.actions.get('a')!;

  it('uses the right control per type, with limits and defaults, all labelled', () => {
    const html = paramForm(action, { values: {}, problems: [] });
    expect(html).toContain('<label for="param-name">Name &#60;b&#62;</label>');
    expect(html).toMatch(/<input id="param-name" name="name" required type="text" maxlength="10" pattern="\[a-z\]\+"/);
    expect(html).toMatch(/<input id="param-n" name="n" type="number" step="1" min="1" max="5" value="2"/);
    expect(html).toContain('<option value="a">Option &#60;A&#62;</option>');
    expect(html).toContain('type="checkbox" value="true"');
    expect(html).toContain('type="date"');
    expect(html).toContain('method="post"');
    expect(html).toContain('data-stream="true"');
  });

  it('shows a problem next to its field and keeps what was typed, escaped', () => {
    const html = paramForm(action, { values: { name: HOSTILE }, problems: [{ param: 'name', reason: 'does not match the required pattern', allowed: 'x' }] });
    expect(html).toContain('aria-invalid="true"');
    expect(html).toContain('aria-describedby="param-name-error"');
    expect(html).toMatch(/<p class="field-error" id="param-name-error">Name &#60;b&#62; does not match the required pattern\. Allowed: /);
    expect(html).not.toContain('<script');
  });

  it('gives booleans a false default, so an unticked box is a valid "no"', () => {
    expect(action.params.find((p) => p.name === 'flag')).toMatchObject({ default: false, required: false });
  });
});

describe('charts', () => {
  it('draws one dataset per y column', () => {
    expect(chartData(table(['x', 'a', 'b'], [['p', 1, '2.5'], ['q', 3, null]]), { type: 'bar', x: 'x', y: ['a', 'b'] })).toEqual({
      type: 'bar',
      labels: ['p', 'q'],
      datasets: [{ label: 'a', data: [1, 3] }, { label: 'b', data: [2.5, null] }],
    });
  });

  it('splits rows into series, aligned on the shared x labels', () => {
    const rows = [['jan', 'north', 1], ['jan', 'south', 2], ['feb', 'south', 4]];
    expect(chartData(table(['m', 'r', 'v'], rows), { type: 'line', x: 'm', y: ['v'], series: 'r' })).toEqual({
      type: 'line',
      labels: ['jan', 'feb'],
      datasets: [{ label: 'north', data: [1, null] }, { label: 'south', data: [2, 4] }],
    });
  });

  it('names the columns a chart needs but the result lacks', () => {
    expect(chartData(table(['x'], []), { type: 'pie', x: 'x', y: ['nope'] })).toEqual({ missing: ['nope'] });
  });
});

describe('cards', () => {
  const config = configFrom(`actions:
  one: { command: [date], safe: true }
`);
  const action = config.actions.get('one')!;
  const base = { runId: 'r', actionId: 'one', startedAt: '2026-01-01T00:00:00Z', durationMs: 1, outcome: 'succeeded' as const };

  it('shows a single value as a big figure', () => {
    const result: TableResult = { ...base, kind: 'table', columns: [{ name: 'failed', type: 'bigint' }], rows: [[12345]], truncated: false };
    expect(cardResult(action, result)).toContain('<span class="value">12,345</span><span class="caption">failed</span>');
  });

  it('shows the last lines of output, escaped', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n') + `\n${HOSTILE}\n`;
    const result: TextResult = { ...base, kind: 'text', stdout: lines, stderr: '', exitCode: 0, signal: null, truncated: { stdout: false, stderr: false } };
    const html = cardResult(action, result);
    expect(html).not.toContain('line 12');
    expect(html).toContain('line 19');
    expect(html).not.toContain('<script');
  });
});

describe('text and CSV', () => {
  it('text tables escape control characters so output cannot drive the terminal', () => {
    expect(tableToText(table(['c'], [['a\u001b[31mred\nb']]))).toContain('a\\x1b[31mred\\nb');
  });

  it('CSV quotes what needs quoting and leaves NULL empty', () => {
    expect(tableToCsv(table(['a', 'b'], [['x,y', null], ['"q"', 2]]))).toBe('a,b\n"x,y",\n"""q""",2\n');
  });
});
