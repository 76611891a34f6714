import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { ROOT } from '../helpers/cli.js';
import { tempDir } from '../helpers/config.js';
import { isAlive, processesMatching, waitForNoProcess } from '../helpers/processes.js';

/**
 * Porthole under a real supervisord, from the shipped deploy/supervisor/porthole.conf with
 * only its paths rewritten for this machine: health, log files, restart and a clean stop.
 */

const SHIPPED = path.join(ROOT, 'deploy/supervisor/porthole.conf');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

function installed(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Under CI a missing supervisor is a failure (.ci/run installs it); locally the file is skipped loudly. */
function requireSupervisor(): boolean {
  if (installed('supervisord') && installed('supervisorctl')) return true;
  const message = 'supervisord/supervisorctl not found (Debian package `supervisor`)';
  if (process.env.CI === 'true') throw new Error(`${message}; CI requires it (see .ci/run)`);
  console.warn(`\n!!! SKIPPING supervisor deployment tests: ${message} !!!\n`);
  return false;
}

/** The `key=value` settings of one section of an INI file such as supervisor's. */
function iniSection(text: string, name: string): Map<string, string> {
  const settings = new Map<string, string>();
  let inside = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) inside = line === `[${name}]`;
    else if (inside && line && !line.startsWith(';') && !line.startsWith('#')) {
      const eq = line.indexOf('=');
      settings.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
    }
  }
  return settings;
}

/**
 * The shipped file with the paths that only exist on a server replaced: the program runs
 * this checkout from source with the test's config, logs into `dir`, and stays root.
 * Every other line is kept as shipped.
 */
function rewriteForTest(shipped: string, dir: string, configFile: string): string {
  const replaced = new Set<string>();
  const lines = shipped.split('\n').flatMap((line) => {
    const match = /^(\w+)=(.*)$/.exec(line);
    if (!match) return [line];
    const [, key, value] = match as unknown as [string, string, string];
    const set = (next: string) => (replaced.add(key), [`${key}=${next}`]);
    switch (key) {
      case 'command': {
        // node, its flags (kept), the built entry point, then porthole's arguments.
        const parts = /^\S+((?: --\S+)*) \S+\/dist\/cli\/main\.js (.*)$/.exec(value);
        if (!parts || !parts[2]!.includes('-c /etc/porthole/porthole.yaml')) throw new Error(`unexpected shipped command: ${value}`);
        return set(`${process.execPath}${parts[1]} --import ${TSX} ${path.join(ROOT, 'src/cli/main.ts')} ${parts[2]!.replace('/etc/porthole/porthole.yaml', configFile)}`);
      }
      case 'directory':
        return set(ROOT);
      case 'user':
        // The tests run as root and there is no porthole user here.
        return (replaced.add(key), []);
      case 'stdout_logfile':
        return set(path.join(dir, 'porthole.log'));
      case 'stderr_logfile':
        return set(path.join(dir, 'error.log'));
      default:
        return [line];
    }
  });
  const expected = ['command', 'directory', 'user', 'stdout_logfile', 'stderr_logfile'];
  const missing = expected.filter((key) => !replaced.has(key));
  if (missing.length > 0) throw new Error(`the shipped supervisor config lacks ${missing.join(', ')}`);
  return lines.join('\n');
}

describe('deploy/supervisor/porthole.conf', () => {
  const program = iniSection(readFileSync(SHIPPED, 'utf8'), 'program:porthole');

  it('stops with SIGTERM and waits longer than Porthole\'s default shutdown grace plus kill grace', () => {
    const defaults = configSchema.parse({ actions: {} });
    expect(program.get('stopsignal')).toBe('TERM');
    expect(Number(program.get('stopwaitsecs')) * 1000).toBeGreaterThan(defaults.server.shutdownGrace + defaults.defaults.killGrace);
    expect(program.get('user')).toBe('porthole');
    expect(program.get('environment')).toContain('PORTHOLE_LOG_LEVEL=');
  });
});

const available = requireSupervisor();

