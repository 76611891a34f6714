import { EXIT } from './exit-codes.js';
import { nodeVersionProblem } from './node-version.js';

// The first import of main.ts, so it runs before the modules that an older Node fails to load
// (with ERR_REQUIRE_ESM from deep inside a dependency, which says nothing of the cause).
const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  console.error(`porthole: ${problem}`);
  process.exit(EXIT.unavailable);
}
