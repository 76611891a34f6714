import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/access/passwords.js';
import { AuditLog } from '../../src/store/auth-store.js';
import { openDatabase } from '../../src/store/database.js';
import { porthole, ROOT, type CliResult } from '../helpers/cli.js';
import { tempDir, writeConfig } from '../helpers/config.js';

/** `porthole hash-password`, `token`, `explain` and `audit`, run as real processes. */

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Like the helper's porthole(), but with text piped to standard input (not a terminal). */
function portholeWithStdin(args: string[], stdin: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

let file: string;
let dir: string;

beforeAll(async () => {
  dir = tempDir('porthole-auth-cli-');
  const hash = await hashPassword('vera-password-1234');
  file = writeConfig(
    `
auth:
  users:
    vera: { passwordHash: "${hash}", groups: [viewers] }
    rune: { passwordHash: "${hash}", groups: [runners] }
    nora: { passwordHash: "${hash}" }
  admins: { users: [ada], groups: [ops] }
actions:
  thing:
    command: [echo, hi]
    safe: true
    allow: { view: { groups: [viewers] }, run: { groups: [runners] } }
  secret:
    command: [echo, secret]
`,
    dir,
  );
});

describe('porthole hash-password', () => {
  it('reads the password piped on stdin and prints a scrypt hash that verifies', async () => {
    const [plain, withNewline] = await Promise.all([
      portholeWithStdin(['hash-password'], 'correct horse battery'),
      portholeWithStdin(['hash-password'], 'Caf\u00e9 au lait 42\n'),
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    const hash = plain.stdout.trim();
    expect(hash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(plain.stdout).toBe(`${hash}\n`);
    expect(plain.stdout + plain.stderr).not.toContain('correct horse battery');
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batter', hash)).toBe(false);
    // The line's newline is not part of the password.
    expect(withNewline.code, withNewline.stderr).toBe(0);
    expect(await verifyPassword('Caf\u00e9 au lait 42', withNewline.stdout.trim())).toBe(true);
  });

  it('refuses a password shorter than 8 characters with exit 2 and prints nothing', async () => {
    const res = await portholeWithStdin(['hash-password'], 'short\n');
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('at least 8 characters');
  });
});

describe('porthole token', () => {
  it('create prints the token once on stdout; list never shows the secret; revoke by name and by id', async () => {
    const [created, second] = await Promise.all([
      porthole(['token', 'create', '-c', file, '--user', 'rune', '--name', 'ci', '--expires', '30d']),
      porthole(['token', 'create', '-c', file, '--user', 'rune', '--name', 'monitoring']),
    ]);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(created.stdout).toBe(`${token}\n`);
    expect(token).toMatch(/^ph_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{32}$/);
    expect(created.stderr).not.toContain(token);
    expect(created.stderr).toContain('shown only now');
    const id = token.slice(3, 15);
    const secret = token.slice(16);
    expect(second.code, second.stderr).toBe(0);
    const secondId = second.stdout.trim().slice(3, 15);

    const listed = await porthole(['token', 'list', '-c', file]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout + listed.stderr).not.toContain(secret);
    expect(listed.stdout).not.toContain(second.stdout.trim().slice(16));
    const ciLine = listed.stdout.split('\n').find((l) => l.startsWith(id))!;
    expect(ciLine).toMatch(/\brune\b/);
    expect(ciLine).toMatch(/\bci\b/);
    expect(ciLine).toContain('expires ');
    expect(ciLine).toContain('last used never');
    expect(ciLine).toMatch(/active$/);

    const [byName, byId] = await Promise.all([
      porthole(['token', 'revoke', '-c', file, '--user', 'rune', '--name', 'ci']),
      // "--": an id may begin with "-".
      porthole(['token', 'revoke', '-c', file, '--', secondId]),
    ]);
    expect(byName.code, byName.stderr).toBe(0);
    expect(byId.code, byId.stderr).toBe(0);
    const [after, again] = await Promise.all([
      porthole(['token', 'list', '-c', file, '--user', 'rune']),
      // Revoking again is an error: nothing active by that name.
      porthole(['token', 'revoke', '-c', file, '--user', 'rune', '--name', 'ci']),
    ]);
    const lines = after.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).toMatch(/revoked \S+$/);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no such active token');
  });

  it('refuses an unknown user, a duplicate name, a bad duration and revoke without a target', async () => {
    const [unknown, badDuration, noTarget, first] = await Promise.all([
      porthole(['token', 'create', '-c', file, '--user', 'nobody-here', '--name', 'x']),
      porthole(['token', 'create', '-c', file, '--user', 'vera', '--name', 'dup', '--expires', 'soon']),
      porthole(['token', 'revoke', '-c', file]),
      porthole(['token', 'create', '-c', file, '--user', 'vera', '--name', 'dup']),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('no user "nobody-here"');
    expect(badDuration.code).toBe(2);
    expect(badDuration.stdout).toBe('');
    expect(noTarget.code).toBe(2);
    expect(first.code, first.stderr).toBe(0);
    const dup = await porthole(['token', 'create', '-c', file, '--user', 'vera', '--name', 'dup']);
    expect(dup.code).toBe(2);
    expect(dup.stdout).toBe('');
    expect(dup.stderr).toContain('already has a token named "dup"');
  });
});

describe('porthole explain', () => {
  it('says for view and run which rule decided (also with --groups)', async () => {
    const [viewer, runner, nobody, adminByGroup, withGroups, unknownAction] = await Promise.all([
      porthole(['explain', '-c', file, '--user', 'vera', '--action', 'thing']),
      porthole(['explain', '-c', file, '--user', 'rune', '--action', 'thing']),
      porthole(['explain', '-c', file, '--user', 'rune', '--action', 'secret']),
      porthole(['explain', '-c', file, '--user', 'otto', '--action', 'secret', '--groups', 'ops']),
      porthole(['explain', '-c', file, '--user', 'sso-person', '--action', 'thing', '--groups', 'staff, runners']),
      porthole(['explain', '-c', file, '--user', 'vera', '--action', 'nope']),
    ]);
    for (const res of [viewer, runner, nobody, adminByGroup, withGroups]) expect(res.code, res.stderr).toBe(0);

    expect(viewer.stdout).toContain('vera (groups: viewers) and action "thing":');
    expect(viewer.stdout).toMatch(/may view: yes — allow\.view: groups lists viewers, a group of vera/);
    expect(viewer.stdout).toMatch(/may run: {2}no — no rule in allow\.run of action "thing" matches vera \(groups: viewers\)/);

    expect(runner.stdout).toMatch(/may view: yes — allow\.run: groups lists runners, a group of rune \(running includes viewing\)/);
    expect(runner.stdout).toMatch(/may run: {2}yes — allow\.run: groups lists runners/);

    expect(nobody.stdout).toMatch(/may view: no — action "secret" has no allow: section, so only admins may use it/);
    expect(nobody.stdout).toMatch(/may run: {2}no — action "secret" has no allow: section/);

    expect(adminByGroup.stdout).toContain('otto (groups: ops)');
    expect(adminByGroup.stdout).toMatch(/may view: yes — auth\.admins: groups lists ops, a group of otto/);
    expect(adminByGroup.stdout).toMatch(/may run: {2}yes — auth\.admins: groups lists ops, a group of otto/);

    expect(withGroups.stdout).toContain('sso-person (groups: staff, runners)');
    expect(withGroups.stdout).toMatch(/may run: {2}yes — allow\.run: groups lists runners, a group of sso-person/);

    expect(unknownAction.code).toBe(2);
    expect(unknownAction.stderr).toContain('no action "nope"');
  });
});

describe('porthole audit', () => {
  it('--format csv has a header row, with and without events; filters apply', async () => {
    const emptyDir = tempDir('porthole-audit-empty-');
    const emptyFile = writeConfig('auth:\n  admins: { users: [ada] }\nactions:\n  a: { command: [echo] }\n', emptyDir);
    const empty = await porthole(['audit', '-c', emptyFile, '--format', 'csv']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout.split(/\r?\n/)[0]).toBe('at,event,user,ip,action,outcome,detail');

    const db = openDatabase(path.join(dir, 'data', 'porthole.db'));
    try {
      const log = new AuditLog(db);
      log.record({ event: 'login', user: 'vera', ip: '127.0.0.1', detail: 'password' });
      log.record({ event: 'denied', user: 'vera', ip: '127.0.0.1', action: 'thing', outcome: 'run', detail: 'POST /api/actions/thing/runs' });
      log.record({ event: 'login-failed', user: 'comma, "quoted"', ip: '10.0.0.9' });
    } finally {
      db.close();
    }
    const [csv, filtered, text, bad] = await Promise.all([
      porthole(['audit', '-c', file, '--format', 'csv']),
      porthole(['audit', '-c', file, '--format', 'csv', '--user', 'vera', '--action', 'thing']),
      porthole(['audit', '-c', file]),
      porthole(['audit', '-c', file, '--since', 'yesterday']),
    ]);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split(/\r?\n/);
    expect(lines[0]).toBe('at,event,user,ip,action,outcome,detail');
    expect(lines.length).toBeGreaterThanOrEqual(4);
    // Newest first; a value with a comma and quotes stays one field.
    expect(lines[1]).toMatch(/^[^,]+,login-failed,"comma, ""quoted""",10\.0\.0\.9,/);
    expect(csv.stdout).toContain(',denied,vera,127.0.0.1,thing,run,POST /api/actions/thing/runs');

    const filteredLines = filtered.stdout.trim().split(/\r?\n/);
    expect(filteredLines).toHaveLength(2);
    expect(filteredLines[1]).toContain(',denied,vera,');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('login-failed');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since expects a duration');
  });
});
