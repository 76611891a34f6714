/**
 * Processes for the bench: starting servers on loopback ports, stopping them, and
 * sampling their resident memory from /proc.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Server {
  readonly name: string;
  /** The command line, as written in docs/benchmarks.md. */
  readonly commandLine: string;
  readonly port: number;
  readonly origin: string;
  readonly pid: number;
  readonly proc: ChildProcess;
  /** The last few KiB the server printed, to explain a failure. */
  tail(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  name: string;
  file: string;
  args: string[];
  port: number;
  env?: NodeJS.ProcessEnv;
  cwd: string;
  /** Any HTTP answer on this path means the server is up. */
  readyPath: string;
  /** How the command line reads in the docs (defaults to file + args). */
  shown?: string;
}

/** A free TCP port on 127.0.0.1 (asks the kernel, then lets go of it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startServer(options: StartOptions): Promise<Server> {
  const proc = spawn(options.file, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8192);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  if (proc.pid === undefined) throw new Error(`${options.name}: could not start ${options.file}`);

  const origin = `http://127.0.0.1:${options.port}`;
  const server: Server = {
    name: options.name,
    commandLine: options.shown ?? [options.file, ...options.args].join(' '),
    port: options.port,
    origin,
    pid: proc.pid,
    proc,
    tail: () => output,
    stop: async () => {
      if (exited) return;
      proc.kill('SIGTERM');
      const stopped = await Promise.race([exit.then(() => true), sleep(20_000).then(() => false)]);
      if (!stopped) {
        proc.kill('SIGKILL');
        await exit;
      }
    },
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) throw new Error(`${options.name} exited while starting:\n${output}`);
    try {
      const res = await fetch(origin + options.readyPath, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return server;
    } catch {
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`${options.name} did not answer on ${origin} within 20 s:\n${output}`);
      }
      await sleep(100);
    }
  }
}

/** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or 0 when the process is gone. */
export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; needs root or the same user. */
export function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // Older kernels: the sampled peak still counts.
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) for (const c of text.split(/\s+/)) out.push(Number(c));
    } catch {
      // The thread ended between the two reads.
    }
  }
  return out;
}

/** RSS of a process and all its descendants, in KiB. */
export function treeRssKb(pid: number): number {
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    total += procStatusKb(p, 'VmRSS');
    stack.push(...childrenOf(p));
  }
  return total;
}

export interface MemoryPeak {
  /** Highest RSS of the server process itself (sampled every 100 ms, and its VmHWM). */
  mainKb: number;
  /** Highest sampled RSS of the server with its children (mysql clients, shells, echo). */
  treeKb: number;
}

/** Samples a server's RSS every 100 ms until stopped; resets its VmHWM first. */
export function sampleMemory(pid: number): { stop(): MemoryPeak } {
  resetPeak(pid);
  let mainKb = procStatusKb(pid, 'VmRSS');
  let treeKb = treeRssKb(pid);
  const timer = setInterval(() => {
    mainKb = Math.max(mainKb, procStatusKb(pid, 'VmRSS'));
    treeKb = Math.max(treeKb, treeRssKb(pid));
  }, 100);
  return {
    stop: () => {
      clearInterval(timer);
      mainKb = Math.max(mainKb, procStatusKb(pid, 'VmHWM'), procStatusKb(pid, 'VmRSS'));
      treeKb = Math.max(treeKb, mainKb);
      return { mainKb, treeKb };
    },
  };
}

/** First line of a command's output, or undefined when it cannot run. */
export function firstLine(file: string, args: string[]): string | undefined {
  try {
    const out = execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    return out.split('\n').find((l) => l.trim() !== '')?.trim();
  } catch {
    return undefined;
  }
}

function descendants(pid: number): number[] {
  const all: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    all.push(p);
    stack.push(...childrenOf(p));
  }
  return all;
}

/** CPU ticks of a process itself (utime + stime, all its threads) and of the children it reaped; 0 when it is gone. */
function statTicks(pid: number | 'self'): { own: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After the name: state(0) ppid … utime(11) stime(12) cutime(13) cstime(14).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return { own: f[11]! + f[12]!, children: f[13]! + f[14]! };
  } catch {
    return { own: 0, children: 0 };
  }
}

function ticksOf(pid: number): number {
  const { own, children } = statTicks(pid);
  return own + children;
}

const TICKS_PER_S = Number(firstLine('getconf', ['CLK_TCK']) ?? 100);

/** The same in seconds. */
export function cpuSeconds(pid: number | 'self'): { own: number; children: number } {
  const { own, children } = statTicks(pid);
  return { own: own / TICKS_PER_S, children: children / TICKS_PER_S };
}

/** Pids of the MariaDB server, whose work for scenario 1 is part of the scenario, not a disturbance. */
function databasePids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'mariadbd';
      } catch {
        return false;
      }
    })
    .map(Number);
}

/**
 * Busy CPU ticks of the whole machine, and of this process with everything it started and
 * MariaDB. Interrupt time is left out of both: it is mostly the loopback traffic of the load
 * itself, and belongs to no process.
 */
export function cpuTicks(): { machine: number; own: number; idleMachine: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest counted in user).
  const busy = (line[0] ?? 0) + (line[1] ?? 0) + (line[2] ?? 0) + (line[7] ?? 0);
  const idle = (line[3] ?? 0) + (line[4] ?? 0);
  const own = [...descendants(process.pid), ...databasePids()].reduce((sum, p) => sum + ticksOf(p), 0);
  return { machine: busy, own, idleMachine: idle };
}

/** Share of the machine's CPU (all cores, in %) used by processes outside the bench between two readings. */
export function foreignCpu(a: ReturnType<typeof cpuTicks>, b: ReturnType<typeof cpuTicks>): number {
  const total = b.machine - a.machine + (b.idleMachine - a.idleMachine);
  const foreign = Math.max(0, b.machine - a.machine - (b.own - a.own));
  return total > 0 ? (100 * foreign) / total : 0;
}
