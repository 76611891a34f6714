import { runCommand } from '../runners/command.js';
import type { CommandOutcome } from '../runners/command-spec.js';
import type { Datasource } from '../datasources/datasource.js';
import type { Secrets } from '../config/secrets.js';
import type { Action, CommandAction, QueryAction } from './action.js';
import { PortholeError, type ErrorCode } from './errors.js';
import { isoTime } from './iso-time.js';
import { Limiter } from './limiter.js';
import type { ValidatedParams } from './params-types.js';
import { renderCommand, serverBasics } from './render-command.js';
import type { Outcome, RunFailure, RunResult, TableOutput, TableResult, TextResult } from './result.js';
import { ResultCache, cacheKey, type CacheLimits } from './result-cache.js';
import { Run, type RunContext } from './run.js';

/** Told about every run: history and logs hang off this. */
export interface RunObserver {
  /** The run exists (queued); called before it starts. */
  created?(run: Run): void;
  finished?(run: Run, result: RunResult): void;
  /** A cached action was asked for: a hit shares a stored or in-flight run instead of starting one. */
  cacheLookup?(action: Action, hit: boolean): void;
}

/**
 * What a run uses besides its action, fixed when it starts: a config reload gives new runs
 * a new scope while runs in flight keep theirs.
 */
export interface RunScope {
  /** Looks up a datasource by name (pools are owned by the caller). */
  datasource: (name: string) => Datasource;
  /** Scrubbed from every message a run produces. */
  secrets: Secrets;
}

export interface RunLimits {
  concurrency: number;
  queue: number;
}

export interface ExecutorOptions {
  limits: RunLimits;
  cache?: CacheLimits;
  /** The server's environment, from which commands get only PATH, LANG, HOME and TZ. */
  env?: NodeJS.ProcessEnv;
  observers?: readonly RunObserver[];
  /** Where an observer's failure is reported; it never stops a run. */
  onObserverError?: (error: unknown) => void;
}

/**
 * The one path every run takes: cache and single flight, a concurrency slot, the runner,
 * and a result that always resolves (failures are outcomes, not exceptions).
 */
export class Executor {
  private readonly limiter: Limiter;
  private readonly cache: ResultCache;
  private readonly active = new Map<string, Run>();
  private readonly serverEnv: NodeJS.ProcessEnv;
  private closing = false;

  constructor(private readonly options: ExecutorOptions) {
    this.serverEnv = serverBasics(options.env ?? process.env);
    this.limiter = new Limiter(options.limits.concurrency, options.limits.queue);
    this.cache = new ResultCache(options.cache ?? { maxEntries: 1000, maxBytes: 64 * 1024 * 1024 });
  }

  /**
   * Starts (or, for cached actions, joins) a run. Throws at once when the server is
   * shutting down or too busy to even queue the run.
   */
  start(action: Action, params: ValidatedParams, context: RunContext, scope: RunScope): Run {
    if (params.actionId !== action.id) throw new PortholeError('INTERNAL', `parameters for "${params.actionId}" used with "${action.id}"`);
    if (this.closing) throw new PortholeError('SHUTTING_DOWN', 'the server is shutting down; no new runs are accepted');
    const key = action.cacheMs === undefined ? undefined : cacheKey(action.id, params.values);
    // A run of the same action from an earlier config is not shared: its action may differ now.
    const cached = key === undefined ? undefined : this.cache.get(key);
    const shared = cached?.action === action ? cached : undefined;
    if (key !== undefined) this.notify((o) => o.cacheLookup?.(action, shared !== undefined));
    if (shared) return shared;

    this.limiter.reserve(action.id, action.concurrency);
    const run = new Run(action, params, context);
    this.active.set(run.id, run);
    if (key !== undefined) this.cache.track(key, run, action.cacheMs!);
    this.notify((o) => o.created?.(run));
    void run.result.then((result) => this.notify((o) => o.finished?.(run, result)));
    void this.execute(run, scope).finally(() => this.active.delete(run.id));
    return run;
  }

  /** Runs waiting for a slot and runs holding one, right now. */
  get load(): { queued: number; running: number } {
    return { queued: this.limiter.queued, running: this.limiter.active };
  }

  /** New limits for runs from now on; runs holding a slot keep it. */
  setLimits(limits: RunLimits): void {
    this.limiter.setLimits(limits.concurrency, limits.queue);
  }

  /** A run still queued or running. */
  get(runId: string): Run | undefined {
    return this.active.get(runId);
  }

  /** Refuses new runs, lets running ones finish for up to `graceMs`, then cancels the rest. */
  async shutdown(graceMs: number): Promise<void> {
    this.closing = true;
    this.limiter.drain(new PortholeError('SHUTTING_DOWN', 'the server is shutting down'));
    const all = Promise.all([...this.active.values()].map((run) => run.result));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    if ((await Promise.race([all, late])) === 'late') for (const run of this.active.values()) run.cancel();
    clearTimeout(timer);
    await all;
  }

  private notify(call: (observer: RunObserver) => void): void {
    for (const observer of this.options.observers ?? []) {
      try {
        call(observer);
      } catch (error) {
        this.options.onObserverError?.(error);
      }
    }
  }

