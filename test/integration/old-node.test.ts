import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nodeVersionProblem } from '../../src/cli/node-version.js';
import { porthole } from '../helpers/cli.js';

/**
 * A Node older than porthole supports, which .ci/run installs and names in PORTHOLE_OLD_NODE.
 * Under CI it must be there; locally the file is skipped with a loud message.
 */
function oldNode(): string | undefined {
  const node = process.env.PORTHOLE_OLD_NODE;
  if (node) return node;
  const message = 'PORTHOLE_OLD_NODE names no Node.js binary older than porthole supports';
  if (process.env.CI === 'true') throw new Error(`${message}; CI requires it (see .ci/run)`);
  console.warn(`\n!!! SKIPPING the old-Node test: ${message} !!!\n`);
  return undefined;
}

const node = oldNode();

describe.skipIf(node === undefined)('porthole on a Node.js it does not support', () => {
  it('is really such a Node', () => {
    const version = spawnSync(node!, ['--version'], { encoding: 'utf8' }).stdout.trim();
    expect(nodeVersionProblem(version.replace(/^v/, ''))).toBeDefined();
  });

  it('says which versions it needs, with no stack trace, and exits 5 before doing anything', async () => {
    const result = await porthole(['check', '-c', 'examples/task-status/porthole.yaml'], { node: node! });
    expect(result.code).toBe(5);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^porthole: Porthole needs Node\.js 20\.19 or later on the 20 line, or 22\.12 or later \(\^20\.19\.0 \|\| >=22\.12\.0\); this is Node\.js 20\.\d+\.\d+\n$/);
  });
});
