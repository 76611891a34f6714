import { execFileSync } from 'node:child_process';

/** Command lines of live processes containing `marker` (excluding the ps/grep themselves). */
export function processesMatching(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(marker) && !line.includes('ps -eo'));
}

/** Whether a process with this id exists (signal 0 only asks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls the processes carrying `marker` until `done` says so or the deadline passes; returns the last list. */
async function pollProcesses(marker: string, done: (found: string[]) => boolean, timeoutMs: number, everyMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let found = processesMatching(marker);
  while (!done(found) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    found = processesMatching(marker);
  }
  return found;
}

/** Polls until no process carries `marker`, or the deadline passes; returns what is left. */
export function waitForNoProcess(marker: string, timeoutMs = 10_000): Promise<string[]> {
  return pollProcesses(marker, (found) => found.length === 0, timeoutMs, 100);
}

/** Polls until a process carries `marker`, or the deadline passes; returns what was found. */
export function waitForProcess(marker: string, timeoutMs = 10_000): Promise<string[]> {
  return pollProcesses(marker, (found) => found.length > 0, timeoutMs, 50);
}
