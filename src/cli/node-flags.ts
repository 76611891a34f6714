/**
 * The V8 flags `porthole serve` is started with: by the `porthole` command's shebang, `npm start`,
 * the supervisor and systemd files and the Dockerfile (test/unit/node-flags.test.ts holds them to
 * this list). Node 22 and later size the young generation from the machine's memory (64 MiB
 * semi-spaces on a 24 GiB machine, against 16 MiB on Node 20) and run the Maglev JIT, whose
 * compiler memory the allocator keeps; under sustained load Node 24 settled at 400 MB resident
 * without those two flags and 293 MB with them (Node 20: about 200 MB). A cap of 8 MiB rather
 * than 16 took about 15 MB more off the benchmark peaks on Node 20, at the same throughput. V8
 * lets the old generation grow up to fourfold between full collections while allocation is
 * fast, most of it garbage: a fixed 1.5 took the peak under the benchmark's uncached load
 * from 250 to 165 MB at the same throughput. docs/deployment.md has the measurements. V8
 * reads these only at start-up, so they cannot be set from inside.
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=50', '--no-maglev'] as const;
