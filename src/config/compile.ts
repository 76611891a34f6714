import path from 'node:path';
import { existsSync } from 'node:fs';
import { envName, type Action, type ParamSpec } from '../core/action.js';
import { checkParam, describeAllowed } from '../core/params.js';
import { hasPlaceholderSyntax, parseTemplate, templateParams, type Template } from '../core/template.js';
import { placeholderNames } from '../datasources/placeholders.js';
import { ID_PATTERN, PARAM_NAME_PATTERN, type ActionConfig, type ParamConfig, type RawConfig } from './schema.js';

export interface PathIssue {
  severity: 'error' | 'warning';
  path: PropertyKey[];
  /** Set when the problem is the key itself rather than its value. */
  key?: string;
  message: string;
}

/** Routes the HTTP service owns; an action's `path:` may not shadow them. */
const RESERVED_PATHS = ['/api', '/actions', '/static', '/healthz', '/readyz', '/metrics', '/login', '/logout', '/admin', '/auth'];

/**
 * Checks what a schema cannot (references between parts, templates, defaults) and
 * builds the runtime actions. Returns every problem found, not just the first.
 */
export function compileActions(
  config: RawConfig,
  baseDir: string,
  declaredDatasources: readonly string[] = Object.keys(config.datasources),
): { actions: Map<string, Action>; issues: PathIssue[] } {
  const issues: PathIssue[] = [];
  const actions = new Map<string, Action>();
  const paths = new Map<string, string>();

  for (const [id, raw] of Object.entries(config.actions)) {
    const at = ['actions', id];
    const report = (severity: PathIssue['severity'], sub: PropertyKey[], message: string, key?: string) =>
      issues.push({ severity, path: [...at, ...sub], message, ...(key === undefined ? {} : { key }) });

    if (!ID_PATTERN.test(id)) {
      issues.push({ severity: 'error', path: ['actions'], key: id, message: `action id "${id}" is not allowed; use 1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit` });
    }
    if (raw.path !== undefined) {
      const owner = paths.get(raw.path);
      if (owner) report('error', ['path'], `path ${raw.path} is already used by action "${owner}"; each path must be unique`);
      else paths.set(raw.path, id);
      const reserved = RESERVED_PATHS.find((p) => raw.path === p || raw.path!.startsWith(`${p}/`));
      if (reserved) report('error', ['path'], `path ${raw.path} is reserved by Porthole (${reserved}); choose another`);
      if (raw.path === '/') report('error', ['path'], 'path / is the dashboard; choose another');
      // The server adds .json/.csv/.txt/.html variants of every path itself.
      if (/\.(json|csv|txt|html)$/.test(raw.path)) report('error', ['path'], `path ${raw.path} may not end in .json, .csv, .txt or .html: Porthole serves those formats at ${raw.path.replace(/\.[a-z]+$/, '')}.json and so on`);
    }

    const kinds = (['command', 'shell', 'query'] as const).filter((k) => raw[k] !== undefined);
    if (kinds.length !== 1) {
      report('error', [], kinds.length === 0
        ? 'an action needs exactly one of command (argv list), shell (script) or query (datasource + sql)'
        : `an action has exactly one of command, shell or query; this one has ${kinds.join(' and ')}`);
      continue;
    }

    const params = compileParams(raw, report);
    const declared = new Set(params.map((p) => p.name));
    const used = new Set<string>();
    const cacheMs = raw.cache;
    const safe = raw.safe ?? raw.query !== undefined;
    if (cacheMs !== undefined && !safe) report('error', ['cache'], 'only safe (read-only) actions can be cached; set safe: true or remove cache');

    const common = {
      id,
      title: raw.title ?? id,
      description: raw.description,
      path: raw.path,
      safe,
      timeoutMs: raw.timeout ?? config.defaults.timeout,
      concurrency: raw.concurrency ?? config.defaults.concurrency,
      cacheMs,
      params,
      group: raw.group,
      refreshMs: raw.refresh,
      confirm: raw.confirm === true ? `Run ${raw.title ?? id}?` : raw.confirm === false ? undefined : raw.confirm,
      allow: raw.allow,
    };
    if (raw.allow !== undefined && config.auth === undefined) report('error', ['allow'], 'allow: decides between signed-in people; add an auth: section (users, single sign-on or a trusted header) first');
    if (raw.refresh !== undefined && !safe) report('error', ['refresh'], 'only safe (read-only) actions can refresh on the dashboard; set safe: true or remove refresh');
    if (raw.confirm !== undefined && raw.confirm !== false && safe) report('warning', ['confirm'], 'a safe action runs whenever its page is viewed, so confirm has no effect');

    if (raw.query) {
      for (const key of ['env', 'cwd', 'maxOutput'] as const) {
        if (raw[key] !== undefined) report('error', [], `"${key}" applies to commands only, not queries`, key);
      }
      const source = config.datasources[raw.query.datasource];
      // A datasource that is declared but invalid has its own error already.
      if (!source && !declaredDatasources.includes(raw.query.datasource)) {
        report('error', ['query', 'datasource'], `no datasource named "${raw.query.datasource}"; defined: ${declaredDatasources.join(', ') || 'none (add one under datasources:)'}`);
      }
      if (hasPlaceholderSyntax(raw.query.sql)) {
        report('error', ['query', 'sql'], 'SQL takes parameters as :name placeholders bound by the driver, not {{name}}');
      }
      const names = placeholderNames(raw.query.sql, source?.driver ?? 'sqlite');
      for (const name of names) {
        used.add(name);
        if (!declared.has(name)) report('error', ['query', 'sql'], `placeholder :${name} names no declared parameter; declare it under params:`);
      }
      actions.set(id, { ...common, kind: 'query', datasource: raw.query.datasource, sql: raw.query.sql, maxRows: raw.maxRows ?? config.defaults.maxRows, chart: raw.chart });
    } else {
      if (raw.maxRows !== undefined) report('error', [], '"maxRows" applies to queries only, not commands', 'maxRows');
      if (raw.chart !== undefined) report('error', [], '"chart" applies to queries only: it draws a result table', 'chart');
      let argv: Template[];
      if (raw.shell !== undefined) {
        if (hasPlaceholderSyntax(raw.shell)) {
          report('error', ['shell'], 'a shell script may not contain {{...}}: parameters reach it only as environment variables, e.g. "$PORTHOLE_PARAM_NAME"');
        }
        for (const p of params) if (raw.shell.includes(envName(p.name))) used.add(p.name);
        argv = ['/bin/sh', '-c', raw.shell].map((text) => [{ text }]);
      } else {
        argv = compileArgv(raw.command!, declared, used, report);
        for (const p of params) if (raw.command!.some((arg) => arg.includes(envName(p.name)))) used.add(p.name);
      }
      const argvParams = new Set(argv.flatMap(templateParams));
      for (const p of params) p.inArgv = argvParams.has(p.name);
      const cwd = raw.cwd === undefined ? undefined : path.resolve(baseDir, raw.cwd);
      if (cwd !== undefined && !existsSync(cwd)) report('error', ['cwd'], `directory ${cwd} does not exist`);
      actions.set(id, {
        ...common,
        kind: 'command',
        argv,
        script: raw.shell,
        env: raw.env ?? {},
        cwd,
        maxOutputBytes: raw.maxOutput ?? config.defaults.maxOutput,
        killGraceMs: config.defaults.killGrace,
      });
    }

    for (const p of params) {
      if (!used.has(p.name)) report('warning', ['params', p.name], `parameter "${p.name}" is declared but the action never uses it`);
    }
    for (const p of params) checkDefault(p, report);
  }

  for (const [name, source] of Object.entries(config.datasources)) {
    if (source.driver === 'sqlite' && source.initScript !== undefined) {
      const script = path.resolve(baseDir, source.initScript);
      if (!existsSync(script)) issues.push({ severity: 'error', path: ['datasources', name, 'initScript'], message: `file ${script} does not exist` });
    }
  }
  return { actions, issues };
}

