import type { StreamName } from '../runners/command-spec.js';
import type { Action } from './action.js';
import type { ValidatedParams } from './params-types.js';
import { isoTime } from './iso-time.js';
import type { RunResult } from './result.js';
import { newRunId } from './run-id.js';

/** Who started a run and from where; filled in by the caller (CLI or HTTP). */
export interface RunContext {
  source: 'cli' | 'http';
  clientIp?: string;
  user?: string;
}

export type RunEvent =
  | { type: 'started'; at: string }
  | { type: 'output'; stream: StreamName; text: string }
  | { type: 'finished'; result: RunResult };

export type RunStatus = 'queued' | 'running' | 'finished';

/**
 * One execution, observable while it happens. Subscribers get everything emitted so far
 * and then live events, so a viewer arriving late still sees the whole output. What is
 * kept is bounded by the action's output cap.
 */
export class Run {
  readonly queuedAt = new Date();
  readonly id = newRunId(this.queuedAt.getTime());
  status: RunStatus = 'queued';
  finishedAt?: Date;
  readonly result: Promise<RunResult>;

  private readonly history: RunEvent[] = [];
  private readonly listeners = new Set<(event: RunEvent) => void>();
  private readonly controller = new AbortController();
  private settle!: (result: RunResult) => void;

  constructor(
    readonly action: Action,
    readonly params: ValidatedParams,
    readonly context: RunContext,
  ) {
    this.result = new Promise((resolve) => (this.settle = resolve));
  }

  /** Aborted when the run is cancelled; runners stop their work on it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  cancel(): void {
    this.controller.abort();
  }

  /** Replays past events, then delivers live ones until the run finishes. Returns an unsubscribe function. */
  subscribe(listener: (event: RunEvent) => void): () => void {
    for (const event of this.history) listener(event);
    if (this.status === 'finished') return () => {};
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  markStarted(): void {
    this.status = 'running';
    this.emit({ type: 'started', at: isoTime() });
  }

  output(stream: StreamName, text: string): void {
    const last = this.history.at(-1);
    // Consecutive chunks of one stream are kept as one, so many tiny writes cost one entry.
    if (last?.type === 'output' && last.stream === stream) last.text += text;
    else this.history.push({ type: 'output', stream, text });
    this.deliver({ type: 'output', stream, text });
  }

  finish(result: RunResult): void {
    if (this.status === 'finished') return;
    this.status = 'finished';
    this.finishedAt = new Date();
    this.emit({ type: 'finished', result });
    this.listeners.clear();
    this.settle(result);
  }

  private emit(event: RunEvent): void {
    this.history.push(event);
    this.deliver(event);
  }

  // One broken viewer must not break the run or the other viewers.
  private deliver(event: RunEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }
}