  private async execute(run: Run, scope: RunScope): Promise<void> {
    const startedAt = new Date();
    let release: (() => void) | undefined;
    try {
      release = await this.limiter.acquire(run.action.id, run.action.concurrency, run.signal);
      run.markStarted();
      const begin = performance.now();
      const base: ResultBase = { runId: run.id, actionId: run.action.id, startedAt: isoTime(), begin };
      run.finish(
        run.action.kind === 'command'
          ? textResult(base, await this.runCommand(run, run.action), scope.secrets)
          : await this.runQuery(run, run.action, base, scope),
      );
    } catch (error) {
      run.finish(failedBeforeStart(run, startedAt, error, scope.secrets));
    } finally {
      release?.();
    }
  }

  private runCommand(run: Run, action: CommandAction): Promise<CommandOutcome> {
    const spec = renderCommand(action, run.params, this.serverEnv);
    return runCommand(spec, { signal: run.signal, onOutput: (stream, text) => run.output(stream, text) });
  }

  private async runQuery(run: Run, action: QueryAction, base: ResultBase, scope: RunScope): Promise<TableResult> {
    let output: TableOutput;
    let failure: RunFailure | undefined;
    try {
      output = await scope.datasource(action.datasource).query({
        sql: action.sql,
        params: run.params.values,
        timeoutMs: action.timeoutMs,
        maxRows: action.maxRows,
        signal: run.signal,
      });
    } catch (error) {
      failure = toFailure(error, scope.secrets);
      output = { columns: [], rows: [], truncated: false };
    }
    return {
      runId: base.runId,
      actionId: base.actionId,
      startedAt: base.startedAt,
      kind: 'table',
      outcome: failure ? outcomeOf(failure.code) : 'succeeded',
      error: failure,
      columns: output.columns,
      rows: output.rows,
      truncated: output.truncated,
      durationMs: elapsedSince(base.begin),
    };
  }
}

/**
 * What every result of a run starts with, and when its runner began. Results are written out
 * field by field rather than spread together: a run builds them on every request, and spreads
 * into new literals took V8 off its fast path for object creation.
 */
interface ResultBase {
  runId: string;
  actionId: string;
  startedAt: string;
  begin: number;
}

function elapsedSince(begin: number): number {
  return Math.round(performance.now() - begin);
}

/** An `error` field that is undefined is left out of every JSON a result becomes. */
function textResult(base: ResultBase, out: CommandOutcome, secrets: Secrets): TextResult {
  const failure = commandFailure(out);
  return {
    runId: base.runId,
    actionId: base.actionId,
    startedAt: base.startedAt,
    kind: 'text',
    stdout: out.stdout,
    stderr: out.stderr,
    exitCode: out.exitCode,
    signal: out.signal,
    truncated: out.truncated,
    outcome: failure ? outcomeOf(failure.code) : 'succeeded',
    error: failure ? { code: failure.code, message: secrets.redact(failure.message) } : undefined,
    durationMs: elapsedSince(base.begin),
  };
}

function commandFailure(out: CommandOutcome): RunFailure | undefined {
  if (out.spawnError) return { code: 'COMMAND_FAILED', message: out.spawnError };
  if (out.timedOut) return { code: 'TIMEOUT', message: `the command did not finish within its timeout and was stopped` };
  if (out.cancelled) return { code: 'CANCELLED', message: 'the run was cancelled and the command stopped' };
  const cut = (['stdout', 'stderr'] as const).filter((s) => out.truncated[s]);
  // A command stopped at the cap dies of the signal or of its closed pipe: either way it did not finish.
  if (cut.length > 0 && out.exitCode !== 0) {
    return { code: 'OUTPUT_LIMIT', message: `the command's ${cut.join(' and ')} went past the output limit; it was stopped and its output cut (raise maxOutput to allow more)` };
  }
  if (out.exitCode !== 0) {
    return { code: 'COMMAND_FAILED', message: out.exitCode === null ? `the command was killed by ${out.signal ?? 'a signal'}` : `the command exited with code ${out.exitCode}` };
  }
  return undefined;
}

function outcomeOf(code: ErrorCode): Outcome {
  switch (code) {
    case 'TIMEOUT':
      return 'timed-out';
    case 'CANCELLED':
      return 'cancelled';
    case 'DATASOURCE_UNAVAILABLE':
    case 'SHUTTING_DOWN':
      return 'unavailable';
    default:
      return 'failed';
  }
}

function toFailure(error: unknown, secrets: Secrets): RunFailure {
  if (error instanceof PortholeError) return { code: error.code, message: secrets.redact(error.message) };
  return { code: 'INTERNAL', message: secrets.redact(error instanceof Error ? error.message : String(error)) };
}

/** A run that never reached its runner (cancelled in the queue, refused at shutdown, or a bug). */
function failedBeforeStart(run: Run, startedAt: Date, error: unknown, secrets: Secrets): RunResult {
  const failure = toFailure(error, secrets);
  const base = {
    runId: run.id,
    actionId: run.action.id,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    outcome: outcomeOf(failure.code),
    error: failure,
  };
  return run.action.kind === 'command'
    ? { ...base, kind: 'text', stdout: '', stderr: '', exitCode: null, signal: null, truncated: { stdout: false, stderr: false } }
    : { ...base, kind: 'table', columns: [], rows: [], truncated: false };
}
