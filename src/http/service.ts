import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { Config } from '../config/load.js';
import { Executor, type RunObserver } from '../core/executor.js';
import { maskedValues } from '../core/params.js';
import { createMetrics } from '../metrics/registry.js';
import { killAllRunningGroups } from '../runners/process-group.js';
import { openStore } from '../store/open.js';
import { auditRecorder, historyRecorder } from '../store/recorder.js';
import type { App } from './app.js';
import { Generations, buildGeneration } from './generation.js';
import { buildServer, writesInfo } from './server.js';

const PRUNE_EVERY_MS = 10 * 60_000;

export interface Service {
  app: App;
  fastify: FastifyInstance;
  /** Graceful stop: refuse new requests, let runs finish up to the grace period, record them, close pools. */
  close(): Promise<void>;
}

/** Builds everything a running Porthole needs from a validated config. */
export async function createService(config: Config, logger: FastifyServerOptions['logger'] = false): Promise<Service> {
  // Observers and the store log through the server's logger, which exists by the time any run does.
  const log = () => fastify.log;
  const store = openStore(config, (error) => log().error({ err: error }, 'recording a run failed'));
  const { history } = store;
  const generations = new Generations(buildGeneration(config, store));

  const runLog: RunObserver = {
    finished: (run, result) => {
      // The line's fields are built only when it will be written.
      if (!writesInfo(log())) return;
      log().info(
        {
          runId: run.id,
          action: run.action.id,
          params: maskedValues(run.action, run.params),
          ip: run.context.clientIp ?? null,
          outcome: result.outcome,
          ...(result.kind === 'text' ? { exitCode: result.exitCode } : { rows: result.rows.length }),
          durationMs: result.durationMs,
          ...(result.error ? { error: result.error.code } : {}),
        },
        'run',
      );
    },
  };
  // Once per service, so a config reload never resets a counter; the gauges read the executor when scraped.
  const metrics = createMetrics(() => executor.load);
  const executor = new Executor({
    limits: config.limits,
    observers: [historyRecorder(history), auditRecorder(store.audit), runLog, metrics.runs],
    onObserverError: (error) => log().error({ err: error }, 'recording a run failed'),
  });

  const app: App = { generations, executor, store, metrics };
  const fastify = await buildServer(app, logger);

  // History, the audit log and expired sessions are kept as long as history.maxAge says.
  const prune = async () => {
    const { auth } = generations.current.config;
    await history.prune();
    store.audit.prune(new Date(Date.now() - config.history.maxAge).toISOString());
    if (auth) store.sessions.prune(auth.session.idleTimeout);
  };
  await prune();
  const pruner = setInterval(() => void prune().catch((error: unknown) => log().error({ err: error }, 'pruning the store failed')), PRUNE_EVERY_MS);
  pruner.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(pruner);
      const stopped = fastify.close();
      await executor.shutdown(generations.current.config.server.shutdownGrace);
      await stopped;
      // Anything a run left behind that escaped its own cleanup goes now.
      killAllRunningGroups('SIGKILL');
      await generations.close();
      store.close();
    })());

  return { app, fastify, close };
}
