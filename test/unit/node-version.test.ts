import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_NODE, nodeVersionProblem } from '../../src/cli/node-version.js';
import { ROOT } from '../helpers/cli.js';

describe('the Node.js versions porthole runs on', () => {
  it.each([
    ['18.20.4', false],
    ['20.0.0', false],
    ['20.18.3', false],
    ['20.19.0', true],
    ['20.20.2', true],
    ['21.7.3', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['23.0.0', true],
    ['24.11.1', true],
  ])('%s: %s', (version, runs) => {
    expect(nodeVersionProblem(version) === undefined).toBe(runs);
  });

  it('names the version found and the versions needed', () => {
    expect(nodeVersionProblem('20.18.3')).toBe(
      'Porthole needs Node.js 20.19 or later on the 20 line, or 22.12 or later (^20.19.0 || >=22.12.0); this is Node.js 20.18.3',
    );
  });

  it('are what package.json declares, and include the Node running this suite', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(SUPPORTED_NODE);
    expect(nodeVersionProblem(process.versions.node)).toBeUndefined();
  });
});
