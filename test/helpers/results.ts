import type { Outcome, RunResult } from '../../src/core/result.js';
import type { Run } from '../../src/core/run.js';

/** A command's result for `run`, as the executor would make it; `fields` overrides any part. */
export function textResult(run: Run, stdout: string, outcome: Outcome = 'succeeded', fields: Partial<RunResult> = {}): RunResult {
  return {
    kind: 'text',
    runId: run.id,
    actionId: run.action.id,
    startedAt: new Date().toISOString(),
    durationMs: 1,
    outcome,
    stdout,
    stderr: '',
    exitCode: outcome === 'succeeded' ? 0 : 1,
    signal: null,
    truncated: { stdout: false, stderr: false },
    ...(outcome === 'succeeded' ? {} : { error: { code: 'COMMAND_FAILED' as const, message: 'exit 1' } }),
    ...fields,
  } as RunResult;
}
