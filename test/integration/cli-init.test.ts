import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { porthole } from '../helpers/cli.js';
import { tempDir } from '../helpers/config.js';

describe('porthole init', () => {
  it('writes a starter config that check accepts and whose actions run', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'porthole.yaml');
    const init = await porthole(['init', '-c', file]);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain('porthole check -c');
    expect(init.stdout).toContain('porthole serve -c');

    const check = await porthole(['check', '-c', file]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('disk-usage [command, safe] params: mount:enum');
    expect(check.stdout).toContain('recent-runs [query, safe] params: hours:integer');
    expect(check.stdout).toContain('network allow: 127.0.0.1, ::1');
    expect(check.stdout).not.toContain('warning');

    const command = await porthole(['run', 'disk-usage', '-c', file, '-p', 'mount=/tmp']);
    expect(command.code).toBe(0);
    expect(command.stdout).toContain('Filesystem');

    // The query reads the run history, which now holds the run above.
    const query = await porthole(['run', 'recent-runs', '-c', file, '--format', 'json']);
    expect(query.stderr).toBe('');
    expect(query.code).toBe(0);
    const result = JSON.parse(query.stdout) as { rows: unknown[][] };
    expect(result.rows).toContainEqual(['disk-usage', 'succeeded', 1]);
  }, 60_000);

  it('writes ./porthole.yaml by default, which check then finds', async () => {
    const dir = tempDir();
    expect((await porthole(['init'], { cwd: dir })).code).toBe(0);
    expect(existsSync(path.join(dir, 'porthole.yaml'))).toBe(true);
    expect((await porthole(['check'], { cwd: dir })).code).toBe(0);
  });

  it('refuses to overwrite an existing file, leaving it byte for byte as it was', async () => {
    const file = path.join(tempDir(), 'porthole.yaml');
    const before = Buffer.from('actions: {}\n# mine\n');
    writeFileSync(file, before);
    const out = await porthole(['init', '-c', file]);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/already exists \(a file\); nothing was written/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a directory', async () => {
    const dir = path.join(tempDir(), 'conf');
    mkdirSync(dir);
    const out = await porthole(['init', '-c', dir]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('already exists (a directory)');
  });

  it('refuses a symbolic link, even one pointing nowhere, and writes nothing through it', async () => {
    const dir = tempDir();
    const target = path.join(dir, 'elsewhere.yaml');
    const link = path.join(dir, 'porthole.yaml');
    symlinkSync(target, link);
    const out = await porthole(['init', '-c', link]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('already exists (a symbolic link)');
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a folder that does not exist, saying so', async () => {
    const file = path.join(tempDir(), 'missing', 'porthole.yaml');
    const out = await porthole(['init', '-c', file]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/there is no folder .*missing; create it first/);
    expect(existsSync(file)).toBe(false);
  });
});
