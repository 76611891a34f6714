import type { FastifyServerOptions } from 'fastify';
import type { Config } from '../config/load.js';
import { watchConfig } from '../config/watch.js';
import { Reloader } from '../http/reload.js';
import { createService } from '../http/service.js';
import { killAllRunningGroups } from '../runners/process-group.js';
import { posixSpawnUnavailable } from '../runners/spawn/choose-spawner.js';
import { EXIT } from './exit-codes.js';

/** JSON lines for machines; readable lines when a person watches the terminal. Never credentials. */
function loggerOptions(): FastifyServerOptions['logger'] {
  return {
    level: process.env.PORTHOLE_LOG_LEVEL ?? 'info',
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '***' },
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } } : {}),
  };
}

function parseListen(text: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(text);
  return m && Number(m[2]) <= 65535 ? { host: m[1]!, port: Number(m[2]) } : undefined;
}

/**
 * `porthole serve`: runs until SIGTERM or SIGINT, then stops gracefully and exits 0. SIGHUP,
 * or a change to the config file, reloads the config (and re-reads the TLS certificate).
 */
export async function serve(config: Config, listen: string | undefined): Promise<number> {
  const address = listen === undefined ? config.listen : parseListen(listen);
  if (!address) {
    console.error(`porthole: --listen expects HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080), got "${listen}"`);
    return EXIT.usage;
  }
  const service = await createService(config, loggerOptions());
  const { log } = service.fastify;
  // Commands run in their own process groups; if this process dies, they must not outlive it.
  process.on('exit', () => killAllRunningGroups('SIGKILL'));
  const reloader = new Reloader(service, config.file, log);
  const onHangup = () => void reloader.reload('SIGHUP');
  process.on('SIGHUP', onHangup);
  const watcher = watchConfig(config.file, config.text, () => void reloader.reload('file changed'), {
    onError: (error) => log.warn({ err: error }, 'a folder of the config file cannot be watched; SIGHUP still reloads'),
  });
  // Once the server answers, a save of the config is seen.
  await watcher.ready;

  await service.fastify.listen({ host: address.host, port: address.port });
  if (config.tls) log.info({ cert: config.tls.cert }, 'serving HTTPS; SIGHUP re-reads the certificate and key');
  log.info({ config: config.file, actions: config.actions.size, allow: config.network.allow }, 'porthole is serving');
  if (config.auth) log.info({ users: Object.keys(config.auth.users).length, oidc: config.auth.oidc !== undefined, trustedHeader: config.auth.trustedHeader !== undefined }, 'sign-in required on every route but the login flow');
  else log.warn('no auth: section: anyone the network allowlist admits may view and run every action');
  if (posixSpawnUnavailable !== undefined) {
    log.warn({ reason: posixSpawnUnavailable }, "commands start through Node's child_process, which slows down as the server grows; `npm rebuild porthole` with python3, make and a C compiler installed builds the faster posix_spawn module");
  }
  for (const warning of config.warnings) log.warn({ key: warning.key, line: warning.line }, warning.message);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info({ signal, grace: config.server.shutdownGrace }, 'shutting down: finishing runs in flight');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  watcher.close();
  process.off('SIGHUP', onHangup);
  // A reload under way finishes first, so that closing the service closes whatever it put in force.
  await reloader.stop();
  await service.close();
  log.info('stopped');
  return EXIT.ok;
}
