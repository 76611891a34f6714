import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * Docker cannot build here, so the Dockerfile and compose example are checked against the
 * repository instead: the paths and port they share agree, what the image copies is in the
 * build context, the healthcheck's own script passes against a real Porthole, and the
 * compose config is the seed's example and valid.
 */

const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
/** Instructions with their continuation lines joined. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((line) => /^[A-Z]+\s/.test(line))
  .map((line) => ({ op: line.slice(0, line.indexOf(' ')), args: line.slice(line.indexOf(' ') + 1).trim() }));
const one = (op: string) => {
  const found = instructions.filter((i) => i.op === op);
  expect(found, `exactly one ${op}`).toHaveLength(1);
  return found[0]!.args;
};

const cmd = JSON.parse(one('CMD')) as string[];
const configPath = cmd[cmd.indexOf('-c') + 1]!;
const listen = cmd[cmd.indexOf('--listen') + 1]!;
const port = listen.split(':').at(-1)!;
const volume = one('VOLUME');

interface ComposeService {
  build?: { context: string };
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  stop_grace_period?: string;
}
const composeDir = path.join(ROOT, 'deploy/docker');
const compose = parse(readFileSync(path.join(composeDir, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService> };
const porthole = compose.services.porthole!;
/** A service's bind mounts and volumes as target → source. */
const mounts = (service: ComposeService) => new Map((service.volumes ?? []).map((v) => [v.split(':')[1]!, v.split(':')[0]!]));

describe('Dockerfile', () => {
  it('serves on the port it exposes, with the config and data paths the compose file mounts', () => {
    expect(cmd[0]).toBe('serve');
    expect(one('EXPOSE')).toBe(port);
    expect(porthole.ports).toContainEqual(expect.stringMatching(new RegExp(`:${port}$`)));
    expect(mounts(porthole).has(configPath)).toBe(true);
    expect(mounts(porthole).has(volume)).toBe(true);
  });

  it('copies from the build context only what exists and what .dockerignore lets through', () => {
    const kept = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1));
    const fromContext = instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'));
    expect(fromContext.length).toBeGreaterThan(0);
    for (const { args } of fromContext) {
      for (const source of args.split(/\s+/).slice(0, -1)) {
        expect(existsSync(path.join(ROOT, source)), source).toBe(true);
        expect(kept.some((entry) => source === entry || source.startsWith(`${entry}/`)), `${source} is in the build context`).toBe(true);
      }
    }
  });

  describe('its HEALTHCHECK command', () => {
    let server: TestServer;
    const healthcheck = JSON.parse(one('HEALTHCHECK').replace(/^.*?CMD\s+/, '')) as string[];
    const against = (target: number) => {
      const argv = healthcheck.map((arg) => arg.replace(`127.0.0.1:${port}/`, `127.0.0.1:${target}/`));
      expect(argv.join(' ')).toContain(`http://127.0.0.1:${target}/healthz`);
      // Asynchronously: the server answering it runs in this process.
      return new Promise<number | null>((resolve) => {
        execFile(process.execPath, argv.slice(1), { timeout: 10_000 }, (error) => resolve(error ? (typeof error.code === 'number' ? error.code : null) : 0));
      });
    };

    beforeAll(async () => {
      server = await startServer('actions: { up: { command: [uptime] } }', { host: '127.0.0.1' });
    });
    afterAll(() => server.close());

    it('runs node itself (no curl in the slim image) and passes against a running Porthole', async () => {
      expect(healthcheck[0]).toBe('node');
      expect(await against(server.port)).toBe(0);
    });

    it('fails when nothing answers', async () => {
      const closed = await startServer('actions: { up: { command: [uptime] } }', { host: '127.0.0.1' });
      await closed.close();
      expect(await against(closed.port)).toBe(1);
    });
  });
});

describe('deploy/docker/compose.yaml', () => {
  it('starts Porthole once MariaDB is healthy, loading the seed\'s schema into it', () => {
    expect(porthole.depends_on?.mariadb?.condition).toBe('service_healthy');
    const mariadb = compose.services.mariadb!;
    expect(mariadb.healthcheck?.test.length).toBeGreaterThan(1);
    const schema = [...mounts(mariadb)].find(([target]) => target.startsWith('/docker-entrypoint-initdb.d/'))?.[1];
    expect(schema && path.resolve(composeDir, schema)).toBe(path.join(ROOT, 'examples/task-status/schema.sql'));
    expect(existsSync(path.join(path.resolve(composeDir, porthole.build!.context), 'Dockerfile'))).toBe(true);
    // Docker's default 10s would SIGKILL runs inside Porthole's shutdown grace.
    expect(Number.parseInt(porthole.stop_grace_period!, 10)).toBeGreaterThan(15);
  });

  it('mounts a valid config: the seed\'s actions, its database at the MariaDB service, data in the image\'s volume, and the healthcheck admitted', () => {
    const source = path.resolve(composeDir, mounts(porthole).get(configPath)!);
    const env = { TASKS_DB_PASSWORD: 'x' };
    const config = parseConfig(readFileSync(source, 'utf8'), configPath, env);
    const seedFile = path.join(ROOT, 'examples/task-status/porthole.yaml');
    const seed = parseConfig(readFileSync(seedFile, 'utf8'), seedFile, env);

    expect([...config.actions.values()]).toEqual([...seed.actions.values()]);
    const datasource = config.datasources.tasks;
    expect(datasource).toMatchObject({ driver: 'mysql', host: 'mariadb', database: 'flasktest' });
    expect(Object.keys(compose.services)).toContain('mariadb');
    expect(porthole.environment).toHaveProperty('TASKS_DB_PASSWORD');
    expect(config.dataDir).toBe(volume);
    expect(config.network.allow).toContain('127.0.0.1');
  });
});
