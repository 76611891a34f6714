import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A database driver (a CommonJS package) loaded the first time it is needed, not at start-up:
 * each costs 10–15 MB of resident memory, and most configs use one driver or none.
 */
export function lazyDriver<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
