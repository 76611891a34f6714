import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import { sendNotFound } from '../errors.js';
import { escapeHtml, page } from '../renderers/html.js';
import { CONTENT_TYPES } from '../negotiate.js';
import { paramsFromUrl } from '../params-input.js';
import { runAndRespond } from '../run-request.js';

/** The server-rendered pages: the list of actions, and a page per action. */
export const pageRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  fastify.get('/', async (_request, reply) => {
    const items = [...app.config.actions.values()].map((action) => {
      const description = action.description ? `<p>${escapeHtml(action.description)}</p>` : '';
      return `<li><a href="/actions/${escapeHtml(action.id)}">${escapeHtml(action.title)}</a>${description}</li>`;
    });
    return reply.type(CONTENT_TYPES.html).send(page('Porthole', `<h1>Porthole</h1>\n<ul class="actions">\n${items.join('\n')}\n</ul>`));
  });

  fastify.get('/actions/:id', async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const action = app.config.actions.get(request.params.id);
    if (!action) return sendNotFound(request, reply);
    if (action.safe) return runAndRespond(app, request, reply, action, paramsFromUrl(request.url, app.config.server.maxParams), 'html');
    const description = action.description ? `<p>${escapeHtml(action.description)}</p>` : '';
    return reply
      .type(CONTENT_TYPES.html)
      .send(page(action.title, `<h1>${escapeHtml(action.title)}</h1>\n${description}\n<p class="meta">This action changes things on the server; run it with POST /api/actions/${escapeHtml(action.id)}/runs.</p>`));
  });
};
