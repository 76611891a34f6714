import type { FastifyPluginAsync } from 'fastify';
import type { App } from '../app.js';

const PING_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** `/healthz`: the process answers. `/readyz`: the config is loaded and every datasource answers. */
export const healthRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  fastify.get('/healthz', async () => ({ status: 'ok' }));

  fastify.get('/readyz', async (_request, reply) => {
    const checks = await Promise.all(
      Object.keys(app.config.datasources).map(async (name) => {
        try {
          await withTimeout(app.datasources.get(name).ping(), PING_TIMEOUT_MS);
          return { name, ok: true };
        } catch (error) {
          return { name, ok: false, error: app.config.secrets.redact((error as Error).message) };
        }
      }),
    );
    const ready = checks.every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', config: app.config.file, datasources: checks });
  });
};
