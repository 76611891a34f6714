import { spawn } from 'node:child_process';

import type { CommandSpec, StreamName } from '../command-spec.js';
import type { ProcessEvents, SpawnedProcess } from './spawned-process.js';

const STREAMS: readonly StreamName[] = ['stdout', 'stderr'];

/**
 * Node's child_process. Portable, but libuv forks on Linux, copying the page tables of the
 * whole server: the bigger the server, the slower each start.
 */
export function nodeSpawn(spec: CommandSpec, events: ProcessEvents): SpawnedProcess {
  const child = spawn(spec.file, [...spec.args], {
    env: { ...spec.env },
    cwd: spec.cwd,
    shell: false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const name of STREAMS) {
    const stream = child[name];
    stream.on('data', (chunk: Buffer) => events.output(name, chunk));
    // A read error ends the stream like EOF; 'close' follows.
    stream.on('error', () => undefined);
    stream.on('close', () => events.end(name));
  }
  child.on('exit', (code, signal) => events.exit(code, signal));
  child.on('error', (error) => {
    // After a successful start, 'error' only reports failed kill/send calls, which we do not make.
    if (child.pid !== undefined) return;
    for (const name of STREAMS) child[name].destroy();
    events.error(error);
  });
  return { pid: child.pid, stopReading: (name) => child[name].destroy() };
}
