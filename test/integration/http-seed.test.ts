import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createService, type Service } from '../../src/http/service.js';
import { tempDir } from '../helpers/config.js';
import { request } from '../helpers/server.js';
import { requireService } from '../helpers/services.js';
import { SEED_EXAMPLE, setUpSeed } from '../helpers/seed.js';

const available = await requireService('mariadb');
const EXAMPLE = SEED_EXAMPLE;
let password = '';

describe.skipIf(!available)('the seed over HTTP: GET /status/ from MariaDB', () => {
  let service: Service;
  let port: number;

  beforeAll(async () => {
    password = await setUpSeed();
    // The example exactly as shipped, with its data directory moved out of the repository.
    const text = readFileSync(path.join(EXAMPLE, 'porthole.yaml'), 'utf8') + `\ndataDir: ${tempDir()}\n`;
    const config = parseConfig(text, path.join(EXAMPLE, 'porthole.yaml'), { TASKS_DB_PASSWORD: password });
    service = await createService(config);
    await service.fastify.listen({ host: '::', port: 0 });
    port = (service.fastify.server.address() as AddressInfo).port;
  });
  afterAll(() => service?.close());

  it('shows Success 1, Pending 1, Failed 1 to an allowed address, as text for curl', async () => {
    const res = await request(port, '/status/', { headers: { accept: '*/*', 'user-agent': 'curl/8.0' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toMatch(/\| Success \|\s+1 \|\n\| Pending \|\s+1 \|\n\| Failed {2}\|\s+1 \|/);
  });

  it('gives a browser a readable page', async () => {
    const res = await request(port, '/status/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<h1>Task status</h1>');
    expect(res.body).toMatch(/<td>Success<\/td><td class="num" data-value="1">1<\/td>/);
    expect(res.body).toMatch(/<td>Pending<\/td><td class="num" data-value="1">1<\/td>/);
    expect(res.body).toMatch(/<td>Failed<\/td><td class="num" data-value="1">1<\/td>/);
  });

  it('gives scripts JSON', async () => {
    const res = await request(port, '/status.json');
    expect(res.status).toBe(200);
    expect((JSON.parse(res.body) as { rows: unknown[] }).rows).toEqual([['Success', 1], ['Pending', 1], ['Failed', 1]]);
  });

  it('answers the IPv6 loopback, which the example allows', async () => {
    const res = await request(port, '/status.txt', { host: '::1', localAddress: '::1' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('Success');
  });

  it('answers a denied address with an ordinary 404, like the original', async () => {
    const denied = await request(port, '/status/', { localAddress: '127.0.0.2', headers: { accept: 'text/html' } });
    const unknown = await request(port, '/no-such-page', { headers: { accept: 'text/html' } });
    expect(denied.status).toBe(404);
    expect(denied.body).toBe(unknown.body);
    expect(denied.body).not.toContain('Success');
  });

  it('serves the result from the cache within 10 s, saying how old it is', async () => {
    const first = await request(port, '/status.json');
    const second = await request(port, '/status.json');
    expect(second.headers['x-porthole-run']).toBe(first.headers['x-porthole-run']);
    expect(second.headers.age).toBeDefined();
  });

  it('reports ready when MariaDB answers', async () => {
    const res = await request(port, '/readyz');
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ status: 'ready', datasources: [{ name: 'tasks', ok: true }] });
  });
});
