import type { Config } from '../config/load.js';
import { openStore, type Store } from '../store/open.js';

/** The store as the command-line tools open it: a write that fails is a warning on stderr. */
export function openCliStore(config: Config): Store {
  return openStore(config, (error) => console.error(`porthole: warning: could not write to the store in ${config.dataDir}: ${(error as Error).message}`));
}
