import { accessSync, constants, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

import type { CommandOutcome, CommandRunOptions, CommandSpec, StreamName } from './command-spec.js';
import { isGroupAlive, signalGroup, trackGroup, untrackGroup } from './process-group.js';
import { defaultSpawner } from './spawn/choose-spawner.js';
import type { SpawnedProcess } from './spawn/spawned-process.js';

/**
 * After the main process exits and its group is killed, how long its pipes may stay open.
 * Only a process that left the group (e.g. via setsid) can still hold them; we stop waiting.
 */
const PIPE_DRAIN_MS = 500;

/** Node fires timers with longer delays after 1 ms, so longer limits are clamped. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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
  readonly name: StreamName;
  readonly stream: Readable;
  readonly decoder: StringDecoder;
  readonly parts: string[];
  bytes: number;
  truncated: boolean;
  closed: boolean;
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
 * `options.onOutput` must not throw (it runs inside stream event handlers).
 */
export async function runCommand(spec: CommandSpec, options: CommandRunOptions = {}): Promise<CommandOutcome> {
  const { signal: abortSignal, onOutput, spawner = defaultSpawner } = options;
  if (abortSignal?.aborted === true) return emptyOutcome({ cancelled: true });

  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);

  let proc: SpawnedProcess;
  try {
    proc = await spawner(spec);
  } catch (error) {
    // posix_spawn rejects on every start error; child_process throws some (ENOTDIR, E2BIG)
    // and reports the rest through 'error'.
    return emptyOutcome({ spawnError: spawnErrorMessage(spec, error), durationMs: elapsed() });
  }

  return new Promise<CommandOutcome>((resolve) => {
    let stopReason: StopReason | undefined;
    let exited = false;
    let finished = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let timeoutTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const capture = (name: StreamName, stream: Readable): Capture => ({
      name,
      stream,
      decoder: new StringDecoder('utf8'),
      parts: [],
      bytes: 0,
      truncated: false,
      closed: false,
    });
    const captures = [capture('stdout', proc.stdout), capture('stderr', proc.stderr)] as const;
    const [out, err] = captures;

    const clearTimers = () => {
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      clearTimeout(drainTimer);
    };

    const settle = (outcome: CommandOutcome) => {
      if (finished) return;
      finished = true;
      clearTimers();
      abortSignal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };

    const onAbort = () => stop('cancel');

    const stop = (reason: StopReason) => {
      if (stopReason !== undefined || exited || proc.pid === undefined) return;
      stopReason = reason;
      clearTimeout(timeoutTimer);
      const pgid = proc.pid;
      signalGroup(pgid, 'SIGTERM');
      graceTimer = setTimeout(() => {
        if (isGroupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
      }, Math.min(spec.killGraceMs, MAX_TIMER_MS));
    };

    const maybeFinish = () => {
      if (!exited || !out.closed || !err.closed) return;
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

    const keep = (c: Capture, text: string) => {
      if (text === '') return;
      c.parts.push(text);
      onOutput?.(c.name, text);
    };

    for (const c of captures) {
      c.stream.on('data', (chunk: Buffer) => {
        if (c.truncated) return;
        const room = spec.maxOutputBytes - c.bytes;
        const kept = chunk.length > room ? chunk.subarray(0, Math.max(room, 0)) : chunk;
        c.bytes += kept.length;
        keep(c, c.decoder.write(kept));
        if (kept.length < chunk.length) {
          c.truncated = true;
          // Reading no further keeps memory bounded by the cap; the writer gets EPIPE.
          c.stream.destroy();
          stop('overflow');
        }
      });
      // A read error ends the stream like EOF; 'close' follows and is what we wait for.
      c.stream.on('error', () => undefined);
      c.stream.on('close', () => {
        c.closed = true;
        // A character cut by the cap is dropped rather than replaced, so the text stays within it.
        if (!c.truncated) keep(c, c.decoder.end());
        maybeFinish();
      });
    }

    proc.on('error', (error) => {
      // After a successful start, 'error' only reports failed kill/send calls, which we do not make.
      if (proc.pid !== undefined) return;
      for (const c of captures) c.stream.destroy();
      settle(emptyOutcome({ spawnError: spawnErrorMessage(spec, error), durationMs: elapsed() }));
    });

    proc.on('exit', (code, signal) => {
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
      if (proc.pid !== undefined) {
        signalGroup(proc.pid, 'SIGKILL');
        untrackGroup(proc.pid);
      }
      drainTimer = setTimeout(() => {
        for (const c of captures) c.stream.destroy();
      }, PIPE_DRAIN_MS);
      maybeFinish();
    });

    if (proc.pid !== undefined) {
      trackGroup(proc.pid);
      timeoutTimer = setTimeout(() => stop('timeout'), Math.min(spec.timeoutMs, MAX_TIMER_MS));
      // A cancel that came while the process was starting stops it now that it can be signalled.
      if (abortSignal?.aborted === true) onAbort();
      else abortSignal?.addEventListener('abort', onAbort, { once: true });
    }
  });
}
