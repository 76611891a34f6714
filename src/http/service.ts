import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { NetworkGate } from '../access/network-gate.js';
import type { Config } from '../config/load.js';
import { Executor, type RunObserver } from '../core/executor.js';
import { maskedValues } from '../core/params.js';
import { Datasources } from '../datasources/create.js';
import { killAllRunningGroups } from '../runners/process-group.js';
import { openStore } from '../store/open.js';
import { auditRecorder, historyRecorder } from '../store/recorder.js';
import type { App } from './app.js';
import { buildServer } from './server.js';

const PRUNE_EVERY_MS = 10 * 60_000;

export interface Service {
  app: App;
  fastify: FastifyInstance;
  /** Graceful stop: refuse new requests, let runs finish up to the grace period, record them, close pools. */
  close(): Promise<void>;
}

/** Builds everything a running Porthole needs from a validated config. */
export async function createService(config: Config, logger: FastifyServerOptions['logger'] = false): Promise<Service> {
  const store = openStore(config);
  const { history } = store;
  const datasources = new Datasources(config.datasources, config.dir);
  // Observers log through the server's logger, which exists by the time any run does.
  const log = () => fastify.log;

  const runLog: RunObserver = {
    finished: (run, result) =>
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
      ),
  };
  const executor = new Executor({
    datasource: (name) => datasources.get(name),
    limits: config.limits,
    secrets: config.secrets,
    observers: [historyRecorder(history), auditRecorder(store.audit), runLog],
    onObserverError: (error) => log().error({ err: error }, 'recording a run failed'),
  });

  const app: App = { config, gate: new NetworkGate(config.network), executor, datasources, store };
  const fastify = await buildServer(app, logger);

  // History, the audit log and expired sessions are kept as long as history.maxAge says.
  const prune = async () => {
    await history.prune();
    store.audit.prune(new Date(Date.now() - config.history.maxAge).toISOString());
    if (config.auth) store.sessions.prune(config.auth.session.idleTimeout);
  };
  await prune();
  const pruner = setInterval(() => void prune().catch((error: unknown) => log().error({ err: error }, 'pruning the store failed')), PRUNE_EVERY_MS);
  pruner.unref();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(pruner);
      const stopped = fastify.close();
      await executor.shutdown(config.server.shutdownGrace);
      await stopped;
      // Anything a run left behind that escaped its own cleanup goes now.
      killAllRunningGroups('SIGKILL');
      await datasources.closeAll();
      store.close();
    })());

  return { app, fastify, close };
}
