import { explain, formatExplanation } from '../access/explain.js';
import type { Config } from '../config/load.js';
import { EXIT } from './exit-codes.js';

/** `porthole explain`: may this user view and run this action, and which rule says so. */
export function explainCommand(config: Config, user: string, action: string, groups: string | undefined): number {
  if (!config.auth) console.log('(no auth: section: everyone the network allowlist admits may view and run everything)');
  const result = explain(config, user, action, groups?.split(',').map((g) => g.trim()).filter(Boolean));
  if ('error' in result) {
    console.error(`porthole: ${result.error}`);
    return EXIT.usage;
  }
  console.log(formatExplanation(result));
  return EXIT.ok;
}
