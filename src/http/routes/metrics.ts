import type { FastifyPluginAsync } from 'fastify';
import type { App } from '../app.js';

/** `/metrics` in Prometheus's text format. Behind the network gate, and with auth: on, a signed-in identity (an API token). */
export const metricsRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  const { registry } = app.metrics;
  fastify.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()));
};
