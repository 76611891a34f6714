import { isMap, isSeq, isScalar, type Document, type LineCounter, type Node } from 'yaml';

/**
 * Finds where a key path sits in the YAML source, so errors can name a line.
 * When `key` is given, points at that key inside the map at `path` (for unknown keys).
 * Falls back to the deepest node that exists.
 */
export function locate(
  doc: Document,
  lines: LineCounter,
  path: readonly PropertyKey[],
  key?: string,
): { line: number; column: number } | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const segment of path) {
    const next = child(node, segment);
    if (!next) break;
    node = next.value;
    offset = rangeStart(node) ?? offset;
  }
  if (key !== undefined) offset = child(node, key)?.keyOffset ?? offset;
  if (offset === undefined) return undefined;
  const pos = lines.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null)?.range?.[0];
}

function child(node: unknown, segment: PropertyKey): { value: unknown; keyOffset?: number } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const k = isScalar(pair.key) ? pair.key.value : pair.key;
      if (String(k) === String(segment)) {
        return { value: pair.value ?? pair.key, keyOffset: rangeStart(pair.key) };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return item === undefined ? undefined : { value: item };
  }
  return undefined;
}

/** The key path of the map key that starts at `offset` (used for YAML's duplicate-key errors). */
export function keyPathAt(doc: Document, offset: number): PropertyKey[] | undefined {
  const walk = (node: unknown, at: PropertyKey[]): PropertyKey[] | undefined => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        const here = [...at, String(key)];
        if (rangeStart(pair.key) === offset) return here;
        const found = walk(pair.value, here);
        if (found) return found;
      }
    } else if (isSeq(node)) {
      for (const [i, item] of node.items.entries()) {
        const found = walk(item, [...at, i]);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(doc.contents, []);
}
