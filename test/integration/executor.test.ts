import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Executor, type RunScope } from '../../src/core/executor.js';
import { PortholeError } from '../../src/core/errors.js';
import { validateParams } from '../../src/core/params.js';
import type { Run, RunEvent } from '../../src/core/run.js';
import type { TextResult, TableResult } from '../../src/core/result.js';
import { Datasources } from '../../src/datasources/create.js';
import type { Config } from '../../src/config/load.js';
import { configFrom, tempDir } from '../helpers/config.js';
import { waitForNoProcess } from '../helpers/processes.js';

const dir = tempDir();
const counter = path.join(dir, 'counter');
const config = configFrom(
  `
limits: { concurrency: 8, queue: 2 }
defaults: { killGrace: 500ms }
datasources:
  local:
    driver: sqlite
    path: db.sqlite
    initScript: schema.sql
actions:
  hello:
    command: [printf, "%s|", "{{who}}", "two words"]
    params: { who: { type: string } }
  fail:
    shell: echo oops >&2; exit 3
  slow:
    command: [sleep, "{{seconds}}"]
    concurrency: 1
    params: { seconds: { type: number, max: 60 } }
  drip:
    shell: for i in 1 2 3 4; do echo "line $i"; sleep 0.3; done
  hang:
    command: [sleep, "61.31"]
    timeout: 1s
  flood:
    command: ["yes"]
    maxOutput: 64KiB
  counted:
    shell: echo run >> "$PORTHOLE_PARAM_FILE"; sleep 0.5; echo done
    safe: true
    cache: 5s
    params: { file: { type: string, allowLeadingDash: false } }
  env:
    command: [env]
    env: { EXTRA: from-config }
  rows:
    query:
      datasource: local
      sql: SELECT n, label FROM numbers WHERE n <= :upto ORDER BY n
    maxRows: 3
    params: { upto: { type: integer } }
`,
  { dir: writeSchema(dir) },
);

function writeSchema(folder: string): string {
  const script = "CREATE TABLE numbers (n INTEGER, label TEXT); INSERT INTO numbers VALUES (1,'one'),(2,'two'),(3,'three'),(4,'four'),(5,'<b>five</b>');";
  writeFileSync(path.join(folder, 'schema.sql'), script);
  return folder;
}

const datasources = new Datasources(config.datasources, config.dir);
afterAll(() => datasources.closeAll());

function executor(c: Config = config): Executor {
  return new Executor({ limits: c.limits, env: { PATH: process.env.PATH, SECRET_TOKEN: 'hunter2-do-not-leak' } });
}

const scope: RunScope = { datasource: (name) => datasources.get(name), secrets: config.secrets };

function start(ex: Executor, id: string, input: Record<string, unknown> = {}): Run {
  const action = config.actions.get(id)!;
  return ex.start(action, validateParams(action, input), { source: 'cli' }, scope);
}