describe.skipIf(!available)('Porthole under a real supervisord, from the shipped program config', () => {
  const dir = tempDir('porthole-supervisor-');
  const supervisorConf = path.join(dir, 'supervisord.conf');
  const stdoutLog = path.join(dir, 'porthole.log');
  // A command only this test runs, so its process can be found (and must be gone after stop).
  const marker = `83.${process.pid}`;
  let supervisord: ChildProcess | undefined;
  let supervisordExited: Promise<void> | undefined;
  const pids = new Set<number>();
  // Porthole listens on a port of its choosing; each start logs it.
  let port = 0;

  const ctl = (...args: string[]) =>
    new Promise<{ code: number; output: string }>((resolve) => {
      execFile('supervisorctl', ['-c', supervisorConf, ...args], { timeout: 45_000 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, output: stdout + stderr });
      });
    });

  const pid = async () => {
    const { output } = await ctl('pid', 'porthole');
    const value = Number(output.trim());
    if (!Number.isInteger(value) || value <= 0) throw new Error(`no pid for porthole: ${output}`);
    pids.add(value);
    return value;
  };

  const logText = () => (existsSync(stdoutLog) ? readFileSync(stdoutLog, 'utf8') : '');

  /** The port of the first "listening" line logged after `from` characters of the log. */
  const listeningPort = async (from: number) => {
    // Generous: starting from source takes many seconds on a loaded machine.
    for (let i = 0; i < 450; i++) {
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(logText().slice(from));
      if (match) return Number(match[1]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`porthole did not log that it listens:\n${logText().slice(-3000)}\n${readFileSync(path.join(dir, 'supervisord.log'), 'utf8')}`);
  };

  beforeAll(async () => {
    const configFile = path.join(dir, 'porthole.yaml');
    writeFileSync(
      configFile,
      `listen: 127.0.0.1:0
server: { shutdownGrace: 1s }
defaults: { killGrace: 500ms }
dataDir: ${path.join(dir, 'data')}
actions:
  long: { command: [sleep, "${marker}"] }
`,
    );
    writeFileSync(path.join(dir, 'porthole.conf'), rewriteForTest(readFileSync(SHIPPED, 'utf8'), dir, configFile));
    writeFileSync(
      supervisorConf,
      `[unix_http_server]
file=${path.join(dir, 'supervisor.sock')}

[supervisord]
logfile=${path.join(dir, 'supervisord.log')}
pidfile=${path.join(dir, 'supervisord.pid')}
childlogdir=${dir}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${path.join(dir, 'supervisor.sock')}

[include]
files = ${path.join(dir, 'porthole.conf')}
`,
    );
    supervisord = spawn('supervisord', ['-n', '-c', supervisorConf], { env: { PATH: process.env.PATH }, stdio: 'ignore' });
    supervisordExited = new Promise((resolve) => supervisord!.once('exit', () => resolve()));
  }, 60_000);

  afterAll(async () => {
    // supervisord stops its program on SIGTERM; whatever is left after that is killed outright.
    if (supervisord && supervisord.exitCode === null && supervisord.signalCode === null) {
      supervisord.kill('SIGTERM');
      const timedOut = await Promise.race([supervisordExited!.then(() => false), new Promise((resolve) => setTimeout(() => resolve(true), 40_000))]);
      if (timedOut) supervisord.kill('SIGKILL');
    }
    for (const processId of pids) if (isAlive(processId)) process.kill(processId, 'SIGKILL');
    for (const line of processesMatching(`sleep ${marker}`)) process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
  }, 60_000);

  it('starts Porthole, which answers /healthz and writes JSON log lines to the stdout log file', async () => {
    port = await listeningPort(0);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await pid();

    const lines = logText().split('\n').slice(0, -1);
    const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(entries.map((entry) => entry.msg)).toContain('porthole is serving');
    expect(entries.every((entry) => typeof entry.level === 'number')).toBe(true);
    expect(existsSync(path.join(dir, 'error.log'))).toBe(true);
  }, 60_000);

  it('supervisorctl restart gives a new process that serves again', async () => {
    const before = await pid();
    const logged = logText().length;
    const restart = await ctl('restart', 'porthole');
    expect(restart.output).toContain('porthole: started');
    const after = await pid();
    expect(after).not.toBe(before);
    expect(isAlive(before)).toBe(false);
    port = await listeningPort(logged);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 60_000);

  it('supervisorctl signal HUP reloads the config in the same process', async () => {
    const serving = await pid();
    const logged = logText().length;
    const signal = await ctl('signal', 'HUP', 'porthole');
    expect(signal.code, signal.output).toBe(0);
    let reloaded: { trigger: string } | undefined;
    for (let i = 0; i < 300 && !reloaded; i++) {
      reloaded = logText()
        .slice(logged)
        .split('\n')
        .filter((line) => line.includes('"config reloaded"'))
        .map((line) => JSON.parse(line) as { trigger: string })
        .find((entry) => entry.trigger === 'SIGHUP');
      if (!reloaded) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(reloaded, logText().slice(logged)).toBeDefined();
    expect(await pid()).toBe(serving);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  }, 60_000);

  it('supervisorctl stop ends it through SIGTERM: a run in flight is stopped, exit status 0, no process left', async () => {
    const serving = await pid();
    const run = await fetch(`http://127.0.0.1:${port}/api/actions/long/runs?wait=false`, { method: 'POST' });
    expect(run.status).toBe(202);
    expect(processesMatching(`sleep ${marker}`)).toHaveLength(1);

    const stop = await ctl('stop', 'porthole');
    expect(stop.output).toContain('porthole: stopped');
    expect(isAlive(serving)).toBe(false);
    expect(await waitForNoProcess(`sleep ${marker}`, 5000)).toEqual([]);
    const shutdown = logText()
      .split('\n')
      .filter((line) => line.includes('shutting down'))
      .map((line) => JSON.parse(line) as { signal: string });
    expect(shutdown.at(-1)?.signal).toBe('SIGTERM');
    // Porthole exited by itself with 0, not killed by supervisor after stopwaitsecs.
    expect(readFileSync(path.join(dir, 'supervisord.log'), 'utf8')).toContain('stopped: porthole (exit status 0)');
  }, 60_000);
});
