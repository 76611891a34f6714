import type { FastifyPluginAsync } from 'fastify';
import { isAdmin } from '../../access/decide.js';
import type { App } from '../app.js';
import { sendNotFound } from '../errors.js';

/**
 * `/metrics` in Prometheus's text format, behind the network gate. With auth: on, only admins
 * (auth.admins) may read it, as the admin pages: its labels name every action, including
 * those allow: hides from most people. Others get the same 404 as for a page that does not exist.
 */
export const metricsRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  const { registry } = app.metrics;
  fastify.get('/metrics', async (request, reply) => {
    const { auth } = request.generation.config;
    if (auth && !isAdmin(auth, request.principal)) return sendNotFound(request, reply);
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};