describe('executor', () => {
  it('runs a command with its argv intact and reports success', async () => {
    const result = (await start(executor(), 'hello', { who: '$(id); rm -rf /' }).result) as TextResult;
    expect(result.outcome).toBe('succeeded');
    expect(result.stdout).toBe('$(id); rm -rf /|two words|');
    expect(result.exitCode).toBe(0);
  });

  it('gives commands a clean environment with only what the config lists', async () => {
    const result = (await start(executor(), 'env').result) as TextResult;
    expect(result.stdout).toContain('EXTRA=from-config');
    expect(result.stdout).not.toContain('hunter2');
    const names = result.stdout.trim().split('\n').map((line) => line.split('=')[0]).sort();
    expect(names).toEqual(['EXTRA', 'HOME', 'LANG', 'PATH']);
  });

  it('reports a non-zero exit as failed with its code and stderr', async () => {
    const result = (await start(executor(), 'fail').result) as TextResult;
    expect(result.outcome).toBe('failed');
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe('oops\n');
    expect(result.error).toEqual({ code: 'COMMAND_FAILED', message: 'the command exited with code 3' });
  });

  it('streams output while the command runs, and replays it to late subscribers', async () => {
    const run = start(executor(), 'drip');
    const arrivals: number[] = [];
    const began = Date.now();
    run.subscribe((event) => {
      if (event.type === 'output') arrivals.push(Date.now() - began);
    });
    const result = (await run.result) as TextResult;
    expect(result.stdout).toBe('line 1\nline 2\nline 3\nline 4\n');
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals[0]!).toBeLessThan(result.durationMs - 500);

    const replay: RunEvent[] = [];
    run.subscribe((event) => replay.push(event));
    expect(replay.map((e) => e.type)).toEqual(['started', 'output', 'finished']);
    expect(replay[1]).toMatchObject({ stream: 'stdout', text: 'line 1\nline 2\nline 3\nline 4\n' });
  });

  it('stops a command at its timeout and leaves no process', async () => {
    const result = (await start(executor(), 'hang').result) as TextResult;
    expect(result.outcome).toBe('timed-out');
    expect(result.error?.code).toBe('TIMEOUT');
    expect(await waitForNoProcess('sleep 61.31')).toEqual([]);
  });

  it('cuts output at the cap and says so', async () => {
    const result = (await start(executor(), 'flood').result) as TextResult;
    expect(Buffer.byteLength(result.stdout)).toBe(64 * 1024);
    expect(result.truncated.stdout).toBe(true);
    expect(result.outcome).toBe('failed');
    expect(result.error?.code).toBe('OUTPUT_LIMIT');
  });

  it('queues runs beyond the action limit and refuses them beyond the queue', async () => {
    const ex = executor();
    const first = start(ex, 'slow', { seconds: '0.6' });
    const second = start(ex, 'slow', { seconds: '0.1' });
    const third = start(ex, 'slow', { seconds: '0.1' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(first.status).toBe('running');
    expect(second.status).toBe('queued');
    expect(() => start(ex, 'slow', { seconds: '0.1' })).toThrow(PortholeError);
    try {
      start(ex, 'slow', { seconds: '0.1' });
    } catch (error) {
      expect((error as PortholeError).code).toBe('BUSY');
      expect((error as PortholeError).statusCode).toBe(429);
    }
    third.cancel();
    expect((await third.result).outcome).toBe('cancelled');
    expect((await second.result).outcome).toBe('succeeded');
    expect(second.status).toBe('finished');
    expect((await first.result).outcome).toBe('succeeded');
  });

  it('cancels a running command and stops its process group', async () => {
    const run = start(executor(), 'slow', { seconds: '59.77' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    run.cancel();
    const result = await run.result;
    expect(result.outcome).toBe('cancelled');
    expect(await waitForNoProcess('sleep 59.77')).toEqual([]);
  });

  it('runs a cached action once for 50 concurrent requests and reuses the result', async () => {
    const ex = executor();
    const runs = Array.from({ length: 50 }, () => start(ex, 'counted', { file: counter }));
    expect(new Set(runs.map((r) => r.id)).size).toBe(1);
    const results = await Promise.all(runs.map((r) => r.result));
    expect(results.every((r) => r.outcome === 'succeeded')).toBe(true);
    expect(start(ex, 'counted', { file: counter })).toBe(runs[0]);
    expect(readFileSync(counter, 'utf8')).toBe('run\n');
  });

  it('runs a query and caps its rows', async () => {
    const result = (await start(executor(), 'rows', { upto: '5' }).result) as TableResult;
    expect(result.outcome).toBe('succeeded');
    expect(result.columns.map((c) => c.name)).toEqual(['n', 'label']);
    expect(result.rows).toEqual([[1, 'one'], [2, 'two'], [3, 'three']]);
    expect(result.truncated).toBe(true);
  });

  it('refuses parameters validated for another action', () => {
    const hello = config.actions.get('hello')!;
    const params = validateParams(config.actions.get('rows')!, { upto: '1' });
    expect(() => executor().start(hello, params, { source: 'cli' }, scope)).toThrow(/parameters for "rows"/);
  });

  it('shuts down: refuses new runs, cancels what outlives the grace period', async () => {
    const ex = executor();
    const run = start(ex, 'slow', { seconds: '58.12' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await ex.shutdown(300);
    expect((await run.result).outcome).toBe('cancelled');
    expect(await waitForNoProcess('sleep 58.12')).toEqual([]);
    expect(() => start(ex, 'hello', { who: 'x' })).toThrow(/shutting down/);
  });
});
