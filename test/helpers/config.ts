import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig, type Config } from '../../src/config/load.js';

/** A fresh temporary folder for one test's files. */
export function tempDir(prefix = 'porthole-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** Parses YAML as if it were `porthole.yaml` in `dir` (a new temp folder by default). */
export function configFrom(yaml: string, options: { dir?: string; env?: NodeJS.ProcessEnv } = {}): Config {
  const dir = options.dir ?? tempDir();
  return parseConfig(yaml, path.join(dir, 'porthole.yaml'), options.env ?? {});
}

/** Writes `porthole.yaml` into a new temp folder and returns its path. */
export function writeConfig(yaml: string, dir = tempDir()): string {
  const file = path.join(dir, 'porthole.yaml');
  writeFileSync(file, yaml);
  return file;
}
