import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import { IdentityResolver, passwordFingerprint } from '../access/identity.js';
import { LoginThrottle } from '../access/login-throttle.js';
import { OidcClient } from '../access/oidc.js';
import { SAFE_METHODS } from '../access/same-origin.js';
import type { AuthConfig } from '../config/schema.js';
import type { Config } from '../config/load.js';
import type { Store } from '../store/open.js';
import type { Metrics } from '../metrics/registry.js';
import { defaultFormat, sendError } from './errors.js';
import { negotiate } from './negotiate.js';

/** Who signed in, as the login flows hand it over to start a session. */
export interface SignedIn {
  user: string;
  groups: string[];
  via: 'password' | 'oidc';
}

/** The pieces of identity the routes use; present only with an auth: section. */
export interface AuthRuntime {
  config: AuthConfig;
  identity: IdentityResolver;
  throttle: LoginThrottle;
  /** Present with auth.oidc. */
  oidc: OidcClient | undefined;
  startSession(request: FastifyRequest, reply: FastifyReply, who: SignedIn): void;
  endSession(request: FastifyRequest, reply: FastifyReply): void;
}

/**
 * Routes anyone past the network gate may reach without signing in: the login flow and its
 * assets, and /healthz, which says only that the process answers, so that a container's
 * healthcheck or an orchestrator's liveness probe needs no credentials.
 */
const PUBLIC = [/^\/login(\?|$)/, /^\/auth\/oidc\/(start|callback)(\?|$)/, /^\/static\//, /^\/healthz(\?|$)/];

function isPublic(url: string): boolean {
  return PUBLIC.some((pattern) => pattern.test(url));
}

/** Cookies are Secure when the browser reached us over TLS (directly, or through a trusted proxy that says so). */
function overTls(request: FastifyRequest, trustedProxy: boolean): boolean {
  if ((request.raw.socket as { encrypted?: boolean }).encrypted) return true;
  return trustedProxy && request.headers['x-forwarded-proto'] === 'https';
}

/** Only a local path may follow a login, so the login page cannot send people elsewhere. */
export function safeNext(next: unknown): string {
  // No "//host", no backslashes, no control characters (browsers drop tabs, turning "/\t/host" into "//host").
  return typeof next === 'string' && next.length <= 2048 && /^\/(?![/\\])[^\\\u0000-\u001f\u007f]*$/.test(next) ? next : '/';
}

/**
 * Identity for one config. `previous` (the runtime being replaced by a reload) lends its
 * login throttle and single sign-on client when their settings are unchanged, so a reload
 * neither forgives failed logins nor breaks sign-ins under way.
 */
export function createAuthRuntime(config: Config, store: Store, previous?: AuthRuntime): AuthRuntime | undefined {
  const auth = config.auth;
  if (!auth) return undefined;
  const identity = new IdentityResolver(auth, config.network.trustedProxies, store);
  const throttle = previous && isDeepStrictEqual(previous.config.throttle, auth.throttle) ? previous.throttle : new LoginThrottle(auth.throttle.maxFailures, auth.throttle.window);
  const oidc = !auth.oidc ? undefined : previous?.oidc && isDeepStrictEqual(previous.config.oidc, auth.oidc) ? previous.oidc : new OidcClient(auth.oidc);
  const cookieName = auth.session.cookieName;
  const cookieOptions = (request: FastifyRequest) => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    path: '/',
    secure: overTls(request, request.generation.gate.isTrustedProxy(request.raw.socket.remoteAddress)),
  });
  return {
    config: auth,
    identity,
    throttle,
    oidc,
    startSession(request, reply, who) {
      const old = request.cookies[cookieName];
      if (old) store.sessions.delete(old);
      const now = Date.now();
      const id = store.sessions.create({
        ...who,
        createdAt: now,
        lastSeenAt: now,
        expiresAt: now + auth.session.absoluteTimeout,
        fingerprint: who.via === 'password' ? passwordFingerprint(auth.users[who.user]?.passwordHash) : '',
      });
      void reply.setCookie(cookieName, id, { ...cookieOptions(request), maxAge: Math.floor(auth.session.absoluteTimeout / 1000) });
      store.audit.record({ event: 'login', user: who.user, ip: request.clientIp, detail: who.via });
    },
    endSession(request, reply) {
      const id = request.cookies[cookieName];
      if (id) store.sessions.delete(id);
      void reply.clearCookie(cookieName, cookieOptions(request));
      if (request.principal.kind === 'user') store.audit.record({ event: 'logout', user: request.principal.user, ip: request.clientIp });
    },
  };
}

/**
 * Identity for every request: cookies, CSRF protection for cookie sessions, the principal
 * decided right after the network gate, and sign-in required everywhere but the login flow.
 * Each request follows the auth: of its own generation, so a reload may turn sign-in on or off.
 */
export async function registerAuth(fastify: FastifyInstance, metrics: Metrics): Promise<void> {
  fastify.decorateRequest('principal', undefined as never);
  await fastify.register(cookie);
  await fastify.register(csrf, {
    cookieKey: '_porthole_csrf',
    cookieOpts: { httpOnly: true, sameSite: 'strict', path: '/', signed: false, secure: 'auto' },
    getToken: (request) => {
      const header = request.headers['x-csrf-token'];
      if (typeof header === 'string') return header;
      const body = request.body as Record<string, unknown> | undefined;
      return typeof body?._csrf === 'string' ? body._csrf : undefined;
    },
  });

  // A callback hook (see server.ts): one that answers does not call done().
  fastify.addHook('onRequest', (request, reply, done) => {
    const { auth } = request.generation;
    if (!auth) {
      request.principal = { kind: 'anonymous', ip: request.clientIp };
      return done();
    }
    const result = auth.identity.resolve({
      ip: request.clientIp,
      peer: request.raw.socket.remoteAddress,
      headers: request.headers,
      sessionId: request.cookies[auth.config.session.cookieName],
    });
    if ('invalidToken' in result) {
      request.principal = { kind: 'anonymous', ip: request.clientIp };
      metrics.denied('invalid-token');
      void reply.header('www-authenticate', 'Bearer error="invalid_token"');
      void sendError(request, reply, { status: 401, code: 'INVALID_TOKEN', message: 'the API token is not valid: unknown, revoked or expired' });
      return;
    }
    request.principal = result.principal;
    if (result.principal.kind === 'user' || isPublic(request.url)) return done();
    metrics.denied('unauthenticated');
    if (request.method === 'GET' && negotiate(request.raw, defaultFormat(request)) === 'html') {
      void reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
      return;
    }
    void reply.header('www-authenticate', 'Bearer');
    void sendError(request, reply, { status: 401, code: 'SIGN_IN_REQUIRED', message: 'sign in first: send an API token as "Authorization: Bearer …" or use the login page' });
  });

  // A cookie is sent by the browser whatever page asked; state changes through one need our token.
  fastify.addHook('preHandler', (request, reply, done) => {
    if (!request.generation.auth || SAFE_METHODS.has(request.method)) return done();
    const usesCookie = request.principal.kind === 'user' && request.principal.via === 'session';
    if (usesCookie || request.url.startsWith('/login')) return fastify.csrfProtection(request, reply, done);
    done();
  });
  // The CSRF plugin refuses a missing or wrong token itself, with its own errors.
  fastify.addHook('onError', async (_request, _reply, error) => {
    if (error.code === 'FST_CSRF_MISSING_SECRET' || error.code === 'FST_CSRF_INVALID_TOKEN') metrics.denied('csrf');
  });
}
