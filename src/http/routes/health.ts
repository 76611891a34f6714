import type { FastifyPluginAsync } from 'fastify';
import type { App } from '../app.js';

const PING_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * `/healthz`: the process answers. It needs no sign-in (see auth.ts), so it must never say
 * more than that. `/readyz`: the config is loaded and every datasource
 * answers. A failed reload does not make it 503: the last good config is still serving,
 * and taking every instance out of a load balancer over a typo in a shared file would turn
 * a config mistake into an outage. The body's `reload` says it failed, and why, for
 * monitoring and for the operator.
 */
export const healthRoutes: FastifyPluginAsync<{ app: App }> = async (fastify, { app }) => {
  fastify.get('/healthz', async () => ({ status: 'ok' }));

  fastify.get('/readyz', async (request, reply) => {
    const { config, datasources } = request.generation;
    const checks = await Promise.all(
      Object.keys(config.datasources).map(async (name) => {
        try {
          await withTimeout(datasources.get(name).ping(), PING_TIMEOUT_MS);
          return { name, ok: true };
        } catch (error) {
          return { name, ok: false, error: config.secrets.redact((error as Error).message) };
        }
      }),
    );
    const ready = checks.every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      config: config.file,
      datasources: checks,
      ...(app.reload ? { reload: app.reload } : {}),
    });
  });
};
