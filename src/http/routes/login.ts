import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { verifyPassword } from '../../access/passwords.js';
import type { App } from '../app.js';
import { safeNext, type AuthRuntime } from '../auth.js';
import { sendNotFound } from '../errors.js';
import { CONTENT_TYPES } from '../negotiate.js';
import { csrfField, escapeHtml, page } from '../renderers/html.js';

/** The same words for an unknown name and a wrong password: the page tells nobody who exists. */
const FAILED = 'Wrong user name or password.';

type LoginBody = { user?: unknown; password?: unknown; next?: unknown };

function loginPage(auth: AuthRuntime, reply: FastifyReply, next: string, status: number, message?: string, user = ''): FastifyReply {
  const local = Object.keys(auth.config.users).length > 0;
  const error = message ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : '';
  const form = local
    ? `<form class="run-form login" method="post" action="/login">
${error}${csrfField(reply.generateCsrf())}<input type="hidden" name="next" value="${escapeHtml(next)}">
<div class="field"><label for="login-user">User name</label><input id="login-user" name="user" type="text" autocomplete="username" required value="${escapeHtml(user)}" autofocus></div>
<div class="field"><label for="login-password">Password</label><input id="login-password" name="password" type="password" autocomplete="current-password" required></div>
<div class="buttons"><button type="submit" class="primary">Sign in</button></div>
</form>`
    : error;
  const sso = auth.config.oidc ? `<p><a class="button primary" href="/auth/oidc/start?next=${encodeURIComponent(next)}">${escapeHtml(auth.config.oidc.label)}</a></p>` : '';
  return reply.code(status).type(CONTENT_TYPES.html).header('cache-control', 'no-store').send(page('Sign in', `<h1>Sign in</h1>\n${form}\n${sso}`));
}

/** Sign-in with a local user name and password, and sign-out; not found while the config has no auth: section. */
export const loginRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  fastify.get('/login', async (request: FastifyRequest<{ Querystring: { next?: string } }>, reply) => {
    const { auth } = request.generation;
    if (!auth) return sendNotFound(request, reply);
    return loginPage(auth, reply, safeNext(request.query.next), 200);
  });

  fastify.post('/login', async (request: FastifyRequest<{ Body: LoginBody }>, reply) => {
    const { auth } = request.generation;
    if (!auth) return sendNotFound(request, reply);
    const body = request.body ?? {};
    const user = typeof body.user === 'string' ? body.user.slice(0, 200) : '';
    const password = typeof body.password === 'string' ? body.password.slice(0, 1024) : '';
    const next = safeNext(body.next);
    const ip = request.clientIp;
    const wait = auth.throttle.retryAfter(user, ip);
    if (wait > 0) {
      app.store.audit.record({ event: 'login-failed', user, ip, detail: 'throttled' });
      app.metrics.denied('login-throttled');
      void reply.header('retry-after', String(Math.ceil(wait / 1000)));
      return loginPage(auth, reply, next, 429, `Too many failed attempts. Try again in ${Math.ceil(wait / 60_000)} minute(s).`, user);
    }
    const succeeded = auth.throttle.attempt(user, ip);
    if (!(await verifyPassword(password, auth.config.users[user]?.passwordHash))) {
      app.store.audit.record({ event: 'login-failed', user, ip });
      return loginPage(auth, reply, next, 401, FAILED, user);
    }
    succeeded();
    auth.startSession(request, reply, { user, groups: auth.identity.groupsOf(user), via: 'password' });
    return reply.redirect(next, 303);
  });

  fastify.post('/logout', async (request, reply) => {
    const { auth } = request.generation;
    if (!auth) return sendNotFound(request, reply);
    auth.endSession(request, reply);
    return reply.redirect('/login', 303);
  });
};
