import type { CommandSpec } from '../runners/command-spec.js';
import { envName, type CommandAction } from './action.js';
import type { ValidatedParams } from './params-types.js';
import { formatValue, renderTemplate } from './template.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The names commandEnv takes from the server's environment. */
const BASICS = ['PATH', 'LANG', 'HOME', 'TZ'] as const;

/**
 * The part of the server's environment a command may see, read once: each read of
 * `process.env` asks the C library again, and every run would read it four times.
 */
export function serverBasics(server: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(BASICS.filter((name) => server[name] !== undefined).map((name) => [name, server[name]]));
}

/**
 * The environment a command starts with: a few harmless basics, what the action's
 * `env:` lists, and its parameters. Never the server's own environment, which holds secrets.
 */
export function commandEnv(action: CommandAction, params: ValidatedParams, server: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {
    PATH: server.PATH ?? DEFAULT_PATH,
    LANG: server.LANG ?? 'C.UTF-8',
    HOME: server.HOME ?? '/',
  };
  if (server.TZ !== undefined) env.TZ = server.TZ;
  Object.assign(env, action.env);
  for (const [name, value] of Object.entries(params.values)) {
    if (value !== null) env[envName(name)] = formatValue(value);
  }
  return env;
}

/** Turns an action and its validated parameters into exactly what the runner spawns. */
export function renderCommand(action: CommandAction, params: ValidatedParams, server: NodeJS.ProcessEnv = process.env): CommandSpec {
  if (params.actionId !== action.id) throw new Error(`parameters validated for "${params.actionId}" used for "${action.id}"`);
  const argv = action.argv.map((t) => renderTemplate(t, params.values)).filter((arg): arg is string => arg !== undefined);
  const [file, ...args] = argv;
  return {
    file: file!,
    args,
    env: commandEnv(action, params, server),
    cwd: action.cwd,
    timeoutMs: action.timeoutMs,
    maxOutputBytes: action.maxOutputBytes,
    killGraceMs: action.killGraceMs,
  };
}
