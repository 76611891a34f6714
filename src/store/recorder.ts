import type { RunObserver } from '../core/executor.js';
import { maskedValues } from '../core/params.js';
import type { RunHistory } from './history.js';

/** Records every run in history: when it is created, and when it finishes. */
export function historyRecorder(history: RunHistory): RunObserver {
  return {
    created: (run) => void history.recordCreated(run, maskedValues(run.action, run.params)),
    finished: (run, result) => void history.recordFinished(run, result),
  };
}
