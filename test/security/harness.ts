import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { request, type Response } from '../helpers/server.js';

/**
 * Proof that something ran (or did not): a probe script that appends one record per
 * execution to a log, with its argument count and each argument hex-encoded, so a value
 * holding newlines, quotes or shell syntax is recorded byte for byte.
 */
const PROBE = `#!/bin/sh
log=$1
shift
{
  printf 'argc=%s\\n' "$#"
  for a in "$@"; do printf '%s' "$a" | od -An -v -tx1 | tr -d ' \\n'; printf '\\n'; done
} >> "$log"
`;

/** Writes the probe into `dir` and returns its path. */
export function writeProbe(dir: string): string {
  const file = path.join(dir, 'probe.sh');
  writeFileSync(file, PROBE);
  chmodSync(file, 0o755);
  return file;
}

/** Every execution recorded in a probe log: the argument list of each, in order. */
export function probeRuns(log: string): string[][] {
  if (!existsSync(log)) return [];
  const lines = readFileSync(log, 'utf8').split('\n');
  const runs: string[][] = [];
  for (let i = 0; i < lines.length; i++) {
    const match = /^argc=(\d+)$/.exec(lines[i]!);
    if (!match) continue;
    const count = Number(match[1]);
    runs.push(lines.slice(i + 1, i + 1 + count).map((hex) => Buffer.from(hex, 'hex').toString('utf8')));
    i += count;
  }
  return runs;
}

/** Files named like a canary (anything containing CANARY or PWNED) left in `dir`. */
export function canaries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((name) => /canary|pwned/i.test(name)) : [];
}

/** What an error answer in JSON holds. */
export interface ErrorJson {
  error: { code: string; message: string; problems?: { param: string; reason: string; allowed: string }[] };
}

export interface TableJson {
  kind: 'table';
  outcome: string;
  columns: { name: string }[];
  rows: (string | number | boolean | null)[][];
}

export function json<T>(response: Response): T {
  return JSON.parse(response.body) as T;
}

/**
 * The same request over a real socket, but a connection the server cuts after answering
 * (as Node does for a 431) still yields the status when one arrived, and 0 when none did.
 */
export async function send(
  port: number,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string; host?: string } = {},
): Promise<Response> {
  try {
    return await request(port, url, options);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ECONNRESET' || code === 'EPIPE') return { status: 0, headers: {}, body: `connection closed: ${code}` };
    throw error;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something defined, or gives up after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 3000): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await sleep(25);
  }
}
