import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { runCommand as runWith } from '../../src/runners/command.js';
import type { CommandRunOptions, CommandSpec, StreamName } from '../../src/runners/command-spec.js';
import { isGroupAlive, killAllRunningGroups, runningGroups } from '../../src/runners/process-group.js';
import { spawners } from '../helpers/spawners.js';

const PATH = '/usr/bin:/bin';
const NODE = process.execPath;
const MiB = 1024 * 1024;

function spec(file: string, args: string[], overrides: Partial<CommandSpec> = {}): CommandSpec {
  return { file, args, env: { PATH }, timeoutMs: 20_000, maxOutputBytes: MiB, killGraceMs: 1000, ...overrides };
}

/** A `sleep` duration no other process on the machine uses, so `ps` can find ours. */
function marker(): string {
  return `60.${parseInt(randomBytes(3).toString('hex'), 16)}`;
}

interface Proc {
  pid: number;
  pgid: number;
  args: string;
}

/** Live (non-zombie) processes whose command line contains `text`. */
function processesWith(text: string): Proc[] {
  const out = execFileSync('ps', ['-eo', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .filter((m) => !m[3]!.startsWith('Z') && m[4]!.includes(text))
    .map((m) => ({ pid: Number(m[1]), pgid: Number(m[2]), args: m[4]! }));
}

async function waitFor<T>(probe: () => T, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = probe();
  while (!done(value) && Date.now() < deadline) {
    await sleep(50);
    value = probe();
  }
  return value;
}

/** Polls until no live process mentions `text`; returns the survivors (empty on success). */
function survivors(text: string): Promise<Proc[]> {
  return waitFor(
    () => processesWith(text),
    (procs) => procs.length === 0,
  );
}

/** The process group a marked process runs in, once it has started. */
async function groupOf(text: string): Promise<number> {
  const procs = await waitFor(
    () => processesWith(text),
    (p) => p.length > 0,
  );
  expect(procs.length).toBeGreaterThan(0);
  return procs[0]!.pgid;
}

const leftovers: string[] = [];
afterAll(() => {
  // Anything a failed test left behind (or a deliberate escapee) must not outlive the suite.
  for (const text of leftovers) {
    for (const p of processesWith(text)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

function track(text: string): string {
  leftovers.push(text);
  return text;
}

// Every behaviour holds whichever way the process is started.
describe.each(spawners())('started with $name', ({ name, spawner }) => {
  const runCommand = (s: CommandSpec, options: CommandRunOptions = {}) => runWith(s, { ...options, spawner });

  describe('argv stays argv', () => {
    const canary = join(tmpdir(), `porthole-canary-${randomBytes(6).toString('hex')}`);
    const hostile = [
      `$(touch ${canary})`,
      `\`touch ${canary}\``,
      `; touch ${canary}`,
      `&& touch ${canary}`,
      `| touch ${canary}`,
      '; rm -rf /tmp/x',
      'a b c',
      '*',
      '~',
      '$HOME',
      'line1\nline2',
      'tab\there',
      '"quoted" \'single\'',
      '\\backslash',
      'ünïcødé ✓ 日本 😀',
      '',
      '--version',
      '-e',
    ];

    afterAll(() => rmSync(canary, { force: true }));

    it('passes each argument to the program as exactly one element', async () => {
      const script = 'process.stdout.write(JSON.stringify(process.argv.slice(1)))';
      const result = await runCommand(spec(NODE, ['-e', script, '--', ...hostile]));
      expect(result.spawnError).toBeUndefined();
      expect(result.exitCode).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual(hostile);
      expect(existsSync(canary)).toBe(false);
    });

    it('keeps arguments literal even when the program is a shell reading them as data', async () => {
      const script = 'printf "%s\\n" "$#"; for a in "$@"; do printf "<%s>\\n" "$a"; done';
      const result = await runCommand(spec('sh', ['-c', script, 'sh', ...hostile]));
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe(`${hostile.length}\n${hostile.map((a) => `<${a}>\n`).join('')}`);
      expect(existsSync(canary)).toBe(false);
    });

    it("printf '%s\\n' prints every argument on its own line, unexpanded", async () => {
      const oneLine = hostile.filter((a) => !a.includes('\n'));
      const result = await runCommand(spec('printf', ['%s\\n', ...oneLine]));
      expect(result.stdout).toBe(oneLine.map((a) => `${a}\n`).join(''));
      expect(existsSync(canary)).toBe(false);
    });
  });

  describe('environment', () => {
    it('is exactly the given one; nothing leaks from the server', async () => {
      process.env.PORTHOLE_TEST_SECRET = 'hunter2-server-secret';
      try {
        const result = await runCommand(spec('/usr/bin/env', [], { env: { PATH, FOO: 'bar baz' } }));
        expect(result.exitCode).toBe(0);
        expect(result.stdout.split('\n').filter(Boolean).sort()).toEqual(['FOO=bar baz', `PATH=${PATH}`]);
        expect(result.stdout).not.toContain('hunter2');
      } finally {
        delete process.env.PORTHOLE_TEST_SECRET;
      }
    });

    it('can be empty', async () => {
      const result = await runCommand(spec('/usr/bin/env', [], { env: {} }));
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toBe('');
    });
  });

  describe('what the process inherits', () => {
    it('no blocked signal, and no ignored one: the server ignores SIGPIPE and SIGXFSZ, its commands must not', async () => {
      const result = await runCommand(spec('grep', ['-E', '^Sig(Blk|Ign):', '/proc/self/status']));
      const masks = new Map(result.stdout.trim().split('\n').map((line) => line.split(':\t') as [string, string]));
      expect(BigInt(`0x${masks.get('SigBlk')}`)).toBe(0n);
      // glibc's posix_spawn leaves its two internal real-time signals (32 and 33) ignored;
      // nothing else may be, least of all the standard signals 1 to 31.
      expect(BigInt(`0x${masks.get('SigIgn')}`) & ~0x1_8000_0000n).toBe(0n);
    });

    it('reads /dev/null and leads its own session', async () => {
      const result = await runCommand(spec('sh', ['-c', 'readlink /proc/self/fd/0; ps -o sid= -o pgid= -p $$; echo $$']));
      const [stdin, ids, pid] = result.stdout.trim().split('\n');
      expect(stdin).toBe('/dev/null');
      expect(ids!.trim().split(/\s+/)).toEqual([pid, pid]);
    });

    it('none of the server’s files; with posix_spawn no open file at all but stdin, stdout and stderr', async () => {
      // Held open while the command starts, so a leak would show among the shell's files.
      const held = openSync(fileURLToPath(import.meta.url), 'r');
      try {
        // `; true` keeps sh from replacing itself with ls, so ls lists the shell's files.
        const result = await runCommand(spec('sh', ['-c', 'ls /proc/$$/fd; true']));
        const open = result.stdout.trim().split('\n').map(Number);
        expect(open).not.toContain(held);
        // Node's child_process passes on whatever the server itself inherited without
        // close-on-exec (a supervisor's or CI runner's pipe, say); posix_spawn closes it all.
        if (name === 'posix_spawn') expect(open.sort()).toEqual([0, 1, 2]);
        else expect(open.slice(0, 3)).toEqual([0, 1, 2]);
      } finally {
        closeSync(held);
      }
    });

    it('a program that ends by SIGPIPE when its reader goes away, as in a terminal', async () => {
      // With SIGPIPE ignored, `yes` would see EPIPE instead and complain on stderr.
      const result = await runCommand(spec('sh', ['-c', 'yes | head -n 1']));
      expect(result).toMatchObject({ stdout: 'y\n', stderr: '', exitCode: 0 });
    });
  });

  describe('timeout', () => {
    it('stops the whole group: SIGTERM reaches background children too', async () => {
      const m = track(marker());
      const started = Date.now();
      const result = await runCommand(spec('sh', ['-c', `sleep ${m} & sleep ${m}`], { timeoutMs: 1000, killGraceMs: 2000 }));
      const took = Date.now() - started;
      expect(result.timedOut).toBe(true);
      expect(result.cancelled).toBe(false);
      expect(result.exitCode).toBeNull();
      expect(result.signal).toBe('SIGTERM');
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(1000 + 2000 + 5000);
      expect(await survivors(m)).toEqual([]);
    });

    it('SIGKILLs the group after the grace period when SIGTERM is ignored', async () => {
      const m = track(marker());
      // An ignored signal stays ignored across exec, so the sleeping child ignores TERM too.
      const started = Date.now();
      const result = await runCommand(spec('sh', ['-c', `trap "" TERM; sleep ${m} & sleep ${m}`], { timeoutMs: 500, killGraceMs: 1000 }));
      const took = Date.now() - started;
      expect(result.timedOut).toBe(true);
      expect(result.signal).toBe('SIGKILL');
      expect(took).toBeGreaterThanOrEqual(1400);
      expect(took).toBeLessThan(500 + 1000 + 5000);
      expect(await survivors(m)).toEqual([]);
    });

    it('SIGKILLs a node process that handles SIGTERM and keeps running', async () => {
      const m = track(`porthole-stubborn-${randomBytes(4).toString('hex')}`);
      const script = "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('ready')";
      const result = await runCommand(spec(NODE, ['-e', script, m], { timeoutMs: 1500, killGraceMs: 500 }));
      expect(result.stdout).toBe('ready\n');
      expect(result.timedOut).toBe(true);
      expect(result.signal).toBe('SIGKILL');
      expect(await survivors(m)).toEqual([]);
    });
  });

  describe('leftover processes', () => {
    it('kills a background grandchild when the main process exits, and resolves promptly', async () => {
      const m = track(marker());
      const started = Date.now();
      const result = await runCommand(spec('sh', ['-c', `sleep ${m} & echo done`]));
      expect(Date.now() - started).toBeLessThan(5000);
      expect(result.stdout).toBe('done\n');
      expect(result.exitCode).toBe(0);
      expect(result.timedOut).toBe(false);
      expect(await survivors(m)).toEqual([]);
    });

    it('does not hang when a process that left the group holds the pipes', async () => {
      const m = track(marker());
      const started = Date.now();
      // setsid moves the sleeper out of our group, beyond the group kill; only the pipes are ours to close.
      const result = await runCommand(spec('sh', ['-c', `setsid sleep ${m} & echo done`]));
      expect(Date.now() - started).toBeLessThan(5000);
      expect(result.stdout).toBe('done\n');
      expect(result.exitCode).toBe(0);
    });
  });

  describe('output cap', () => {
    it('cuts `yes` at exactly the cap, stops it, and keeps memory bounded', async () => {
      const word = `porthole-yes-${randomBytes(4).toString('hex')}`;
      track(word);
      const before = process.memoryUsage().rss;
      const result = await runCommand(spec('yes', [word], { maxOutputBytes: MiB }));
      const grown = process.memoryUsage().rss - before;
      expect(Buffer.byteLength(result.stdout)).toBe(MiB);
      expect(result.stdout.startsWith(`${word}\n${word}\n`)).toBe(true);
      expect(result.truncated).toEqual({ stdout: true, stderr: false });
      expect(result.timedOut).toBe(false);
      // Stopped: by SIGTERM, or by its own write error once we stopped reading (Node's pipes
      // are socket pairs, so `yes` may see ECONNRESET and exit 1 rather than die of SIGPIPE).
      expect(result.exitCode).not.toBe(0);
      expect(grown).toBeLessThan(64 * MiB);
      expect(await survivors(word)).toEqual([]);
    });

    it('truncates only the stream that overflowed', async () => {
      const result = await runCommand(spec('sh', ['-c', 'echo out; yes x | head -c 10485760 >&2; sleep 5'], { maxOutputBytes: MiB }));
      expect(result.stdout).toBe('out\n');
      expect(Buffer.byteLength(result.stderr)).toBe(MiB);
      expect(result.truncated).toEqual({ stdout: false, stderr: true });
    });

    it('never keeps more than the cap, even when the cut splits a character', async () => {
      const result = await runCommand(spec('printf', ['aé and more'], { maxOutputBytes: 2 }));
      expect(result.stdout).toBe('a');
      expect(result.truncated.stdout).toBe(true);
    });

    it('keeps output that exactly fits the cap untruncated', async () => {
      const result = await runCommand(spec('printf', ['12345'], { maxOutputBytes: 5 }));
      expect(result.stdout).toBe('12345');
      expect(result.truncated.stdout).toBe(false);
      expect(result.exitCode).toBe(0);
    });
  });

  describe('live output', () => {
    it('delivers output as it arrives, not all at the end', async () => {
      const seen: { stream: StreamName; text: string; at: number }[] = [];
      const started = Date.now();
      const script = 'for i in 1 2 3 4 5 6; do echo line$i; sleep 0.2; done; echo oops >&2';
      const result = await runCommand(spec('sh', ['-c', script]), {
        onOutput: (stream, text) => seen.push({ stream, text, at: Date.now() }),
      });
      const ended = Date.now();
      expect(result.exitCode).toBe(0);
      const out = seen.filter((s) => s.stream === 'stdout');
      expect(out.map((s) => s.text).join('')).toBe(result.stdout);
      expect(seen.filter((s) => s.stream === 'stderr').map((s) => s.text).join('')).toBe('oops\n');
      expect(out.length).toBeGreaterThanOrEqual(3);
      expect(ended - started).toBeGreaterThanOrEqual(1000);
      // The first line is printed at once; the run lasts over a second more.
      expect(ended - out[0]!.at).toBeGreaterThan(500);
    });

    it('decodes UTF-8 characters split across chunks', async () => {
      // Each byte of "€" and "😀" is written separately, with pauses so they arrive as separate chunks.
      const script = `
        const bytes = [...Buffer.from('€😀\\n')];
        const next = () => { const b = bytes.shift(); if (b === undefined) return; process.stdout.write(Buffer.from([b]), () => setTimeout(next, 30)); };
        next();`;
      const texts: string[] = [];
      const result = await runCommand(spec(NODE, ['-e', script]), { onOutput: (_s, text) => texts.push(text) });
      expect(result.stdout).toBe('€😀\n');
      expect(texts.join('')).toBe('€😀\n');
      expect(texts.length).toBeGreaterThanOrEqual(2);
      expect(texts.join('')).not.toContain('\uFFFD');
    });
  });

  describe('cancellation', () => {
    it('stops the whole group when the signal aborts mid-run', async () => {
      const m = track(marker());
      const controller = new AbortController();
      const started = Date.now();
      const result = await runCommand(spec('sh', ['-c', `echo started; sleep ${m} & sleep ${m}`]), {
        signal: controller.signal,
        onOutput: () => controller.abort(),
      });
      expect(result.cancelled).toBe(true);
      expect(result.timedOut).toBe(false);
      expect(result.stdout).toBe('started\n');
      expect(result.signal).toBe('SIGTERM');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(await survivors(m)).toEqual([]);
    });

    it('does not start at all when already aborted', async () => {
      const m = track(marker());
      const result = await runCommand(spec('sleep', [m]), { signal: AbortSignal.abort() });
      expect(result.cancelled).toBe(true);
      expect(result.exitCode).toBeNull();
      expect(processesWith(m)).toEqual([]);
    });

    it('stops a process whose cancel came while it was still starting', async () => {
      const m = track(marker());
      const controller = new AbortController();
      const running = runCommand(spec('sh', ['-c', `sleep ${m} & sleep ${m}`]), { signal: controller.signal });
      // Before the start has been reported: posix_spawn is still under way on another thread.
      controller.abort();
      const result = await running;
      expect(result.cancelled).toBe(true);
      expect(result.exitCode).toBeNull();
      expect(await survivors(m)).toEqual([]);
    });

    it('lets a shutdown kill every running group', async () => {
      const m = track(marker());
      const before = runningGroups().length;
      const runs = [1, 2].map(() => runCommand(spec('sh', ['-c', `sleep ${m} & sleep ${m}`])));
      // Running, and reported started: posix_spawn starts processes off the event loop's
      // thread, so they can be seen in /proc a moment before the runner has them.
      await waitFor(
        () => [processesWith(m).length, runningGroups().length] as const,
        ([n, tracked]) => n >= 4 && tracked >= before + 2,
      );
      const groups = runningGroups();
      expect(groups.length).toBe(before + 2);
      expect(killAllRunningGroups('SIGKILL')).toBe(groups.length);
      const results = await Promise.all(runs);
      expect(results.map((r) => r.signal)).toEqual(['SIGKILL', 'SIGKILL']);
      expect(await survivors(m)).toEqual([]);
      expect(runningGroups()).toEqual([]);
      // Orphaned grandchildren stay in the group as zombies until init reaps them.
      const alive = await waitFor(
        () => groups.filter((pgid) => isGroupAlive(pgid)),
        (a) => a.length === 0,
      );
      expect(alive).toEqual([]);
    });
  });

  describe('how a run ends', () => {
    it('reports a non-zero exit code', async () => {
      const result = await runCommand(spec('sh', ['-c', 'echo bad >&2; exit 3']));
      expect(result.exitCode).toBe(3);
      expect(result.signal).toBeNull();
      expect(result.stderr).toBe('bad\n');
      expect(result.spawnError).toBeUndefined();
    });

    it('reports the signal that killed the process', async () => {
      const result = await runCommand(spec('sh', ['-c', 'kill -SEGV $$']));
      expect(result.exitCode).toBeNull();
      expect(result.signal).toBe('SIGSEGV');
      expect(result.timedOut).toBe(false);
    });

    it('the group is gone after a run that was timed out', async () => {
      const m = track(marker());
      const run = runCommand(spec('sh', ['-c', `sleep ${m} & sleep ${m}`], { timeoutMs: 1500 }));
      const pgid = await groupOf(m);
      expect(isGroupAlive(pgid)).toBe(true);
      const result = await run;
      expect(result.timedOut).toBe(true);
      const alive = await waitFor(
        () => processesWith(m).length > 0,
        (a) => !a,
      );
      expect(alive).toBe(false);
    });
  });

  describe('spawn errors', () => {
    it('resolves with a clear message for a missing program, naming PATH but no other env value', async () => {
      const result = await runCommand(spec('porthole-no-such-program', ['x'], { env: { PATH, TOKEN: 'hunter2-token' } }));
      expect(result.spawnError).toBe(
        `cannot start "porthole-no-such-program": no such file or directory (looked up in PATH=${PATH})`,
      );
      expect(result.spawnError).not.toContain('hunter2');
      expect(result.exitCode).toBeNull();
      expect(result.stdout).toBe('');
    });

    it('names a missing absolute program', async () => {
      const result = await runCommand(spec('/nonexistent/porthole', []));
      expect(result.spawnError).toBe('cannot start "/nonexistent/porthole": no such file or directory');
    });

    it('reports a program that is not executable', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'porthole-'));
      const file = join(dir, 'not-executable');
      writeFileSync(file, 'echo hi\n', { mode: 0o644 });
      try {
        const result = await runCommand(spec(file, []));
        expect(result.spawnError).toBe(`cannot start "${file}": permission denied`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('searches PATH past a directory whose program may not be run, as execvp does', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'porthole-'));
      const [first, second] = [join(dir, 'a'), join(dir, 'b')];
      try {
        execFileSync('mkdir', [first, second]);
        writeFileSync(join(first, 'porthole-prog'), 'echo first\n', { mode: 0o644 });
        writeFileSync(join(second, 'porthole-prog'), '#!/bin/sh\necho second\n', { mode: 0o755 });
        const found = await runCommand(spec('porthole-prog', [], { env: { PATH: `${first}:${second}` } }));
        expect(found.stdout).toBe('second\n');
        const refused = await runCommand(spec('porthole-prog', [], { env: { PATH: first } }));
        expect(refused.spawnError).toBe('cannot start "porthole-prog": permission denied');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses a NUL byte, which would cut a C string short, before anything starts', async () => {
      for (const bad of [spec('printf', ['a\0b']), spec('printf', ['x'], { env: { PATH, A: '\0' } }), spec('pwd', [], { cwd: '/\0tmp' })]) {
        const result = await runCommand(bad);
        expect(result.spawnError).toMatch(/^cannot start "\w+": .*a NUL byte in the program, its arguments, environment or working directory$/);
        expect(result.exitCode).toBeNull();
      }
    });

    it('blames a missing working directory, not the program', async () => {
      const result = await runCommand(spec('echo', ['hi'], { cwd: '/nonexistent/porthole-dir' }));
      expect(result.spawnError).toBe('cannot start "echo": working directory "/nonexistent/porthole-dir": no such file or directory');
    });

    it('blames a working directory that is a file', async () => {
      const result = await runCommand(spec('echo', ['hi'], { cwd: '/etc/hostname' }));
      expect(result.spawnError).toBe('cannot start "echo": working directory "/etc/hostname": not a directory');
    });

    it('runs in the given working directory', async () => {
      const result = await runCommand(spec('pwd', [], { cwd: '/usr' }));
      expect(result.stdout).toBe('/usr\n');
    });
  });

  describe('parallel runs', () => {
    it('do not interfere with each other', async () => {
      const ids = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
      const script = 'i=0; while [ $i -lt 300 ]; do echo "$1"; echo "$1-err" >&2; i=$((i+1)); done';
      const m = track(marker());
      const slow = runCommand(spec('sh', ['-c', `sleep ${m}`], { timeoutMs: 1000 }));
      const results = await Promise.all(ids.map((id) => runCommand(spec('sh', ['-c', script, 'sh', id]))));
      results.forEach((result, i) => {
        const id = ids[i]!;
        expect(result.exitCode).toBe(0);
        expect(result.stdout).toBe(`${id}\n`.repeat(300));
        expect(result.stderr).toBe(`${id}-err\n`.repeat(300));
      });
      const slowResult = await slow;
      expect(slowResult.timedOut).toBe(true);
      expect(await survivors(m)).toEqual([]);
    });
  });
});
