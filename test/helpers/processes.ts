import { execFileSync } from 'node:child_process';

/** Command lines of live processes containing `marker` (excluding the ps/grep themselves). */
export function processesMatching(marker: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.includes(marker) && !line.includes('ps -eo'));
}

/** Polls until no process carries `marker`, or the deadline passes; returns what is left. */
export async function waitForNoProcess(marker: string, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let left = processesMatching(marker);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = processesMatching(marker);
  }
  return left;
}

/** Polls until a process carries `marker`, or the deadline passes; returns what was found. */
export async function waitForProcess(marker: string, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let found = processesMatching(marker);
  while (found.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    found = processesMatching(marker);
  }
  return found;
}
