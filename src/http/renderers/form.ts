import type { Action, ParamSpec } from '../../core/action.js';
import type { ParamProblem } from '../../core/errors.js';
import { describeAllowed, enumValues } from '../../core/params.js';
import { csrfField, escapeHtml } from './html.js';

/** What the form shows: the values as the person typed them, and the server's verdict on each. */
export interface FormState {
  values: Record<string, unknown>;
  problems: readonly ParamProblem[];
}

const attr = (name: string, value: string | number | undefined): string => (value === undefined ? '' : ` ${name}="${escapeHtml(String(value))}"`);

function shown(spec: ParamSpec, state: FormState): string | undefined {
  const value = state.values[spec.name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Object.hasOwn(state.values, spec.name)) return undefined;
  return spec.default === undefined || (spec.type === 'string' && spec.secret) ? undefined : String(spec.default);
}

function control(spec: ParamSpec, id: string, value: string | undefined, describedBy: string, invalid: boolean): string {
  const common = `id="${id}" name="${escapeHtml(spec.name)}"${spec.required ? ' required' : ''}${attr('aria-describedby', describedBy || undefined)}${invalid ? ' aria-invalid="true"' : ''}`;
  switch (spec.type) {
    case 'string':
      if (spec.multiline) return `<textarea ${common} rows="4"${attr('maxlength', spec.maxLength)}${attr('minlength', spec.minLength)}>${escapeHtml(value ?? '')}</textarea>`;
      return `<input ${common} type="${spec.secret ? 'password' : 'text'}"${attr('value', value)}${attr('maxlength', spec.maxLength)}${attr('minlength', spec.minLength)}${attr('pattern', spec.pattern)} autocomplete="off">`;
    case 'integer':
    case 'number':
      return `<input ${common} type="number"${attr('step', spec.type === 'integer' ? 1 : 'any')}${attr('min', spec.min)}${attr('max', spec.max)}${attr('value', value)}${spec.type === 'integer' ? ' inputmode="numeric"' : ' inputmode="decimal"'}>`;
    case 'boolean':
      return `<input id="${id}" name="${escapeHtml(spec.name)}" type="checkbox" value="true"${value === 'true' ? ' checked' : ''}${attr('aria-describedby', describedBy || undefined)}>`;
    case 'enum': {
      const labels = new Map(spec.values.map((v) => (typeof v === 'string' ? [v, v] : [v.value, v.label ?? v.value])));
      const empty = spec.required ? '' : `<option value=""${value ? '' : ' selected'}>—</option>`;
      const options = enumValues(spec).map((v) => `<option value="${escapeHtml(v)}"${v === value ? ' selected' : ''}>${escapeHtml(labels.get(v) ?? v)}</option>`);
      return `<select ${common}>${empty}${options.join('')}</select>`;
    }
    case 'date':
      return `<input ${common} type="date"${attr('value', value)}>`;
    case 'datetime':
      return `<input ${common} type="datetime-local" step="1"${attr('value', value?.replace(' ', 'T'))}>`;
  }
}

function field(spec: ParamSpec, state: FormState): string {
  const id = `param-${spec.name}`;
  const problem = state.problems.find((p) => p.param === spec.name);
  const help = spec.description ? `<p class="help" id="${id}-help">${escapeHtml(spec.description)}</p>` : '';
  const error = problem ? `<p class="field-error" id="${id}-error">${escapeHtml(`${spec.label} ${problem.reason}. Allowed: ${describeAllowed(spec)}.`)}</p>` : '';
  const describedBy = [help && `${id}-help`, error && `${id}-error`].filter(Boolean).join(' ');
  const input = control(spec, id, shown(spec, state), describedBy, problem !== undefined);
  const label = `<label for="${id}">${escapeHtml(spec.label)}${spec.required || spec.default !== undefined ? '' : ' <span class="optional">(optional)</span>'}</label>`;
  const layout = spec.type === 'boolean' ? `<div class="field checkbox">${input}${label}${help}${error}</div>` : `<div class="field">${label}${input}${help}${error}</div>`;
  return layout;
}

/**
 * The form for an action's parameters. Safe actions use GET (the result is a link you can
 * share); others POST. It works without JavaScript; the script adds live output.
 */
export function paramForm(action: Action, state: FormState, csrf?: string): string {
  const method = action.safe ? 'get' : 'post';
  const general = state.problems.filter((p) => !action.params.some((s) => s.name === p.param));
  const generalErrors = general.length > 0 ? `<div class="error" role="alert">${general.map((p) => `<p>${escapeHtml(`${p.param}: ${p.reason}`)}</p>`).join('')}</div>` : '';
  const stream = action.kind === 'command' ? ' data-stream="true"' : '';
  const confirm = action.confirm ? ` data-confirm="${escapeHtml(action.confirm)}"` : '';
  return `<form id="run-form" class="run-form" method="${method}" action="/actions/${escapeHtml(action.id)}" data-action="${escapeHtml(action.id)}"${stream}${confirm} novalidate>
${generalErrors}${action.safe ? '' : csrfField(csrf)}${action.params.map((p) => field(p, state)).join('\n')}
<div class="buttons"><button type="submit" id="run-button" class="primary">Run</button><button type="button" id="cancel-button" hidden>Cancel</button></div>
</form>`;
}

/** The confirmation step for actions with `confirm:`, carrying the parameters as they were given. */
export function confirmForm(action: Action, values: Record<string, unknown>, csrf?: string): string {
  const hidden = Object.entries(values)
    .filter(([name, value]) => !name.startsWith('_') && typeof value === 'string')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value as string)}">`)
    .join('');
  return `<form method="post" action="/actions/${escapeHtml(action.id)}" class="confirm">
<p class="question">${escapeHtml(action.confirm ?? '')}</p>
${hidden}${csrfField(csrf)}<input type="hidden" name="_confirm" value="yes">
<div class="buttons"><button type="submit" class="primary danger" autofocus>Yes, run it</button><a class="button" href="/actions/${escapeHtml(action.id)}">Cancel</a></div>
</form>`;
}
