import type { AllowConfig, ChartConfig, ParamConfig } from '../config/schema.js';
import type { Template } from './template.js';

/** A parameter as the validator uses it: its config plus what compilation decided. */
export type ParamSpec = ParamConfig & {
  name: string;
  label: string;
  /** No default and not marked `required: false`. */
  required: boolean;
  /** Lands in a command's argv, so a leading `-` could inject an option. */
  inArgv: boolean;
  /** The operator's pattern anchored to the whole value (string parameters). */
  regex?: RegExp;
};

interface ActionCommon {
  id: string;
  title: string;
  description?: string;
  /** Extra route for old links and scripts, e.g. `/status/`. */
  path?: string;
  /** Read-only: may run on GET. */
  safe: boolean;
  timeoutMs: number;
  concurrency: number;
  /** Results are shared for this long; concurrent identical runs share one execution. */
  cacheMs?: number;
  params: readonly ParamSpec[];
  /** Dashboard section; actions without one share the first. */
  group?: string;
  /** An open dashboard fetches the result again this often (safe actions). */
  refreshMs?: number;
  /** The question asked before running, when the operator wants one. */
  confirm?: string;
  /** Who may view and run it when auth is on; absent means admins only. */
  allow?: AllowConfig;
}

export interface CommandAction extends ActionCommon {
  kind: 'command';
  /** argv[0] is literal; `shell:` actions compile to `/bin/sh -c SCRIPT` with no placeholders. */
  argv: readonly Template[];
  /** The script text for `shell:` actions, for display. */
  script?: string;
  env: Readonly<Record<string, string>>;
  cwd?: string;
  maxOutputBytes: number;
  killGraceMs: number;
}

export interface QueryAction extends ActionCommon {
  kind: 'query';
  datasource: string;
  sql: string;
  maxRows: number;
  chart?: ChartConfig;
}

export type Action = CommandAction | QueryAction;

/** Every command also receives each given parameter as PORTHOLE_PARAM_<NAME>. */
export function envName(param: string): string {
  return `PORTHOLE_PARAM_${param.toUpperCase()}`;
}
