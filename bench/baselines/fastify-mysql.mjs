// What the framework and the driver alone cost: a bare Fastify server whose `GET /status/`
// runs the seed's query through a mysql2 pool (a prepared statement, as Porthole's is) and
// answers the rows as text, with the security headers Porthole sends, given as `name=value`
// arguments after the port. No parameters, access checks, limits, history or metrics.
import process from 'node:process';
import Fastify from 'fastify';
import mysql from 'mysql2/promise';

const port = Number(process.argv[2] ?? 8092);
const headers = Object.fromEntries(
  process.argv.slice(3).map((pair) => {
    const at = pair.indexOf('=');
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);
const sql = `SELECT task_status AS status, COUNT(*) AS tasks
FROM tasks
GROUP BY task_status
ORDER BY FIELD(task_status, 'Success', 'Pending', 'Failed'), task_status`;

const pool = mysql.createPool({
  host: '127.0.0.1',
  user: process.env.BENCH_DB_USER,
  password: process.env.BENCH_DB_PASSWORD,
  database: 'flasktest',
  connectionLimit: 10,
});

const app = Fastify({ logger: false });
app.addHook('onRequest', (_request, reply, done) => {
  reply.headers(headers);
  done();
});
app.get('/status/', async (_request, reply) => {
  const [rows] = /** @type {[Array<Array<string | number>>, unknown]} */ (await pool.execute({ sql, rowsAsArray: true }));
  reply.type('text/plain; charset=utf-8');
  return `status\ttasks\n${rows.map((row) => row.join('\t')).join('\n')}\n`;
});
await app.listen({ host: '127.0.0.1', port });

process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
