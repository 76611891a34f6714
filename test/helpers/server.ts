import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createService, type Service } from '../../src/http/service.js';
import { configFrom, tempDir } from './config.js';

export interface TestServer {
  service: Service;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts a real Porthole service on an ephemeral port from YAML (written into a temp
 * folder, which also holds its data directory). `host` defaults to `::` (dual stack), so
 * IPv4 clients arrive as IPv4-mapped IPv6 addresses, as they do on most servers.
 */
export async function startServer(yaml: string, options: { host?: string; env?: NodeJS.ProcessEnv; dir?: string } = {}): Promise<TestServer> {
  const config = configFrom(yaml, { dir: options.dir ?? tempDir(), env: options.env ?? {} });
  const service = await createService(config);
  await service.fastify.listen({ host: options.host ?? '::', port: 0 });
  const { port } = service.fastify.server.address() as AddressInfo;
  return { service, port, url: `http://127.0.0.1:${port}`, close: () => service.close() };
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP request over a real socket, optionally from a chosen local address
 * (127.0.0.2, ::1 …) so allowlists see different clients.
 */
export function request(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string; host?: string } = {},
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: options.host ?? '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}
