/**
 * Private MariaDB and PostgreSQL servers for the fault tests: each on its own port and
 * data directory under /tmp, so they can be killed and restarted while the machine's
 * shared servers (3306, 5432) stay up. Needs root (the servers run as mysql / postgres).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { isAlive } from '../helpers/processes.js';

const MARIADBD = '/usr/sbin/mariadbd';
const MARIADB_INSTALL_DB = '/usr/bin/mariadb-install-db';
const PG_BIN = '/usr/lib/postgresql/15/bin';
const READY_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function userIds(user: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** Why a private server cannot be run here, or undefined when it can. */
export function cannotRun(kind: 'mariadb' | 'postgres'): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'the tests must run as root to start database servers as mysql/postgres';
  const files = kind === 'mariadb' ? [MARIADBD, MARIADB_INSTALL_DB] : [path.join(PG_BIN, 'initdb'), path.join(PG_BIN, 'postgres')];
  for (const file of files) {
    try {
      accessSync(file, constants.X_OK);
    } catch {
      return `${file} is missing or not executable`;
    }
  }
  try {
    userIds(kind === 'mariadb' ? 'mysql' : 'postgres');
  } catch {
    return `there is no ${kind === 'mariadb' ? 'mysql' : 'postgres'} OS user`;
  }
  return undefined;
}

/** One private database server process that can be killed and started again on the same port and data. */
abstract class PrivateServer {
  readonly dir: string;
  port = 0;
  protected proc: ChildProcess | undefined;
  protected log = '';

  constructor(prefix: string, owner: string) {
    this.dir = mkdtempSync(path.join(tmpdir(), prefix));
    const { uid, gid } = userIds(owner);
    chownSync(this.dir, uid, gid);
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The server's own output, for failure messages. */
  output(): string {
    return this.log.slice(-4000);
  }

  protected abstract command(): { file: string; args: string[]; uid?: number; gid?: number };
  protected abstract ping(): Promise<void>;
  protected abstract children(): number[];

  async start(): Promise<void> {
    this.port ||= await freePort();
    const { file, args, uid, gid } = this.command();
    this.log = '';
    const proc = spawn(file, args, { cwd: this.dir, uid, gid, env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    proc.stderr?.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    proc.on('error', (error) => (this.log += `\nspawn error: ${error.message}`));
    this.proc = proc;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last: unknown;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${file} exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${this.output()}`);
      try {
        await this.ping();
        return;
      } catch (error) {
        last = error;
        await sleep(200);
      }
    }
    throw new Error(`${file} was not ready on port ${this.port} within ${READY_TIMEOUT_MS} ms (${String(last)}):\n${this.output()}`);
  }

  /** Kills the server (SIGKILL by default: a crash) and waits until it and its children are gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const children = this.children();
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    await exited;
    const deadline = Date.now() + 10_000;
    while (children.some(isAlive) && Date.now() < deadline) await sleep(50);
  }

  async destroy(): Promise<void> {
    await this.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  protected childPids(): number[] {
    if (this.proc?.pid === undefined) return [];
    try {
      return execFileSync('ps', ['-o', 'pid=', '--ppid', String(this.proc.pid)], { encoding: 'utf8' })
        .split('\n')
        .map((line) => Number(line.trim()))
        .filter((pid) => pid > 0);
    } catch {
      return []; // ps exits 1 when there are none
    }
  }
}

export class PrivateMariadb extends PrivateServer {
  constructor() {
    super('porthole-fault-mariadb-', 'mysql');
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  /** mariadb-install-db with root@localhost reachable without a password over TCP. */
  init(): void {
    execFileSync(
      MARIADB_INSTALL_DB,
      ['--no-defaults', '--user=mysql', `--datadir=${this.dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
      { cwd: this.dir, stdio: 'pipe', timeout: 60_000 },
    );
  }

  protected command() {
    return {
      file: MARIADBD,
      args: [
        '--no-defaults',
        '--user=mysql',
        `--datadir=${this.dataDir}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${path.join(this.dir, 'sock')}`,
        `--pid-file=${path.join(this.dir, 'mariadbd.pid')}`,
        '--innodb-buffer-pool-size=16M',
      ],
    };
  }

  protected async ping(): Promise<void> {
    const conn = await mysql.createConnection({ host: '127.0.0.1', port: this.port, user: 'root', connectTimeout: 1000 });
    try {
      await conn.query('SELECT 1');
    } finally {
      conn.destroy();
    }
  }

  protected children(): number[] {
    return []; // one process, threads only
  }
}

export class PrivatePostgres extends PrivateServer {
  private readonly ids = userIds('postgres');

  constructor() {
    super('porthole-fault-postgres-', 'postgres');
  }

  get dataDir(): string {
    return path.join(this.dir, 'data');
  }

  init(): void {
    execFileSync(path.join(PG_BIN, 'initdb'), ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '-N'], {
      cwd: this.dir,
      uid: this.ids.uid,
      gid: this.ids.gid,
      env: { PATH: process.env.PATH, LANG: 'C.UTF-8' },
      stdio: 'pipe',
      timeout: 60_000,
    });
  }

  protected command() {
    return {
      file: path.join(PG_BIN, 'postgres'),
      args: ['-D', this.dataDir, '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=30'],
      uid: this.ids.uid,
      gid: this.ids.gid,
    };
  }

  protected async ping(): Promise<void> {
    const client = new pg.Client({ host: '127.0.0.1', port: this.port, user: 'postgres', database: 'postgres', connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  /** Backends and auxiliary processes: after a SIGKILL of the postmaster they exit on their own. */
  protected children(): number[] {
    return this.childPids();
  }
}
