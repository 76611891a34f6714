import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import staticFiles from '@fastify/static';
import compress from '@fastify/compress';
import { createRequire } from 'node:module';
import { isCrossSite } from '../access/same-origin.js';
import { tlsCredentials } from '../config/tls.js';
import type { App } from './app.js';
import { registerAuth } from './auth.js';
import { securityHeaders } from './security-headers.js';
import { loginRoutes } from './routes/login.js';
import { oidcRoutes } from './routes/oidc.js';
import { adminRoutes } from './routes/admin.js';
import { sendError, sendForbidden, sendNotFound, toErrorBody } from './errors.js';
import { pathOf } from './params-input.js';
import { aliasRoutes } from './routes/aliases.js';
import { apiRoutes } from './routes/api.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { pageRoutes } from './routes/pages.js';
import { streamRoutes } from './routes/streams.js';

/** Browser assets; the same folder whether running from src/ or the compiled dist/. */
const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/web');
// chart.js exports only its module builds; its folder is found through the main entry.
const CHART_DIR = path.dirname(createRequire(import.meta.url).resolve('chart.js'));

/** Whether the logger writes info lines: pino can say; the logger of `logger: false` writes nothing. */
export function writesInfo(log: FastifyBaseLogger): boolean {
  return (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') === true;
}

/**
 * Assembles the HTTP service. The order of hooks is the request's path through Porthole:
 * network gate (client IP, allowlist) first, for every route, before any body is read.
 */
export async function buildServer(app: App, logger: FastifyServerOptions['logger'] = false): Promise<FastifyInstance> {
  // These settings are the server's own: a reload keeps them (see reload.ts).
  const { server, tls } = app.generations.current.config;
  const fastify = Fastify({
    ...(tls ? { https: tlsCredentials(tls) } : {}),
    logger,
    // One line per request is written by the onResponse hook below, with the gate's client IP.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    bodyLimit: server.bodyLimit,
    http: { maxHeaderSize: server.maxHeaderSize },
    requestTimeout: server.requestTimeout,
    keepAliveTimeout: server.keepAliveTimeout,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 128 },
  });

  const headers = securityHeaders({ hsts: tls !== undefined });
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
  // After the security headers, so even a denied answer carries the same headers as any other page.
  fastify.decorateRequest('clientIp', undefined);
  fastify.decorateRequest('generation', undefined as never);
  // Callback hooks, not async ones: an async hook costs every request a promise and a turn of
  // the microtask queue. A hook that answers does not call done().
  fastify.addHook('onRequest', (request, reply, done) => {
    // Taken once: every later stage of this request sees the same config, whatever a reload does meanwhile.
    const { gate } = (request.generation = app.generations.enter(reply));
    const decision = gate.decide(request.raw.socket.remoteAddress, request.headers);
    request.clientIp = decision.ip;
    if (!decision.allowed) {
      request.log.warn({ ip: decision.ip ?? null, peer: request.raw.socket.remoteAddress, method: request.method, url: pathOf(request.url) }, 'denied by network allowlist');
      app.metrics.denied('network');
      void (gate.denyStatus === 403 ? sendForbidden(request, reply) : sendNotFound(request, reply));
      return;
    }
    if (isCrossSite(request.method, request.headers)) {
      request.log.warn({ ip: decision.ip, origin: request.headers.origin ?? null, url: pathOf(request.url) }, 'cross-site request refused');
      app.metrics.denied('cross-site');
      void sendError(request, reply, { status: 403, code: 'CROSS_SITE', message: 'requests that change things must come from Porthole\'s own pages or from a script, not from another site' });
      return;
    }
    done();
  });
  // Only when info lines are written at all: with logging off (tests, benchmarks) or above info, no hook runs.
  if (writesInfo(fastify.log)) {
    fastify.addHook('onResponse', (request, reply, done) => {
      request.log.info({ ip: request.clientIp ?? null, method: request.method, url: pathOf(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
      done();
    });
  }

  await registerAuth(fastify, app.metrics);

  // Bodies are JSON or HTML forms. Plain text is what another site can send without a preflight: refuse it.
  fastify.removeContentTypeParser('text/plain');
  await fastify.register(formbody, { bodyLimit: server.bodyLimit });
  // Answers are compressed; request bodies are small JSON or forms, so none is decompressed.
  await fastify.register(compress, { threshold: 1024, encodings: ['br', 'gzip'], globalDecompression: false });
  await fastify.register(staticFiles, { root: WEB_DIR, prefix: '/static/', maxAge: '1h', index: false, list: false, dotfiles: 'deny' });
  // Only the chart library's one browser build is served from node_modules, nothing else there.
  await fastify.register(staticFiles, { root: CHART_DIR, prefix: '/static/vendor/', maxAge: '7d', index: false, list: false, decorateReply: false, allowedPath: (file) => file === '/chart.umd.min.js' });

  fastify.setNotFoundHandler((request, reply) => sendNotFound(request, reply));
  fastify.setErrorHandler((error, request, reply) => {
    const body = toErrorBody(error);
    if (body.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendError(request, reply, body);
  });

  await fastify.register(loginRoutes, { app });
  await fastify.register(oidcRoutes, { app });
  await fastify.register(adminRoutes, { app });
  await fastify.register(healthRoutes, { app });
  await fastify.register(metricsRoutes, { app });
  await fastify.register(apiRoutes, { app });
  await fastify.register(streamRoutes, { app });
  await fastify.register(pageRoutes, { app });
  await fastify.register(aliasRoutes, { app });
  return fastify;
}
