/**
 * The V8 flags `porthole serve` is started with: by the `porthole` command's shebang, `npm start`,
 * the supervisor and systemd files and the Dockerfile (test/unit/node-flags.test.ts holds them to
 * this list). Node 22 and later size the young generation from the machine's memory (64 MiB
 * semi-spaces on a 24 GiB machine, against 16 MiB on Node 20) and run the Maglev JIT, whose
 * compiler memory the allocator keeps. Under sustained load Node 24 settled at 400 MB resident
 * without them and 293 MB with them (Node 20: about 200 MB); docs/deployment.md has the
 * measurements. V8 reads them only at start-up, so they cannot be set from inside.
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=16', '--no-maglev'] as const;
