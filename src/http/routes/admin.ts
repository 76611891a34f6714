import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isAdmin } from '../../access/decide.js';
import { explain, formatExplanation } from '../../access/explain.js';
import type { App } from '../app.js';
import { sendNotFound } from '../errors.js';
import { CONTENT_TYPES } from '../negotiate.js';
import { escapeHtml, page } from '../renderers/html.js';

/** Admin pages: for now, "may this user view and run this action, and why". Hidden from everyone else. */
export const adminRoutes: FastifyPluginAsync<{ app: App }> = async (fastify) => {
  fastify.get('/admin/explain', async (request: FastifyRequest<{ Querystring: { user?: string; action?: string; groups?: string } }>, reply) => {
    const { config } = request.generation;
    if (!isAdmin(config.auth, request.principal)) return sendNotFound(request, reply);
    const { user = '', action = '', groups } = request.query;
    const options = [...config.actions.keys()].map((id) => `<option value="${escapeHtml(id)}"${id === action ? ' selected' : ''}>${escapeHtml(id)}</option>`).join('');
    const form = `<form class="run-form" method="get" action="/admin/explain">
<div class="field"><label for="explain-user">User</label><input id="explain-user" name="user" type="text" required value="${escapeHtml(user)}"></div>
<div class="field"><label for="explain-groups">Groups <span class="optional">(for single sign-on users; blank: from the config)</span></label><input id="explain-groups" name="groups" type="text" value="${escapeHtml(groups ?? '')}"></div>
<div class="field"><label for="explain-action">Action</label><select id="explain-action" name="action">${options}</select></div>
<div class="buttons"><button type="submit" class="primary">Explain</button></div>
</form>`;
    let answer = '';
    if (user && action) {
      const result = explain(config, user, action, groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : undefined);
      answer = 'error' in result ? `<p class="error">${escapeHtml(result.error)}</p>` : `<pre class="output" id="explanation">${escapeHtml(formatExplanation(result))}</pre>`;
    }
    const csrf = request.principal.kind === 'user' ? reply.generateCsrf() : undefined;
    const user_ = request.principal.kind === 'user' ? request.principal.user : undefined;
    return reply.type(CONTENT_TYPES.html).send(page('Who may do what', `<h1>Who may do what</h1>\n${form}\n${answer}`, { user: user_, csrf }));
  });
};
