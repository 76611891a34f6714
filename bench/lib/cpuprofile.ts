/** Reads a V8 .cpuprofile (from `node --cpu-prof`) and sums self time by function and by module. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Entry {
  name: string;
  ms: number;
  /** Share of the busy (non-idle) time, in percent. */
  share: number;
}

export interface ProfileSummary {
  file: string;
  /** Whether only the measured window counted (else the whole process life, start-up included). */
  windowed: boolean;
  wallMs: number;
  busyMs: number;
  idleMs: number;
  functions: Entry[];
  modules: Entry[];
}

/** Where a frame's code lives: a package, a Node internal area, a Porthole file, or V8 itself. */
function moduleOf(frame: ProfileNode['callFrame'], root: string): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'unnamed'}`;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const file = url.replace(/^file:\/\//, '');
  if (file.startsWith(root)) return `porthole ${path.relative(root, file)}`;
  return file;
}

function shortUrl(url: string, root: string): string {
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) return file.slice(nm + 'node_modules/'.length);
  return file.startsWith(root) ? path.relative(root, file) : file;
}

function top(map: Map<string, number>, busyUs: number, n: number): Entry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, share: (100 * us) / busyUs }));
}

/**
 * `window` limits the sums to samples taken between two instants of the monotonic clock, in
 * microseconds (process.hrtime.bigint() / 1000, the clock V8 stamps profiles with), so that
 * start-up and warm-up do not count. Without it, or when no sample falls inside, all count.
 */
export function summarizeProfile(file: string, root: string, n = 8, window?: { startUs: number; endUs: number }): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const collect = (from: number, to: number) => {
    const self = new Map<number, number>();
    let t = profile.startTime;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      t += delta;
      if (t >= from && t <= to) self.set(id, (self.get(id) ?? 0) + delta);
    });
    return self;
  };
  let selfUs = window ? collect(window.startUs, window.endUs) : new Map<number, number>();
  let windowed = selfUs.size > 0;
  if (!windowed) {
    selfUs = collect(-Infinity, Infinity);
    windowed = false;
  }

  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    totalUs += us;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const where = frame.url === '' ? '' : ` ${shortUrl(frame.url, root)}:${frame.lineNumber + 1}`;
    const fname = `${frame.functionName || (where ? '(anonymous)' : '(native, unnamed)')}${where}`;
    byFunction.set(fname, (byFunction.get(fname) ?? 0) + us);
    const mod = moduleOf(frame, root);
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
  }
  const busyUs = Math.max(totalUs - idleUs, 1);
  return {
    file,
    windowed,
    wallMs: windowed && window ? (Math.min(window.endUs, profile.endTime) - Math.max(window.startUs, profile.startTime)) / 1000 : (profile.endTime - profile.startTime) / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions: top(byFunction, busyUs, n),
    modules: top(byModule, busyUs, n),
  };
}
