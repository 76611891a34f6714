import { accessSync, constants, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

import type { CommandOutcome, CommandRunOptions, CommandSpec, StreamName } from './command-spec.js';
import { isGroupAlive, signalGroup, trackGroup, untrackGroup } from './process-group.js';
import { defaultSpawner } from './spawn/choose-spawner.js';
import type { ProcessEvents, SpawnedProcess } from './spawn/spawned-process.js';

/**
 * After the main process exits and its group is killed, how long its pipes may stay open.
 * Only a process that left the group (e.g. via setsid) can still hold them; we stop waiting.
 */
const PIPE_DRAIN_MS = 500;

/** Node fires timers with longer delays after 1 ms, so longer limits are clamped. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const STREAMS: readonly StreamName[] = ['stdout', 'stderr'];

/** What the system reports when it cannot start a process, in words for the person who ran it. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOTDIR: 'not a directory',
  ENOEXEC: 'not an executable format',
  E2BIG: 'argument list too long',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EAGAIN: 'too many processes',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  // Node's own check, before any system call: a NUL byte in file, argv, env or cwd.
  ERR_INVALID_ARG_VALUE: 'a NUL byte in the program, its arguments, environment or working directory',
};

type StopReason = 'timeout' | 'cancel' | 'overflow';

interface Capture {
  readonly decoder: StringDecoder;
  readonly parts: string[];
  bytes: number;
  truncated: boolean;
  ended: boolean;
}

function errnoCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Never the error's own message: Node's may quote argv, which is not ours to show. */
function describeCode(code: string | undefined): string {
  if (code === undefined) return 'unknown error';
  return ERRNO_TEXT[code] ?? code;
}

/** Why `cwd` cannot be a working directory, or undefined when it can. */
function cwdProblem(cwd: string): string | undefined {
  try {
    if (!statSync(cwd).isDirectory()) return ERRNO_TEXT.ENOTDIR;
    accessSync(cwd, constants.X_OK);
    return undefined;
  } catch (error) {
    return describeCode(errnoCode(error));
  }
}

/**
 * A bad working directory is reported with the same codes as a bad program, so the
 * directory is checked after the fact to say which one it was.
 */
function spawnErrorMessage(spec: CommandSpec, error: unknown): string {
  const prefix = `cannot start "${spec.file}"`;
  if (spec.cwd !== undefined) {
    const problem = cwdProblem(spec.cwd);
    if (problem !== undefined) return `${prefix}: working directory "${spec.cwd}": ${problem}`;
  }
  const code = errnoCode(error);
  const reason = describeCode(code);
  if (code === 'ENOENT' && !spec.file.includes('/')) {
    // Without PATH in the child's environment, execvp searches its built-in default.
    const path = spec.env.PATH;
    const where = path === undefined ? 'the default PATH (the environment sets none)' : `PATH=${path}`;
    return `${prefix}: ${reason} (looked up in ${where})`;
  }
  return `${prefix}: ${reason}`;
}

function emptyOutcome(fields: Partial<CommandOutcome>): CommandOutcome {
  return {
    stdout: '',
    stderr: '',
    exitCode: null,
    signal: null,
    truncated: { stdout: false, stderr: false },
    durationMs: 0,
    timedOut: false,
    cancelled: false,
    ...fields,
  };
}

/**
 * Runs one process in its own process group and resolves when it and everything it
 * started are gone. Never rejects: a process that cannot start resolves with `spawnError`.
 * `options.onOutput` must not throw (it runs inside the process's event handlers).
 */
export async function runCommand(spec: CommandSpec, options: CommandRunOptions = {}): Promise<CommandOutcome> {
  const { signal: abortSignal, onOutput, spawner = defaultSpawner } = options;
  if (abortSignal?.aborted === true) return emptyOutcome({ cancelled: true });

  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);
  const capture = (): Capture => ({ decoder: new StringDecoder('utf8'), parts: [], bytes: 0, truncated: false, ended: false });
  const captures: Record<StreamName, Capture> = { stdout: capture(), stderr: capture() };

  let proc: SpawnedProcess | undefined;
  let stopReason: StopReason | undefined;
  let exited = false;
  let finished = false;
  let exitCode: number | null = null;
  let exitSignal: NodeJS.Signals | null = null;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let drainTimer: NodeJS.Timeout | undefined;
  let resolve!: (outcome: CommandOutcome) => void;
  const outcome = new Promise<CommandOutcome>((r) => (resolve = r));

  const settle = (result: CommandOutcome) => {
    if (finished) return;
    finished = true;
    clearTimeout(timeoutTimer);
    clearTimeout(graceTimer);
    clearTimeout(drainTimer);
    abortSignal?.removeEventListener('abort', onAbort);
    resolve(result);
  };

  const stop = (reason: StopReason) => {
    if (stopReason !== undefined || exited || proc?.pid === undefined) return;
    stopReason = reason;
    clearTimeout(timeoutTimer);
    const pgid = proc.pid;
    signalGroup(pgid, 'SIGTERM');
    graceTimer = setTimeout(() => {
      if (isGroupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
    }, Math.min(spec.killGraceMs, MAX_TIMER_MS));
  };
  const onAbort = () => stop('cancel');

  const watch = (pgid: number) => {
    trackGroup(pgid);
    timeoutTimer = setTimeout(() => stop('timeout'), Math.min(spec.timeoutMs, MAX_TIMER_MS));
    // A cancel that came while the process was starting stops it now that it can be signalled.
    if (abortSignal?.aborted === true) onAbort();
    else abortSignal?.addEventListener('abort', onAbort, { once: true });
  };

  const maybeFinish = () => {
    const { stdout: out, stderr: err } = captures;
    if (!exited || !out.ended || !err.ended) return;
    settle({
      stdout: out.parts.join(''),
      stderr: err.parts.join(''),
      exitCode,
      signal: exitSignal,
      truncated: { stdout: out.truncated, stderr: err.truncated },
      durationMs: elapsed(),
      timedOut: stopReason === 'timeout',
      cancelled: stopReason === 'cancel',
    });
  };

  const keep = (name: StreamName, text: string) => {
    if (text === '') return;
    captures[name].parts.push(text);
    onOutput?.(name, text);
  };

  const events: ProcessEvents = {
    output(name, chunk) {
      const c = captures[name];
      if (c.truncated) return;
      const room = spec.maxOutputBytes - c.bytes;
      const kept = chunk.length > room ? chunk.subarray(0, Math.max(room, 0)) : chunk;
      c.bytes += kept.length;
      keep(name, c.decoder.write(kept));
      if (kept.length < chunk.length) {
        c.truncated = true;
        // Reading no further keeps memory bounded by the cap; the writer gets EPIPE.
        proc?.stopReading(name);
        stop('overflow');
      }
    },
    end(name) {
      const c = captures[name];
      c.ended = true;
      // A character cut by the cap is dropped rather than replaced, so the text stays within it.
      if (!c.truncated) keep(name, c.decoder.end());
      maybeFinish();
    },
    exit(code, signal) {
      exited = true;
      exitCode = code;
      exitSignal = signal;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      // Whatever the command left running in its group (background jobs) ends with it.
      // posix_spawn reports the exit before reaping, so the leader still holds its pid and
      // the pgid cannot have been reused; child_process has just reaped it, and only a group
      // with no member left could be reused. After this last signal the group is never
      // addressed again.
      if (proc?.pid !== undefined) {
        signalGroup(proc.pid, 'SIGKILL');
        untrackGroup(proc.pid);
      }
      drainTimer = setTimeout(() => {
        for (const name of STREAMS) if (!captures[name].ended) proc?.stopReading(name);
      }, PIPE_DRAIN_MS);
      maybeFinish();
    },
    error(error) {
      settle(emptyOutcome({ spawnError: spawnErrorMessage(spec, error), durationMs: elapsed() }));
    },
  };

  try {
    proc = await spawner(spec, events);
  } catch (error) {
    // posix_spawn rejects on every start error; child_process throws some (ENOTDIR, E2BIG)
    // and reports the rest through `events.error`.
    return emptyOutcome({ spawnError: spawnErrorMessage(spec, error), durationMs: elapsed() });
  }
  if (proc.pid !== undefined) watch(proc.pid);
  return outcome;
}
