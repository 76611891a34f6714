/**
 * The V8 flags `porthole serve` is started with, by every launcher: the `porthole` command's
 * shebang, `npm start`, the supervisor and systemd files and the Dockerfile
 * (test/unit/node-flags.test.ts holds them to this list). They keep resident memory down under
 * load: Node 22+ sizes the young generation from the machine's memory and keeps Maglev's
 * compiler memory, and every version lets the old generation grow fourfold between full
 * collections while allocation is fast. V8 reads them only at start-up, so they cannot be set
 * from inside; docs/deployment.md ("Node flags and memory") has the measurements.
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=4', '--heap-growing-percent=50', '--no-maglev'] as const;
