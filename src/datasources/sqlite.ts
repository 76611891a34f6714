import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SqliteDatasourceConfig } from '../config/schema.js';
import type { PortholeError } from '../core/errors.js';
import type { TableOutput } from '../core/result.js';
import type { Datasource, QueryRequest } from './datasource.js';
import { closedError, queryFailedError, readOnlyError, unreachableError } from './errors.js';
import { QueryGuard } from './guard.js';
import { bindValues, placeholderTranslator } from './placeholders.js';
import type { WorkerErrorCode, WorkerOptions, WorkerReply, WorkerRequest } from './sqlite-worker.js';

/** How long a killed worker may take to exit before we stop waiting for it. */
const EXIT_WAIT_MS = 2000;

interface Pending {
  resolve: (output: TableOutput) => void;
  reject: (error: PortholeError) => void;
}

/** Under vitest/tsx this file is TypeScript and so is the worker; compiled, both are JS in dist/. */
function workerCommand(): { script: string; execArgv: string[] } {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
    return { script: fileURLToPath(new URL('./sqlite-worker.ts', here)), execArgv: ['--import', tsx] };
  }
  return { script: fileURLToPath(new URL('./sqlite-worker.js', here)), execArgv: [] };
}

/**
 * SQLite through better-sqlite3, off the event loop: statements run one at a time in a
 * child process per datasource, which is killed (and replaced) to stop a statement.
 */
export class SqliteDatasource implements Datasource {
  readonly driver = 'sqlite';
  private readonly options: WorkerOptions;
  private worker: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The end of the queue: statements on one datasource run one after another. */
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly translate = placeholderTranslator('sqlite');

  constructor(
    readonly name: string,
    config: SqliteDatasourceConfig,
    baseDir: string,
  ) {
    this.options = {
      file: path.resolve(baseDir, config.path),
      readOnly: config.readOnly,
      initScript: config.initScript === undefined ? undefined : path.resolve(baseDir, config.initScript),
    };
  }

  async query(request: QueryRequest): Promise<TableOutput> {
    const { sql, names } = this.translate(request.sql);
    const values = bindValues(names, request.params).map((v) => (typeof v === 'boolean' ? Number(v) : v));
    // SQLite has no statement timeout of its own: the guard's deadline is the timeout.
    const guard = new QueryGuard(this.name, request.timeoutMs, 0, request.signal);
    const turn = this.tail.then(() => {
      if (guard.reason !== undefined) throw guard.error();
      return this.send({ id: this.nextId++, sql, values, maxRows: request.maxRows }, guard);
    });
    this.tail = turn.catch(() => undefined);
    return guard.run(turn);
  }

  async ping(): Promise<void> {
    await this.query({ sql: 'SELECT 1', params: {}, timeoutMs: 5000, maxRows: 1 });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stopWorker();
  }

  private send(request: WorkerRequest, guard: QueryGuard): Promise<TableOutput> {
    if (this.closed) throw closedError(this.name);
    const worker = this.startWorker();
    guard.onStop(() => this.stopWorker());
    return new Promise<TableOutput>((resolve, reject) => {
      this.pending.set(request.id, { resolve, reject });
      // While a reply is awaited the channel must keep the process alive; idle, it must not.
      worker.channel?.ref();
      worker.send(request);
    });
  }

  private startWorker(): ChildProcess {
    if (this.worker) return this.worker;
    const { script, execArgv } = workerCommand();
    const worker = fork(script, [JSON.stringify(this.options)], {
      execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    // An idle worker must not keep the process alive; a pending query has its own timer.
    worker.unref();
    worker.channel?.unref();
    worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    worker.on('error', () => undefined); // followed by 'exit', which is handled
    worker.on('exit', (code, signal) => {
      if (this.worker === worker) this.worker = undefined;
      const error = queryFailedError(this.name, `the SQLite worker exited (${signal ?? `code ${code}`})`);
      for (const { reject } of this.pending.values()) reject(error);
      this.pending.clear();
    });
    this.worker = worker;
    return worker;
  }

  private onReply(reply: WorkerReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.channel?.unref();
    if (reply.ok) {
      pending.resolve(reply.output);
      return;
    }
    pending.reject(this.replyError(reply.code, reply.message));
  }

  private replyError(code: WorkerErrorCode, message: string): PortholeError {
    switch (code) {
      case 'READ_ONLY':
        return readOnlyError(this.name);
      case 'DATASOURCE_UNAVAILABLE':
        return unreachableError(this.name, message);
      case 'QUERY_FAILED':
        return queryFailedError(this.name, message);
    }
  }

  /** Kills the worker (the only way to stop a running statement) and waits until it is gone. */
  private async stopWorker(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    if (worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      setTimeout(resolve, EXIT_WAIT_MS).unref();
    });
    // Keep the event loop alive until the child is reaped, or a closing CLI would exit mid-await.
    worker.ref();
    worker.kill('SIGKILL');
    await exited;
  }
}
