import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * `${env:NAME}` and `${file:PATH}` references, resolved wherever a string is allowed.
 * Resolved values are remembered so that anything printed can be scrubbed of them.
 */
const REFERENCE = /\$\{(env|file):([^}]*)\}/g;

export interface SecretProblem {
  path: PropertyKey[];
  message: string;
}

export class Secrets {
  private readonly values = new Set<string>();

  add(value: string): void {
    // Very short values would scrub ordinary words out of messages; they are not worth hiding.
    if (value.length >= 4) this.values.add(value);
  }

  /** Replaces every known secret value in `text` with `***`. */
  redact(text: string): string {
    let out = text;
    for (const value of this.values) out = out.split(value).join('***');
    return out;
  }
}

/** Returns a copy of `raw` with references replaced; problems name the key path, never a value. */
export function resolveSecrets(
  raw: unknown,
  baseDir: string,
  env: NodeJS.ProcessEnv,
  secrets: Secrets,
): { value: unknown; problems: SecretProblem[] } {
  const problems: SecretProblem[] = [];

  const resolveString = (text: string, at: PropertyKey[]): string =>
    text.replace(REFERENCE, (_match, kind: string, ref: string) => {
      if (kind === 'env') {
        const value = env[ref];
        if (value === undefined) {
          problems.push({ path: at, message: `environment variable ${ref} is not set (referenced as \${env:${ref}})` });
          return '';
        }
        secrets.add(value);
        return value;
      }
      const file = path.resolve(baseDir, ref);
      try {
        // A trailing newline is an artefact of how secret files are written, not part of the secret.
        const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        secrets.add(value);
        return value;
      } catch (error) {
        const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        problems.push({ path: at, message: `cannot read secret file ${file} (${reason}) (referenced as \${file:${ref}})` });
        return '';
      }
    });

  const walk = (node: unknown, at: PropertyKey[]): unknown => {
    if (typeof node === 'string') return resolveString(node, at);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...at, i]));
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...at, k])]));
    }
    return node;
  };

  return { value: walk(raw, []), problems };
}
