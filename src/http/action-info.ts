import type { Action, ParamSpec } from '../core/action.js';
import { formatDuration } from '../config/units.js';

/** An action as the API lists it: what it is and what parameters it takes. Never its command or SQL. */
export function actionInfo(action: Action) {
  return {
    id: action.id,
    title: action.title,
    ...(action.description ? { description: action.description } : {}),
    kind: action.kind,
    safe: action.safe,
    ...(action.path ? { path: action.path } : {}),
    timeout: formatDuration(action.timeoutMs),
    ...(action.cacheMs !== undefined ? { cache: formatDuration(action.cacheMs) } : {}),
    params: action.params.map(paramInfo),
    links: {
      self: `/api/actions/${action.id}`,
      runs: `/api/actions/${action.id}/runs`,
      ...(action.safe ? { result: `/api/actions/${action.id}/result` } : {}),
    },
  };
}

function paramInfo(spec: ParamSpec) {
  const { name, type, label, required } = spec;
  const common = { name, type, label, required, ...(spec.description ? { description: spec.description } : {}) };
  const withDefault = spec.default !== undefined && !(spec.type === 'string' && spec.secret) ? { default: spec.default } : {};
  switch (spec.type) {
    case 'string':
      return { ...common, ...withDefault, minLength: spec.minLength ?? 0, maxLength: spec.maxLength, multiline: spec.multiline, ...(spec.pattern ? { pattern: spec.pattern } : {}), ...(spec.secret ? { secret: true } : {}) };
    case 'integer':
    case 'number':
      return { ...common, ...withDefault, ...(spec.min !== undefined ? { min: spec.min } : {}), ...(spec.max !== undefined ? { max: spec.max } : {}) };
    case 'enum':
      return { ...common, ...withDefault, values: spec.values.map((v) => (typeof v === 'string' ? { value: v, label: v } : { value: v.value, label: v.label ?? v.value })) };
    default:
      return { ...common, ...withDefault };
  }
}
