import { isDeepStrictEqual } from 'node:util';
import type { Config } from './load.js';

/**
 * A reloaded config with the settings a running server cannot change put back as they
 * were: the listening address, HTTPS on or off, the server's own request limits (options
 * of the HTTP server itself), and where the store lives and how it keeps history. `kept`
 * names each one the new file changed, so the operator hears that it needs a restart.
 */
export function keepRestartOnly(running: Config, next: Config): { config: Config; kept: string[] } {
  const kept: string[] = [];
  const keep = <T>(key: string, was: T, now: T): T => {
    if (!isDeepStrictEqual(was, now)) kept.push(key);
    return was;
  };
  const server = {
    ...next.server,
    bodyLimit: keep('server.bodyLimit', running.server.bodyLimit, next.server.bodyLimit),
    maxHeaderSize: keep('server.maxHeaderSize', running.server.maxHeaderSize, next.server.maxHeaderSize),
    requestTimeout: keep('server.requestTimeout', running.server.requestTimeout, next.server.requestTimeout),
    keepAliveTimeout: keep('server.keepAliveTimeout', running.server.keepAliveTimeout, next.server.keepAliveTimeout),
  };
  // New certificate files are fine; switching HTTPS on or off is not.
  const tls = (running.tls === undefined) === (next.tls === undefined) ? next.tls : keep('tls', running.tls, next.tls);
  const config: Config = {
    ...next,
    listen: keep('listen', running.listen, next.listen),
    tls,
    server,
    dataDir: keep('dataDir', running.dataDir, next.dataDir),
    history: keep('history', running.history, next.history),
  };
  return { config, kept };
}
