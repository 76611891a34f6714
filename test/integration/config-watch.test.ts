import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { watchConfig, type ConfigWatcher } from '../../src/config/watch.js';
import { tempDir } from '../helpers/config.js';

const DEBOUNCE_MS = 50;
const watchers: ConfigWatcher[] = [];

afterEach(() => {
  for (const watcher of watchers.splice(0)) watcher.close();
});

function watch(file: string, loadedText: string): { watcher: ConfigWatcher; changes: () => number } {
  let changes = 0;
  const watcher = watchConfig(file, loadedText, () => changes++, { debounceMs: DEBOUNCE_MS });
  watchers.push(watcher);
  return { watcher, changes: () => changes };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS * 6));

describe('watching the config file', () => {
  it('counts a save made after the config was loaded but before watching began', async () => {
    const file = path.join(tempDir(), 'porthole.yaml');
    writeFileSync(file, 'saved meanwhile\n');
    const { watcher, changes } = watch(file, 'as loaded\n');
    await watcher.ready;
    await vi.waitFor(() => expect(changes()).toBe(1), { timeout: 2000, interval: 20 });
    await settle();
    expect(changes()).toBe(1);
  });

  it('does nothing when the file still holds the text that was loaded', async () => {
    const file = path.join(tempDir(), 'porthole.yaml');
    writeFileSync(file, 'as loaded\n');
    const { watcher, changes } = watch(file, 'as loaded\n');
    await watcher.ready;
    await settle();
    expect(changes()).toBe(0);
  });

  it('sees a save made once it is ready, and only a different text', async () => {
    const file = path.join(tempDir(), 'porthole.yaml');
    writeFileSync(file, 'one\n');
    const { watcher, changes } = watch(file, 'one\n');
    await watcher.ready;
    writeFileSync(file, 'two\n');
    await vi.waitFor(() => expect(changes()).toBe(1), { timeout: 2000, interval: 20 });
    writeFileSync(file, 'two\n');
    await settle();
    expect(changes()).toBe(1);
  });
});
