// The ceiling: a bare Node http server answering every request with a fixed body,
// about the size of Porthole's /status/ text answer.
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import process from 'node:process';

const port = Number(process.argv[2] ?? 8090);
const body = 'status   tasks\n-------  -----\nSuccess      1\nPending      1\nFailed       1\n';

createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}).listen(port, '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
