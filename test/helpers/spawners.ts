import { nodeSpawn } from '../../src/runners/spawn/node-spawn.js';
import { loadPosixSpawn } from '../../src/runners/spawn/posix-spawn.js';
import type { Spawner } from '../../src/runners/spawn/spawned-process.js';

export interface NamedSpawner {
  readonly name: string;
  readonly spawner: Spawner;
}

/**
 * Both ways Porthole starts processes, so each test holds for both. Under CI the
 * posix_spawn module must have been built (npm ci builds it); locally its absence only
 * skips its half, loudly.
 */
export function spawners(): NamedSpawner[] {
  const posix = loadPosixSpawn();
  const all: NamedSpawner[] = [{ name: 'child_process', spawner: nodeSpawn }];
  if ('spawner' in posix) return [{ name: 'posix_spawn', spawner: posix.spawner }, ...all];
  if (process.env.CI === 'true') throw new Error(`posix_spawn is unavailable: ${posix.unavailable}; CI requires it`);
  console.warn(`\n!!! SKIPPING posix_spawn runner tests: ${posix.unavailable} !!!\n`);
  return all;
}
