import { watch, type FSWatcher } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { debounce } from './debounce.js';

export interface ConfigWatcher {
  /** Settles once the folders are watched: a save from then on is seen. */
  ready: Promise<void>;
  close(): void;
}

export interface WatchOptions {
  /** Quiet time after the last event before the file is read again. */
  debounceMs?: number;
  /** A folder that cannot be watched; watching goes on for the others. */
  onError?: (error: unknown) => void;
}

async function contentOf(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Calls `onChange` when the text of the config file changes. The folders are watched, not
 * the file: editors replace a file by renaming another over it, and Kubernetes swaps a
 * symlink (ConfigMaps), either of which leaves a watch on the old inode blind. So the
 * folder holding the path and the folder of what it currently resolves to are both watched,
 * the target is resolved again after every change, and only a different text counts (a
 * file that is briefly missing mid-replace does not). Texts are compared with `loadedText`,
 * the one the running config came from, so a save made before watching began still counts.
 */
export function watchConfig(file: string, loadedText: string, onChange: () => void, options: WatchOptions = {}): ConfigWatcher {
  const watchers = new Map<string, FSWatcher>();
  let last = loadedText;
  let closed = false;

  const rewatch = async () => {
    const target = await realpath(file).catch(() => file);
    if (closed) return;
    const folders = new Set([path.dirname(file), path.dirname(target)]);
    for (const [folder, watcher] of watchers) {
      if (folders.has(folder)) continue;
      watcher.close();
      watchers.delete(folder);
    }
    for (const folder of folders) {
      if (watchers.has(folder)) continue;
      try {
        // Not persistent: watching alone never keeps the process alive.
        const watcher = watch(folder, { persistent: false }, () => check.call());
        watcher.on('error', (error) => {
          watcher.close();
          watchers.delete(folder);
          options.onError?.(error);
        });
        watchers.set(folder, watcher);
      } catch (error) {
        options.onError?.(error);
      }
    }
  };

  const check = debounce(() => {
    void (async () => {
      const now = await contentOf(file);
      await rewatch();
      if (closed || now === undefined || now === last) return;
      last = now;
      onChange();
    })();
  }, options.debounceMs ?? 300);

  // One check once the folders are watched catches a save made before they were.
  const ready = rewatch().then(() => check.call());

  return {
    ready,
    close() {
      closed = true;
      check.cancel();
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
