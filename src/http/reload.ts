import type { Server as HttpsServer } from 'node:https';
import type { FastifyBaseLogger } from 'fastify';
import { ConfigError, formatIssue } from '../config/issues.js';
import { loadConfig, type Config } from '../config/load.js';
import { keepRestartOnly } from '../config/restart-only.js';
import { tlsCredentials, type TlsCredentials } from '../config/tls.js';
import { buildGeneration, type Generation } from './generation.js';
import type { Service } from './service.js';

/** The last reload's outcome, as /readyz shows it. */
export type ReloadStatus =
  | {
      ok: true;
      at: string;
      trigger: string;
      /** Settings the new file changed that only a restart applies; they are kept as they were. */
      needsRestart: string[];
    }
  | {
      ok: false;
      at: string;
      trigger: string;
      /** Every problem, one per line, as `porthole check` prints them; never a secret. */
      error: string;
    };

/** What a new generation needs besides the config, built before anything is swapped. */
interface Prepared {
  generation: Generation;
  tls: TlsCredentials | undefined;
}

/**
 * Reloads the config file into a running service: validate and build the new config whole,
 * then swap it in at once. On any failure the config in force keeps serving and the error
 * is logged and kept for /readyz. Runs in flight keep the config they started with; the
 * replaced datasources close when the last request and run using them are done.
 */
export class Reloader {
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly service: Service,
    private readonly file: string,
    private readonly log: FastifyBaseLogger,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /**
   * Reloads after any reload under way, so two never interleave. Resolves to undefined when
   * shutdown began first: nothing was reloaded. One asked for before shutdown still runs, and
   * shutdown waits for it.
   */
  reload(trigger: string): Promise<ReloadStatus | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    const done = this.queue.then(() => this.reloadNow(trigger));
    this.queue = done.catch(() => undefined);
    return done;
  }

  /** At shutdown: no reload begins after this; resolves once the one under way has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue;
  }

  private async reloadNow(trigger: string): Promise<ReloadStatus | undefined> {
    const at = new Date().toISOString();
    const { app } = this.service;
    const running = app.generations.current;
    let loaded: Config;
    try {
      loaded = await loadConfig(this.file, this.env);
    } catch (error) {
      return this.failed({ ok: false, at, trigger, error: describe(error) });
    }
    const { config, kept } = keepRestartOnly(running.config, loaded);
    const prepared = await this.prepare(config, running);
    if ('error' in prepared) return this.failed({ ok: false, at, trigger, error: prepared.error });

    const onCloseError = (error: unknown) => this.log.error({ err: error }, 'closing the datasources of a config no longer in force failed');
    if (!app.generations.replace(prepared.generation, onCloseError)) {
      // Shutdown has already closed the datasources in force; the new ones must not outlive them.
      await prepared.generation.datasources.closeAll().catch(onCloseError);
      this.log.info({ trigger }, 'config not reloaded: shutting down');
      return undefined;
    }
    app.executor.setLimits(config.limits);
    // A new certificate applies to new connections; ones already open keep theirs.
    if (prepared.tls) (this.service.fastify.server as HttpsServer).setSecureContext(prepared.tls);

    const status: ReloadStatus = { ok: true, at, trigger, needsRestart: kept };
    app.reload = status;
    this.log.info({ trigger, config: config.file, actions: config.actions.size, tls: prepared.tls !== undefined }, 'config reloaded');
    for (const key of kept) this.log.warn({ key }, `${key} changed in the config file, but only a restart applies it; it stays as it was until then`);
    for (const warning of config.warnings) this.log.warn({ key: warning.key, line: warning.line }, warning.message);
    return status;
  }

  /** Builds everything that can fail before the swap: datasource objects, identity, the certificate. */
  private async prepare(config: Config, running: Generation): Promise<Prepared | { error: string }> {
    let generation: Generation | undefined;
    try {
      generation = buildGeneration(config, this.service.app.store, running);
      for (const name of Object.keys(config.datasources)) generation.datasources.get(name);
      return { generation, tls: config.tls && tlsCredentials(config.tls) };
    } catch (error) {
      await generation?.datasources.closeAll();
      return { error: config.secrets.redact(describe(error)) };
    }
  }

  private failed(status: ReloadStatus & { ok: false }): ReloadStatus {
    this.service.app.reload = status;
    this.log.error({ trigger: status.trigger, error: status.error }, 'config reload failed; the previous config keeps serving');
    return status;
  }
}

function describe(error: unknown): string {
  if (error instanceof ConfigError) return error.issues.map(formatIssue).join('\n');
  return error instanceof Error ? error.message : String(error);
}
