// The ceiling: a bare Node http server answering every request with a fixed body,
// about the size of Porthole's /status/ text answer. Headers given as `name=value`
// arguments after the port are sent too (bench/run.ts passes Porthole's security headers
// for scenario 2c); without them it sends only the two every answer needs.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import process from 'node:process';

const port = Number(process.argv[2] ?? 8090);
const body = 'status   tasks\n-------  -----\nSuccess      1\nPending      1\nFailed       1\n';
const headers = {
  ...Object.fromEntries(
    process.argv.slice(3).map((pair) => {
      const at = pair.indexOf('=');
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  ),
  'content-type': 'text/plain; charset=utf-8',
  'content-length': Buffer.byteLength(body),
};

createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
}).listen(port, '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
