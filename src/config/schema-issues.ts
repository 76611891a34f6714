import type { core, ZodType } from 'zod';

/**
 * Turns zod's issues into messages an operator can act on: what is wrong and what
 * would be valid. Messages never echo the offending value, which may hold a secret.
 */
export function describeIssue(issue: core.$ZodIssue, schema: ZodType, data: unknown): string {
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schema, data, issue.path);
      const list = allowed.length > 0 ? `; allowed here: ${allowed.join(', ')}` : '';
      return `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}${list}`;
    }
    case 'invalid_type':
      if (valueAt(data, issue.path) === undefined) return `is required (expected ${issue.expected})`;
      return `expected ${issue.expected}, got ${describeType(valueAt(data, issue.path))}`;
    case 'invalid_union':
      return issue.message;
    case 'too_small':
      if (issue.origin === 'array') return `expected at least ${String(issue.minimum)} item(s)`;
      if (issue.origin === 'string') return `expected at least ${String(issue.minimum)} character(s)`;
      return `expected a number ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return `expected a number ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return issue.message;
  }
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let node = data;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

interface Def {
  type: string;
  shape?: Record<string, ZodType>;
  valueType?: ZodType;
  element?: ZodType;
  innerType?: ZodType;
  in?: ZodType;
  options?: ZodType[];
  discriminator?: string;
}

const defOf = (schema: ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The keys the schema accepts for the object at `path`, choosing union branches by the data. */
function allowedKeys(schema: ZodType, data: unknown, path: readonly PropertyKey[]): string[] {
  const target = schemaAt(schema, data, path);
  const def = target && defOf(target);
  return def?.shape ? Object.keys(def.shape) : [];
}

function schemaAt(schema: ZodType, data: unknown, path: readonly PropertyKey[]): ZodType | undefined {
  let current: ZodType | undefined = unwrap(schema, data);
  for (let i = 0; i < path.length && current; i++) {
    const def = defOf(current);
    const segment = path[i];
    const next: ZodType | undefined =
      def.type === 'object' ? def.shape?.[String(segment)] : def.type === 'record' ? def.valueType : def.type === 'array' ? def.element : undefined;
    current = next && unwrap(next, valueAt(data, path.slice(0, i + 1)));
  }
  return current;
}

function unwrap(schema: ZodType, value: unknown): ZodType | undefined {
  const def = defOf(schema);
  if (def.innerType) return unwrap(def.innerType, value);
  if (def.type === 'pipe' && def.in) return unwrap(def.in, value);
  if (def.type === 'union' && def.options) {
    if (def.discriminator && value !== null && typeof value === 'object') {
      const tag = (value as Record<string, unknown>)[def.discriminator];
      const match = def.options.find((option) => {
        const literal = defOf(option).shape?.[def.discriminator!];
        return literal && (defOf(literal) as Def & { values?: unknown[] }).values?.includes(tag);
      });
      if (match) return unwrap(match, value);
    }
    const objectOption = def.options.find((option) => defOf(unwrap(option, value) ?? option).type === 'object');
    return objectOption && unwrap(objectOption, value);
  }
  return schema;
}
