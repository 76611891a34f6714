import type { ParamValue } from './params-types.js';

/**
 * `{{name}}` templates inside argv elements. A rendered element is always exactly one
 * argv element, whatever the value holds: substitution is string concatenation, never
 * re-parsing.
 */
export type TemplatePart = { text: string } | { param: string };
export type Template = readonly TemplatePart[];

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/y;

export function parseTemplate(source: string): { template: Template } | { error: string } {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{{', i);
    if (open === -1) {
      text += source.slice(i);
      break;
    }
    text += source.slice(i, open);
    PLACEHOLDER.lastIndex = open;
    const match = PLACEHOLDER.exec(source);
    if (!match) return { error: `malformed placeholder at "${source.slice(open, open + 20)}"; write {{name}} with a parameter name` };
    if (text) parts.push({ text });
    text = '';
    parts.push({ param: match[1]! });
    i = PLACEHOLDER.lastIndex;
  }
  if (text || parts.length === 0) parts.push({ text });
  return { template: parts };
}

export function templateParams(template: Template): string[] {
  return template.flatMap((part) => ('param' in part ? [part.param] : []));
}

export function hasPlaceholderSyntax(text: string): boolean {
  return text.includes('{{');
}

/**
 * Renders one argv element. An element that is exactly one placeholder whose parameter
 * was not given is dropped (undefined), so optional arguments can be left out.
 */
export function renderTemplate(template: Template, values: Readonly<Record<string, ParamValue>>): string | undefined {
  const [only] = template;
  if (template.length === 1 && only && 'param' in only && values[only.param] === null) return undefined;
  return template.map((part) => ('param' in part ? formatValue(values[part.param] ?? null) : part.text)).join('');
}

export function formatValue(value: ParamValue): string {
  return value === null ? '' : String(value);
}
