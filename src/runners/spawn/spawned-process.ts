import type { CommandSpec, StreamName } from '../command-spec.js';

/**
 * What a started process reports, whichever way it was started. Output comes in order per
 * stream, then that stream's `end` once; `exit` comes once, before or after the ends.
 */
export interface ProcessEvents {
  output(stream: StreamName, chunk: Buffer): void;
  /** The stream has ended: end of file, a read error, or reading was stopped. */
  end(stream: StreamName): void;
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  /** A start that failed after the spawner returned (Node's child_process reports ENOENT so). */
  error(error: Error): void;
}

/**
 * A started process as the command runner sees it. Its stdin reads /dev/null; it leads its
 * own session and process group (pgid = pid).
 */
export interface SpawnedProcess {
  /** Undefined only when a Node child_process could not start; `error` then follows. */
  readonly pid?: number | undefined;
  /** Reads no more of the stream; its writer gets EPIPE. Its `end` follows. */
  stopReading(stream: StreamName): void;
}

/**
 * Starts `spec` with nothing inherited but the environment it names, reporting to `events`:
 * at once, or through a promise that settles once the process has started (no event comes
 * before). Throws or rejects (with an errno `code`) when the process cannot start, or reports
 * that through `events.error`.
 */
export type Spawner = (spec: CommandSpec, events: ProcessEvents) => SpawnedProcess | Promise<SpawnedProcess>;
