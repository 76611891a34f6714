// What the framework alone costs: a bare Fastify server answering `/status/` with a fixed
// body, as the bare Node server does, plus the security headers Porthole sends on every
// answer. bench/run.ts passes them as `name=value` arguments after the port, from Porthole's
// own code, so the two always send the same set.
import process from 'node:process';
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 8091);
const body = 'status   tasks\n-------  -----\nSuccess      1\nPending      1\nFailed       1\n';
const headers = Object.fromEntries(
  process.argv.slice(3).map((pair) => {
    const at = pair.indexOf('=');
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);

const app = Fastify({ logger: false });
app.addHook('onRequest', (_request, reply, done) => {
  reply.headers(headers);
  done();
});
app.get('/status/', (_request, reply) => reply.type('text/plain; charset=utf-8').send(body));
await app.listen({ host: '127.0.0.1', port });

process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
