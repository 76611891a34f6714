import net from 'node:net';

/** The machine's shared services that integration tests talk to over real connections. */
export const SERVICES = {
  mariadb: { host: '127.0.0.1', port: 3306 },
  postgres: { host: '127.0.0.1', port: 5432 },
} as const;

export type ServiceName = keyof typeof SERVICES;

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether a test file may use the service. Under CI a missing service is a failure,
 * never a skip; locally the file is skipped with a loud message.
 */
export async function requireService(name: ServiceName): Promise<boolean> {
  const { host, port } = SERVICES[name];
  if (await reachable(host, port)) return true;
  const message = `${name} is not reachable at ${host}:${port}`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI requires it (see .ci/run)`);
  console.warn(`\n!!! SKIPPING ${name} tests: ${message} !!!\n`);
  return false;
}
