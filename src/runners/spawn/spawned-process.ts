import type { Readable } from 'node:stream';

import type { CommandSpec } from '../command-spec.js';

/**
 * A started process as the command runner sees it, whichever way it was started. Its stdin
 * reads /dev/null; it leads its own session and process group (pgid = pid).
 */
export interface SpawnedProcess {
  /** Undefined only when a Node child_process could not start; 'error' then follows. */
  readonly pid?: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /**
   * 'exit' fires once, when the process has ended. 'error' reports a start that failed
   * after the call returned (Node's child_process does that for ENOENT and a few others).
   */
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

/**
 * Starts `spec` with nothing inherited but the environment it names: at once, or through a
 * promise that settles once the process has started. Throws or rejects (with an errno `code`)
 * when the process cannot start, or reports that through 'error'.
 */
export type Spawner = (spec: CommandSpec) => SpawnedProcess | Promise<SpawnedProcess>;
