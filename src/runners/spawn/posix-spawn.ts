import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

import type { CommandSpec, StreamName } from '../command-spec.js';
import type { ProcessEvents, SpawnedProcess, Spawner } from './spawned-process.js';

/** onEvents' `events` bits and stopReading's `streams` bits (see native/spawn/spawn.c). */
const STDOUT_END = 1;
const STDERR_END = 2;
const EXITED = 4;
const STREAM_BITS: Readonly<Record<StreamName, number>> = { stdout: 1, stderr: 2 };

/** The addon built from native/spawn at install time (see native/spawn/spawn.c). */
interface PosixSpawnBinding {
  readonly supported: boolean;
  spawn(
    file: string,
    argv: string[],
    env: string[],
    cwd: string | undefined,
    onEvents: (stdout: Buffer | undefined, stderr: Buffer | undefined, events: number, code: number, signal: number) => void,
  ): Promise<[pid: number, id: number]>;
  stopReading(id: number, streams: number): void;
}

/** src/runners/spawn and dist/runners/spawn are both three levels below the package root. */
const ADDON = fileURLToPath(new URL('../../../native/spawn/build/Release/porthole_spawn.node', import.meta.url));

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/** C strings end at a NUL, so one inside would silently cut a value; Node refuses them too. */
function refuseNul(values: readonly string[]): void {
  if (values.some((value) => value.includes('\0'))) {
    throw Object.assign(new TypeError('a NUL byte in the program, its arguments, environment or working directory'), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
}

/**
 * The module reads both pipes and watches the exit itself, and reports everything that
 * happened to a process in one turn of the event loop in one call: a short command costs one
 * call, not the events of two sockets and an exit watch.
 */
function dispatch(events: ProcessEvents) {
  return (stdout: Buffer | undefined, stderr: Buffer | undefined, bits: number, code: number, signal: number): void => {
    if (stdout !== undefined) events.output('stdout', stdout);
    if (stderr !== undefined) events.output('stderr', stderr);
    if (bits & STDOUT_END) events.end('stdout');
    if (bits & STDERR_END) events.end('stderr');
    if (bits & EXITED) events.exit(code < 0 ? null : code, signal === 0 ? null : (SIGNAL_NAMES.get(signal) ?? null));
  };
}

/** Resolves once the child has exec'd; the start itself runs off the event loop's thread. */
async function spawnWith(binding: PosixSpawnBinding, spec: CommandSpec, argv: string[], env: string[], events: ProcessEvents): Promise<SpawnedProcess> {
  const [pid, id] = await binding.spawn(spec.file, argv, env, spec.cwd, dispatch(events));
  return { pid, stopReading: (stream) => binding.stopReading(id, STREAM_BITS[stream]) };
}

function spawnerFrom(binding: PosixSpawnBinding): Spawner {
  return (spec, events) => {
    const argv = [spec.file, ...spec.args];
    const env = Object.entries(spec.env).map(([name, value]) => `${name}=${value}`);
    refuseNul([...argv, ...env, spec.cwd ?? '']);
    return spawnWith(binding, spec, argv, env, events);
  };
}

/** The posix_spawn spawner, or why this platform or build has none. */
export type PosixSpawnAvailability = { readonly spawner: Spawner } | { readonly unavailable: string };

export function loadPosixSpawn(): PosixSpawnAvailability {
  if (process.platform !== 'linux') return { unavailable: `not built on ${process.platform} (Linux only)` };
  let binding: PosixSpawnBinding;
  try {
    binding = createRequire(import.meta.url)(ADDON) as PosixSpawnBinding;
  } catch (error) {
    return { unavailable: `the native module did not load (${(error as Error).message.split('\n')[0]})` };
  }
  if (!binding.supported) return { unavailable: 'this kernel has no pidfd_open (Linux 5.3 or later needed)' };
  return { spawner: spawnerFrom(binding) };
}
