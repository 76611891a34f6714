import { nodeSpawn } from './node-spawn.js';
import { loadPosixSpawn } from './posix-spawn.js';
import type { Spawner } from './spawned-process.js';

const posix = loadPosixSpawn();

/** How commands are started in this process: posix_spawn where it loads, else child_process. */
export const defaultSpawner: Spawner = 'spawner' in posix ? posix.spawner : nodeSpawn;

/** Why commands are started through Node's slower child_process, or undefined when they are not. */
export const posixSpawnUnavailable: string | undefined = 'unavailable' in posix ? posix.unavailable : undefined;
