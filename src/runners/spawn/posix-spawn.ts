import { createRequire } from 'node:module';
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

import type { CommandSpec } from '../command-spec.js';
import type { SpawnedProcess, Spawner } from './spawned-process.js';

/** The addon built from native/spawn at install time (see native/spawn/spawn.c). */
interface PosixSpawnBinding {
  readonly supported: boolean;
  spawn(
    file: string,
    argv: string[],
    env: string[],
    cwd: string | undefined,
    onExit: (code: number, signal: number) => void,
  ): Promise<[pid: number, stdoutFd: number, stderrFd: number]>;
}

/** src/runners/spawn and dist/runners/spawn are both three levels below the package root. */
const ADDON = fileURLToPath(new URL('../../../native/spawn/build/Release/porthole_spawn.node', import.meta.url));

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

function readEnd(fd: number): Socket {
  return new Socket({ fd, readable: true, writable: false });
}

class PosixSpawnedProcess extends EventEmitter implements SpawnedProcess {
  readonly stdout: Socket;
  readonly stderr: Socket;

  constructor(
    readonly pid: number,
    stdoutFd: number,
    stderrFd: number,
    exit: EventEmitter<{ exit: [code: number, signal: number] }>,
  ) {
    super();
    this.stdout = readEnd(stdoutFd);
    this.stderr = readEnd(stderrFd);
    exit.once('exit', (code, signal) => this.emit('exit', code < 0 ? null : code, signal === 0 ? null : (SIGNAL_NAMES.get(signal) ?? null)));
  }
}

/** C strings end at a NUL, so one inside would silently cut a value; Node refuses them too. */
function refuseNul(values: readonly string[]): void {
  if (values.some((value) => value.includes('\0'))) {
    throw Object.assign(new TypeError('a NUL byte in the program, its arguments, environment or working directory'), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
}

/** Resolves once the child has exec'd; the start itself runs off the event loop's thread. */
async function spawnWith(binding: PosixSpawnBinding, spec: CommandSpec, argv: string[], env: string[]): Promise<SpawnedProcess> {
  // The exit callback runs from the event loop, never before the promise has settled: its
  // watch starts in the same step that resolves it, and the process listens before that step ends.
  const exit = new EventEmitter<{ exit: [code: number, signal: number] }>();
  const [pid, stdoutFd, stderrFd] = await binding.spawn(spec.file, argv, env, spec.cwd, (code, signal) => exit.emit('exit', code, signal));
  return new PosixSpawnedProcess(pid, stdoutFd, stderrFd, exit);
}

function spawnerFrom(binding: PosixSpawnBinding): Spawner {
  return (spec) => {
    const argv = [spec.file, ...spec.args];
    const env = Object.entries(spec.env).map(([name, value]) => `${name}=${value}`);
    refuseNul([...argv, ...env, spec.cwd ?? '']);
    return spawnWith(binding, spec, argv, env);
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