type Report = (severity: PathIssue['severity'], sub: PropertyKey[], message: string, key?: string) => void;

function compileParams(raw: ActionConfig, report: Report): ParamSpec[] {
  const specs: ParamSpec[] = [];
  const envNames = new Map<string, string>();
  for (const [name, config] of Object.entries(raw.params ?? {})) {
    if (!PARAM_NAME_PATTERN.test(name)) {
      report('error', ['params'], `parameter name "${name}" is not allowed; use letters, digits and "_", starting with a letter`, name);
      continue;
    }
    const clash = envNames.get(envName(name));
    if (clash) report('error', ['params'], `parameters "${clash}" and "${name}" would share the environment variable ${envName(name)}`, name);
    envNames.set(envName(name), name);
    // An unticked checkbox sends nothing, so a yes/no parameter without a default means "no".
    const withDefault = config.type === 'boolean' && config.default === undefined ? { ...config, default: false } : config;
    const spec: ParamSpec = {
      ...withDefault,
      name,
      label: config.label ?? name,
      required: config.required ?? withDefault.default === undefined,
      inArgv: false,
    };
    compileParamRules(spec, config, (sub, message) => report('error', ['params', name, ...sub], message));
    specs.push(spec);
  }
  return specs;
}

function compileParamRules(spec: ParamSpec, config: ParamConfig, fail: (sub: PropertyKey[], message: string) => void): void {
  if (spec.type === 'string' && config.type === 'string') {
    if (config.pattern !== undefined) {
      try {
        // Anchored like an HTML pattern attribute: the whole value must match.
        spec.regex = new RegExp(`^(?:${config.pattern})$`, 'u');
      } catch (error) {
        fail(['pattern'], `not a valid regular expression: ${(error as Error).message}`);
      }
    }
    if (config.minLength !== undefined && config.minLength > config.maxLength) fail(['minLength'], `minLength ${config.minLength} is greater than maxLength ${config.maxLength}`);
  }
  if ((config.type === 'integer' || config.type === 'number') && config.min !== undefined && config.max !== undefined && config.min > config.max) {
    fail(['min'], `min ${config.min} is greater than max ${config.max}`);
  }
  if (config.type === 'enum') {
    const values = config.values.map((v) => (typeof v === 'string' ? v : v.value));
    const dupe = values.find((v, i) => values.indexOf(v) !== i);
    if (dupe !== undefined) fail(['values'], `value "${dupe}" is listed twice`);
  }
}

function checkDefault(spec: ParamSpec, report: Report): void {
  if (spec.default === undefined) return;
  const checked = checkParam(spec, spec.default);
  if ('reason' in checked) report('error', ['params', spec.name, 'default'], `default ${checked.reason}; allowed: ${describeAllowed(spec)}`);
}

function compileArgv(command: readonly string[], declared: Set<string>, used: Set<string>, report: Report): Template[] {
  return command.map((element, i) => {
    const parsed = parseTemplate(element);
    if ('error' in parsed) {
      report('error', ['command', i], parsed.error);
      return [{ text: element }];
    }
    const names = templateParams(parsed.template);
    if (i === 0 && names.length > 0) report('error', ['command', 0], 'the program (first element) must be fixed; parameters may appear only in its arguments');
    for (const name of names) {
      used.add(name);
      if (!declared.has(name)) report('error', ['command', i], `{{${name}}} names no declared parameter; declare it under params:`);
    }
    return parsed.template;
  });
}
