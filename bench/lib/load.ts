/**
 * The load generator: wrk when it is installed (the bench installs it from Debian's
 * packages), else autocannon as a library. autocannon reconnects slowly to servers that
 * close every connection (`Connection: close`, as Flask's built-in server does): on this
 * machine it measured the Flask app at a fraction of what wrk measured, which would flatter
 * Porthole's ratio. So wrk is preferred, and the report says which one ran.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { cpuSeconds, firstLine, sampleMemory, type MemoryPeak, type Server } from './proc.js';

const run = promisify(execFile);

export interface Workload {
  /** POST sends `{}` as application/json (bench/wrk/post-json.lua for wrk). */
  method: 'GET' | 'POST';
  path: string;
  /** Open connections, each with one request in flight. */
  connections: number;
  /** Seconds of load. */
  duration: number;
}

export interface LoadResult {
  /** Answers in the 2xx range per second. */
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  memory: MemoryPeak;
  /** CPU used during the load, in cores (1 = one core busy the whole time). */
  cpu: { server: number; children: number; generator: number };
}

export type Generator = 'wrk' | 'autocannon';

const WRK_THREADS = 1;
const TIMEOUT_S = 10;

export function generator(): Generator {
  return firstLine('/bin/sh', ['-c', 'command -v wrk']) !== undefined ? 'wrk' : 'autocannon';
}

export function generatorVersion(gen: Generator, root: string): string {
  if (gen === 'wrk') return (firstLine('/bin/sh', ['-c', 'wrk --version 2>&1']) ?? 'wrk').replace(/ Copyright.*$/, '');
  return `autocannon ${firstLine(process.execPath, ['-p', `require(${JSON.stringify(path.join(root, 'node_modules/autocannon/package.json'))}).version`]) ?? '?'}`;
}

export function describeWorkload(gen: Generator, w: Workload): string {
  if (gen === 'wrk') {
    return `wrk -t${WRK_THREADS} -c${w.connections} -d${w.duration}s --timeout ${TIMEOUT_S}s --latency${w.method === 'POST' ? ' -s bench/wrk/post-json.lua' : ''} http://127.0.0.1:PORT${w.path}`;
  }
  return `autocannon -c ${w.connections} -d ${w.duration} -t ${TIMEOUT_S}${w.method === 'POST' ? " -m POST -H 'content-type: application/json' -b '{}'" : ''} http://127.0.0.1:PORT${w.path}`;
}

/** "506.76ms", "1.11s", "850.00us" → milliseconds. */
function wrkMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000;
}

async function loadWrk(server: Server, w: Workload, root: string): Promise<Omit<LoadResult, 'memory' | 'cpu'>> {
  const args = [`-t${WRK_THREADS}`, `-c${w.connections}`, `-d${w.duration}s`, '--timeout', `${TIMEOUT_S}s`, '--latency'];
  if (w.method === 'POST') args.push('-s', path.join(root, 'bench/wrk/post-json.lua'));
  args.push(server.origin + w.path);
  const { stdout } = await run('wrk', args, { timeout: (w.duration + 30) * 1000 });
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(stdout);
  if (!total) throw new Error(`could not read wrk's output:\n${stdout}`);
  const requests = Number(total[1]);
  const seconds = wrkMs(`${total[2]}${total[3]}`) / 1000;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const pct = (p: string) => wrkMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(stdout)?.[1] ?? '');
  const ok = requests - non2xx;
  return {
    rps: ok / seconds,
    p50: pct('50'),
    p99: pct('99'),
    ok,
    non2xx,
    errors: sock ? Number(sock[1]) + Number(sock[2]) + Number(sock[3]) : 0,
    timeouts: sock ? Number(sock[4]) : 0,
  };
}

async function loadAutocannon(server: Server, w: Workload): Promise<Omit<LoadResult, 'memory' | 'cpu'>> {
  const result = await autocannon({
    url: server.origin + w.path,
    method: w.method,
    ...(w.method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
    connections: w.connections,
    pipelining: 1,
    duration: w.duration,
    timeout: TIMEOUT_S,
  });
  const ok = result['2xx'];
  return { rps: ok / result.duration, p50: result.latency.p50, p99: result.latency.p99, ok, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts };
}

/** Puts the workload on one server and measures it, with its memory, while it lasts. */
export async function load(gen: Generator, server: Server, w: Workload, root: string): Promise<LoadResult> {
  const memory = sampleMemory(server.pid);
  // wrk is a child of this process, reaped when it ends; the server is not, so its own
  // threads and its reaped children (echo, mysql clients) are read from its /proc entry.
  const before = { server: cpuSeconds(server.pid), self: cpuSeconds('self'), at: performance.now() };
  try {
    const result = gen === 'wrk' ? await loadWrk(server, w, root) : await loadAutocannon(server, w);
    const after = { server: cpuSeconds(server.pid), self: cpuSeconds('self') };
    const seconds = (performance.now() - before.at) / 1000;
    const cpu = {
      server: (after.server.own - before.server.own) / seconds,
      children: (after.server.children - before.server.children) / seconds,
      // autocannon runs inside this process: its CPU is this process's own.
      generator: (gen === 'wrk' ? after.self.children - before.self.children : after.self.own - before.self.own) / seconds,
    };
    return { ...result, memory: memory.stop(), cpu };
  } catch (error) {
    memory.stop();
    throw error;
  }
}
