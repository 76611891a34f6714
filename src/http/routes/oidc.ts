import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { OidcClient, OidcError, TRANSACTION_TTL_MS, type OidcConfig } from '../../access/oidc.js';
import type { App } from '../app.js';
import { safeNext, type AuthRuntime } from '../auth.js';
import { sendNotFound } from '../errors.js';
import { CONTENT_TYPES } from '../negotiate.js';
import { escapeHtml, page } from '../renderers/html.js';

/** Ties a sign-in to the browser that started it; holds only a random value, never a token. */
const BROWSER_COOKIE = 'porthole_oidc';
const BROWSER_ID = /^[A-Za-z0-9_-]{32}$/;

function failurePage(reply: FastifyReply, status: number, heading: string, reason: string): FastifyReply {
  const body = `<h1>${escapeHtml(heading)}</h1>\n<p role="alert">${escapeHtml(reason)}.</p>\n<p><a href="/login">Back to sign-in</a></p>`;
  return reply.code(status).type(CONTENT_TYPES.html).header('cache-control', 'no-store').send(page(heading, body));
}

function safeReason(error: unknown): string {
  return error instanceof OidcError ? error.message : 'something unexpected went wrong; the details are in Porthole\'s log';
}

/** The sign-on of the request's config; none (and so a 404) while auth.oidc is not configured. */
function singleSignOn(request: FastifyRequest): { auth: AuthRuntime; oidc: OidcClient; config: OidcConfig } | undefined {
  const { auth } = request.generation;
  return auth?.oidc && auth.config.oidc ? { auth, oidc: auth.oidc, config: auth.config.oidc } : undefined;
}

/** Single sign-on with an OpenID provider: /auth/oidc/start sends the browser there, /auth/oidc/callback brings it back. */
export const oidcRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  fastify.get('/auth/oidc/start', async (request: FastifyRequest<{ Querystring: { next?: string } }>, reply) => {
    const sso = singleSignOn(request);
    if (!sso) return sendNotFound(request, reply);
    const { oidc, config } = sso;
    const existing = request.cookies[BROWSER_COOKIE];
    const browser = existing !== undefined && BROWSER_ID.test(existing) ? existing : OidcClient.newBrowserId();
    try {
      const { url } = await oidc.start(safeNext(request.query.next), browser);
      void reply.setCookie(BROWSER_COOKIE, browser, {
        httpOnly: true,
        // Lax: the provider's redirect back is a top-level GET from another site, and must carry it.
        sameSite: 'lax',
        // The browser comes back to the redirect URL, so that URL's scheme says whether the cookie may be Secure.
        secure: new URL(config.redirectUrl).protocol === 'https:',
        path: '/auth/oidc/',
        maxAge: Math.floor(TRANSACTION_TTL_MS / 1000),
      });
      return reply.header('cache-control', 'no-store').redirect(url.href, 302);
    } catch (error) {
      request.log.warn({ ip: request.clientIp ?? null, reason: safeReason(error) }, 'single sign-on could not start');
      void reply.header('retry-after', '30');
      return failurePage(reply, 503, 'Single sign-on is unavailable', safeReason(error));
    }
  });

  fastify.get('/auth/oidc/callback', async (request, reply) => {
    const sso = singleSignOn(request);
    if (!sso) return sendNotFound(request, reply);
    const { auth, oidc, config } = sso;
    // Rebuilt from the configured redirect URL, not the Host header: it is what the provider was told.
    const callback = new URL(config.redirectUrl);
    const query = request.url.indexOf('?');
    callback.search = query === -1 ? '' : request.url.slice(query);
    try {
      const { user, groups, next } = await oidc.finish(callback, request.cookies[BROWSER_COOKIE]);
      auth.startSession(request, reply, { user, groups, via: 'oidc' });
      return reply.header('cache-control', 'no-store').redirect(safeNext(next), 303);
    } catch (error) {
      const reason = safeReason(error);
      if (!(error instanceof OidcError)) request.log.error({ err: error }, 'single sign-on failed unexpectedly');
      else request.log.warn({ ip: request.clientIp ?? null, reason }, 'single sign-on failed');
      app.store.audit.record({ event: 'login-failed', ip: request.clientIp, detail: `oidc: ${reason}` });
      return failurePage(reply, 401, 'Sign-in failed', `Signing in with single sign-on failed: ${reason}`);
    }
  });
};
