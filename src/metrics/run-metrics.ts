import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Executor, RunObserver } from '../core/executor.js';

/** Seconds, from a quick query (5 ms) to a long command (5 min). */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Runs, their durations and cache use, counted as the executor reports them, and its queue
 * read when Prometheus asks. Labels are action ids and outcomes: both come from a fixed set.
 */
export function runMetrics(registry: Registry, load: () => Executor['load']): RunObserver {
  const registers = [registry];
  const runs = new Counter({ name: 'porthole_runs_total', help: 'Finished runs, by action and outcome.', labelNames: ['action', 'outcome'] as const, registers });
  const duration = new Histogram({
    name: 'porthole_run_duration_seconds',
    help: 'How long runs took, by action.',
    labelNames: ['action'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const hits = new Counter({
    name: 'porthole_cache_hits_total',
    help: 'Requests for a cached action answered by a stored or in-flight run, by action.',
    labelNames: ['action'] as const,
    registers,
  });
  const misses = new Counter({ name: 'porthole_cache_misses_total', help: 'Requests for a cached action that started a run, by action.', labelNames: ['action'] as const, registers });
  new Gauge({
    name: 'porthole_runs_queued',
    help: 'Runs waiting for a concurrency slot.',
    registers,
    collect() {
      this.set(load().queued);
    },
  });
  new Gauge({
    name: 'porthole_runs_running',
    help: 'Runs holding a concurrency slot.',
    registers,
    collect() {
      this.set(load().running);
    },
  });

  return {
    finished: (run, result) => {
      runs.inc({ action: run.action.id, outcome: result.outcome });
      duration.observe({ action: run.action.id }, result.durationMs / 1000);
    },
    cacheLookup: (action, hit) => (hit ? hits : misses).inc({ action: action.id }),
  };
}
