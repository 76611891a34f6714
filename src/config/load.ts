import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { ZodType } from 'zod';
import type { Action } from '../core/action.js';
import { compileActions } from './compile.js';
import { ConfigError, keyPath, type ConfigIssue } from './issues.js';
import { keyPathAt, locate } from './locate.js';
import { describeIssue } from './schema-issues.js';
import { actionSchema, configSchema, datasourceSchema, type DatasourceConfig, type RawConfig } from './schema.js';
import { Secrets, resolveSecrets } from './secrets.js';
import { readTls, type TlsFiles } from './tls.js';

/** A config that passed every check, ready to serve. */
export interface Config {
  file: string;
  /** The file's text as it was read: what the file watcher compares later saves with. */
  text: string;
  /** Folder of the config file: relative paths in it are resolved from here. */
  dir: string;
  listen: { host: string; port: number };
  /** HTTPS with these files (absolute paths); absent: plain HTTP. */
  tls: TlsFiles | undefined;
  network: RawConfig['network'];
  limits: RawConfig['limits'];
  server: RawConfig['server'];
  /** Absolute. */
  dataDir: string;
  history: RawConfig['history'];
  /** Who may see and run what; absent: the network allowlist alone decides. */
  auth: RawConfig['auth'];
  datasources: Readonly<Record<string, DatasourceConfig>>;
  actions: ReadonlyMap<string, Action>;
  /** Values that came from ${env:…} or ${file:…}: scrub them from anything shown. */
  secrets: Secrets;
  warnings: readonly ConfigIssue[];
}

/** `-c FILE`, else `PORTHOLE_CONFIG`, else `./porthole.yaml`. */
export function configPath(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(option ?? env.PORTHOLE_CONFIG ?? 'porthole.yaml');
}

/** Reads, validates and compiles a config file. Throws ConfigError listing every problem. */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError([{ severity: 'error', file, key: '', message: `cannot read config file: ${reason} (give one with -c FILE or PORTHOLE_CONFIG)` }]);
  }
  return parseConfig(text, file, env);
}

export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const dir = path.dirname(file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  const secrets = new Secrets();
  const issues: ConfigIssue[] = [];
  const at = (severity: ConfigIssue['severity'], p: readonly PropertyKey[], message: string, key?: string): ConfigIssue => ({
    severity,
    file,
    ...locate(doc, lines, p, key),
    key: keyPath(key === undefined ? p : [...p, key]),
    message,
  });
  // Messages may quote config text; anything that came from a secret is scrubbed first.
  const fail = (): never => {
    throw new ConfigError(issues.map((issue) => ({ ...issue, message: secrets.redact(issue.message) })));
  };

  for (const error of doc.errors) {
    const keyAt = error.code === 'DUPLICATE_KEY' ? keyPathAt(doc, error.pos[0]) : undefined;
    const pos = lines.linePos(error.pos[0]);
    issues.push({
      severity: 'error',
      file,
      line: pos.line,
      column: pos.col,
      key: keyAt ? keyPath(keyAt) : '',
      message: keyAt ? 'duplicate key: each action, parameter and setting may be defined once' : error.message.split('\n')[0]!,
    });
  }
  if (issues.length > 0) fail();

  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push(at('error', [], 'expected a mapping with at least an actions: section'));
    fail();
  }

  const resolved = resolveSecrets(raw, dir, env, secrets);
  for (const problem of resolved.problems) issues.push(at('error', problem.path, problem.message));

  const parsed = configSchema.safeParse(resolved.value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          issues.push(at('error', issue.path, describeIssue({ ...issue, keys: [key] }, configSchema, resolved.value), key));
        }
      } else {
        issues.push(at('error', issue.path, describeIssue(issue, configSchema, resolved.value)));
      }
    }
  }

  // Cross-checks run even when the schema failed, on the parts that passed it, so every problem shows at once.
  const data = parsed.success ? parsed.data : salvage(resolved.value as Record<string, unknown>);
  const declared = Object.keys(asRecord((resolved.value as Record<string, unknown>).datasources));
  const { actions, issues: compileIssues } = compileActions(data, dir, declared);
  for (const issue of compileIssues) issues.push(at(issue.severity, issue.path, issue.message, issue.key));
  const tls = data.tls && { cert: path.resolve(dir, data.tls.cert), key: path.resolve(dir, data.tls.key) };
  const tlsRead = tls && readTls(tls);
  if (tlsRead && 'problems' in tlsRead) for (const problem of tlsRead.problems) issues.push(at('error', ['tls', ...(problem.field ? [problem.field] : [])], problem.message));
  if (!parsed.success || issues.some((i) => i.severity === 'error')) fail();

  const [, host = '127.0.0.1', port = '8080'] = /^\[?(.*?)\]?:(\d+)$/.exec(data.listen) ?? [];
  return {
    file,
    text,
    dir,
    listen: { host, port: Number(port) },
    tls,
    network: data.network,
    limits: data.limits,
    server: data.server,
    dataDir: path.resolve(dir, data.dataDir),
    history: data.history,
    auth: data.auth,
    datasources: data.datasources,
    actions,
    secrets,
    warnings: issues.map((issue) => ({ ...issue, message: secrets.redact(issue.message) })),
  };
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The parts of an invalid config that are valid on their own, with defaults for the rest. */
function salvage(value: Record<string, unknown>): RawConfig {
  const valid = (schema: ZodType, input: unknown): boolean => schema.safeParse(input).success;
  const keep = (entries: Record<string, unknown>, schema: ZodType) => Object.fromEntries(Object.entries(entries).filter(([, v]) => valid(schema, v)));
  const top = Object.fromEntries(
    (['listen', 'tls', 'network', 'defaults', 'limits', 'server', 'dataDir', 'history', 'auth'] as const)
      .filter((key) => valid(configSchema.shape[key], value[key]))
      .map((key) => [key, value[key]]),
  );
  return configSchema.parse({
    ...top,
    datasources: keep(asRecord(value.datasources), datasourceSchema),
    actions: keep(asRecord(value.actions), actionSchema),
  });
}
