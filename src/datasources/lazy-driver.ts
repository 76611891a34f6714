import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A database driver (a CommonJS package) loaded the first time it is needed, not at start-up:
 * on top of the rest of the server, mysql2 costs about 4 MB of resident memory and pg with
 * pg-cursor 3.5 MB, and most configs use one driver or none.
 */
export function lazyDriver<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
