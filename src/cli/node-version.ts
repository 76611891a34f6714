import semver from 'semver';

/**
 * The Node.js versions Porthole runs on; package.json's `engines` says the same. Two of its
 * dependencies (fastify's light-my-request and @fastify/static) require() packages that are
 * ES modules only, which Node can do from 20.19 on the 20 line and from 22.12 on the 22 line.
 */
export const SUPPORTED_NODE = '^20.19.0 || >=22.12.0';

/** Why this Node cannot run Porthole, or undefined when it can. */
export function nodeVersionProblem(version: string): string | undefined {
  if (semver.satisfies(version, SUPPORTED_NODE)) return undefined;
  return `Porthole needs Node.js 20.19 or later on the 20 line, or 22.12 or later (${SUPPORTED_NODE}); this is Node.js ${version}`;
}
