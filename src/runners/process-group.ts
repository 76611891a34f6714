/**
 * Where Porthole kills processes. Every command runs as the leader of its own session and
 * process group (so its pgid equals its pid); signalling `-pgid` reaches the whole
 * tree, including background grandchildren the command left behind.
 */

/** Process groups of runs that have not finished yet, so a shutdown can stop them all. */
const liveGroups = new Set<number>();

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

function sendToGroup(pgid: number, signal: NodeJS.Signals | 0): void {
  // A pgid of 0 or 1 would address our own group or every process we may signal.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new RangeError(`not a process group id: ${pgid}`);
  process.kill(-pgid, signal);
}

/**
 * Sends `signal` to every process in the group led by `pgid`. Returns whether it was
 * delivered: false when the group is gone (ESRCH) or none of it may be signalled (EPERM),
 * so callers in timers and event handlers never throw.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    sendToGroup(pgid, signal);
    return true;
  } catch (error) {
    if (isErrno(error, 'ESRCH') || isErrno(error, 'EPERM')) return false;
    throw error;
  }
}

/** Whether any process (zombies included) is still in the group led by `pgid`. */
export function isGroupAlive(pgid: number): boolean {
  try {
    sendToGroup(pgid, 0);
    return true;
  } catch (error) {
    if (isErrno(error, 'ESRCH')) return false;
    // EPERM: the processes exist, we may just not signal them.
    if (isErrno(error, 'EPERM')) return true;
    throw error;
  }
}

/** Records a group as belonging to a live run. */
export function trackGroup(pgid: number): void {
  liveGroups.add(pgid);
}

/** Forgets a group once its run has finished and the group has been killed. */
export function untrackGroup(pgid: number): void {
  liveGroups.delete(pgid);
}

/** The process groups of runs still in progress. */
export function runningGroups(): number[] {
  return [...liveGroups];
}

/**
 * Signals every live run's process group, for server shutdown. The runs then finish
 * on their own (reporting the signal). Returns how many groups were signalled.
 */
export function killAllRunningGroups(signal: NodeJS.Signals = 'SIGKILL'): number {
  let signalled = 0;
  for (const pgid of liveGroups) {
    if (signalGroup(pgid, signal)) signalled += 1;
  }
  return signalled;
}
