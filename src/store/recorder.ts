import type { RunObserver } from '../core/executor.js';
import { maskedValues } from '../core/params.js';
import type { AuditLog } from './auth-store.js';
import type { RunHistory } from './history.js';

/** Records every run in history: when it is created, and when it finishes. */
export function historyRecorder(history: RunHistory): RunObserver {
  return {
    created: (run) => void history.recordCreated(run, maskedValues(run.action, run.params)),
    finished: (run, result) => void history.recordFinished(run, result),
  };
}

/** Puts every finished run in the audit log: who, from where, what, how it ended. */
export function auditRecorder(audit: AuditLog): RunObserver {
  return {
    finished: (run, result) =>
      audit.record({
        event: 'run',
        user: run.context.user,
        ip: run.context.clientIp,
        action: run.action.id,
        outcome: result.outcome,
        detail: `${run.context.source} run ${run.id}`,
      }),
  };
}
