import type { TextOutput } from '../core/result.js';
import type { Spawner } from './spawn/spawned-process.js';

/** Everything needed to start one process: already rendered, nothing left to template. */
export interface CommandSpec {
  /** Program to execute (looked up in env.PATH when it has no slash). Never run through a shell. */
  file: string;
  args: readonly string[];
  /** The complete environment of the child: nothing is inherited from the server. */
  env: Readonly<Record<string, string>>;
  cwd?: string;
  timeoutMs: number;
  /** Per stream (stdout and stderr each); beyond it output is dropped and the process stopped. */
  maxOutputBytes: number;
  /** Time between SIGTERM and SIGKILL to the process group. */
  killGraceMs: number;
}

export type StreamName = 'stdout' | 'stderr';

export interface CommandRunOptions {
  /** Aborting stops the process group (SIGTERM, then SIGKILL after the grace period). */
  signal?: AbortSignal;
  /** Called with decoded text as it arrives, only for output kept within the cap. */
  onOutput?: (stream: StreamName, text: string) => void;
  /** How to start the process; by default posix_spawn where available, else child_process. */
  spawner?: Spawner;
}

export interface CommandOutcome extends TextOutput {
  durationMs: number;
  timedOut: boolean;
  cancelled: boolean;
  /** The process could not be started (e.g. no such program); safe to show. */
  spawnError?: string;
}
