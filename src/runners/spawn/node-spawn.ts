import { spawn } from 'node:child_process';

import type { CommandSpec } from '../command-spec.js';
import type { SpawnedProcess } from './spawned-process.js';

/**
 * Node's child_process. Portable, but libuv forks on Linux, copying the page tables of the
 * whole server: the bigger the server, the slower each start.
 */
export function nodeSpawn(spec: CommandSpec): SpawnedProcess {
  return spawn(spec.file, [...spec.args], {
    env: { ...spec.env },
    cwd: spec.cwd,
    shell: false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
