import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { Executor, RunObserver } from '../core/executor.js';
import { runMetrics } from './run-metrics.js';

/** Why a request was refused: a fixed set, so the label stays bounded. */
export const DENIAL_REASONS = ['network', 'cross-site', 'unauthenticated', 'invalid-token', 'forbidden', 'csrf', 'login-throttled'] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

/** One service's metrics, as /metrics serves them. */
export interface Metrics {
  /** This service's metrics and the process's. */
  readonly registry: Registry;
  /** For the executor: counts runs, their durations and cache use. */
  readonly runs: RunObserver;
  /** Counts one refused request. */
  denied(reason: DenialReason): void;
}

let processRegistry: Registry | undefined;

/**
 * CPU, memory, event loop and GC belong to the process, not to a service, and setting them
 * up starts observers that are never stopped: so once per process, however many services it
 * builds (tests build many).
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * A registry of the service's own rather than prom-client's global one, so that services in
 * one process never share or clash over counters. Counters only go up; only a restart resets them.
 */
export function createMetrics(load: () => Executor['load']): Metrics {
  const own = new Registry();
  const denials = new Counter({ name: 'porthole_denied_requests_total', help: 'Requests refused, by reason.', labelNames: ['reason'] as const, registers: [own] });
  // Every reason from the start, so a first refusal shows as a rise from 0.
  for (const reason of DENIAL_REASONS) denials.inc({ reason }, 0);
  const runs = runMetrics(own, load);
  // A merged registry holds the metrics registered so far: everything is defined above.
  return { registry: Registry.merge([processMetrics(), own]), runs, denied: (reason) => denials.inc({ reason }) };
}
