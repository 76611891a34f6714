import { Registry, type Histogram } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Action } from '../../src/core/action.js';
import type { RunResult } from '../../src/core/result.js';
import type { Run } from '../../src/core/run.js';
import { runMetrics } from '../../src/metrics/run-metrics.js';

/** A counter's or gauge's value for these labels. */
async function value(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
}

describe('runMetrics', () => {
  it('reads the queue and the runs in flight when collected, not when made', async () => {
    const registry = new Registry();
    let load = { queued: 0, running: 0 };
    runMetrics(registry, () => load);
    load = { queued: 3, running: 2 };
    expect(await value(registry, 'porthole_runs_queued')).toBe(3);
    expect(await value(registry, 'porthole_runs_running')).toBe(2);
  });

  it('counts finished runs by outcome and observes their duration in seconds', async () => {
    const registry = new Registry();
    const observer = runMetrics(registry, () => ({ queued: 0, running: 0 }));
    const run = { action: { id: 'report' } } as Run;
    observer.finished!(run, { outcome: 'timed-out', durationMs: 1500 } as RunResult);
    observer.finished!(run, { outcome: 'succeeded', durationMs: 20 } as RunResult);
    expect(await value(registry, 'porthole_runs_total', { action: 'report', outcome: 'timed-out' })).toBe(1);
    expect(await value(registry, 'porthole_runs_total', { action: 'report', outcome: 'succeeded' })).toBe(1);
    const histogram = await (registry.getSingleMetric('porthole_run_duration_seconds') as Histogram).get();
    const sample = (suffix: string, le?: number) =>
      histogram.values.find((v) => v.metricName === `porthole_run_duration_seconds_${suffix}` && (le === undefined || v.labels.le === le))?.value;
    expect(sample('count')).toBe(2);
    expect(sample('sum')).toBeCloseTo(1.52);
    expect(sample('bucket', 0.025)).toBe(1);
    expect(sample('bucket', 2.5)).toBe(2);
  });

  it('counts cache hits and misses by action', async () => {
    const registry = new Registry();
    const observer = runMetrics(registry, () => ({ queued: 0, running: 0 }));
    const action = { id: 'sevens' } as Action;
    observer.cacheLookup!(action, false);
    observer.cacheLookup!(action, true);
    observer.cacheLookup!(action, true);
    expect(await value(registry, 'porthole_cache_misses_total', { action: 'sevens' })).toBe(1);
    expect(await value(registry, 'porthole_cache_hits_total', { action: 'sevens' })).toBe(2);
  });
});
