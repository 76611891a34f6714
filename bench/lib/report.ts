/** Writes docs/benchmarks.md from one bench run. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProfileSummary } from './cpuprofile.js';

export interface Side {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  roundsRps: number[];
  peakMainMb: number;
  peakTreeMb: number;
  /** Median over the rounds of the CPU used, in cores: the server's own threads, its children, the load generator. */
  cpu: { server: number; children: number; generator: number };
  non2xx: number;
  errors: number;
  /** What one request got, for the reader to see that both sides did the work. */
  sample: string;
}

export interface PairResult {
  id: string;
  title: string;
  porthole: Side;
  baseline: Side;
  /** Porthole's requests/s over the baseline's. */
  ratio: number;
  portholeLoad: string;
  baselineLoad: string;
  /** 1-minute load average before and after the pair. */
  loadAverage: [number, number];
  /** % of the machine's CPU used by processes outside the bench during the measured rounds. */
  foreignCpu: number;
}

export interface Target {
  text: string;
  scenario: string;
  measured: string;
  met: boolean;
  verdict: string;
  profile?: ProfileSummary | undefined;
}

export interface Report {
  startedAt: string;
  totalS: number;
  settings: { rounds: number; duration: number; warmup: number; connections: number };
  machine: { nproc: string; memory: string; cpu: string; kernel: string };
  versions: Record<'node' | 'porthole' | 'python' | 'flask' | 'webhook' | 'mariadb' | 'load', string>;
  installed: string[];
  commands: string[];
  pairs: PairResult[];
  bareTenMbMs: number;
  stream: Array<{ mode: 'json' | 'events'; ms: number; bytes: number; ok: boolean; idleMb: number; peakMb: number; addedMb: number }>;
  viewers: { viewers: number; finished: number; complete: number; openedMs: number; ms: number; idleMb: number; peakMb: number; addedMb: number };
  targets: Target[];
  root: string;
  /** 1-minute load average when the bench started and when it ended. */
  loadAverage: [number, number];
  /** % of the machine's CPU used by processes outside the bench over the whole run. */
  foreignCpu: number;
}

const n0 = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });
const ms = (x: number) => (Number.isNaN(x) ? '?' : x < 10 ? `${x.toFixed(2)} ms` : `${n0(x)} ms`);
const mbs = (x: number) => `${x.toFixed(1)} MB`;
const cores = (x: number) => x.toFixed(2);
const ratio = (x: number) => (x >= 10 ? `${x.toFixed(0)}x` : `${x.toFixed(2)}x`);

/** Porthole's latency against the baseline's, in words. */
function latencyRatio(a: number, b: number): string {
  if (!(a > 0) || !(b > 0)) return '';
  return a <= b ? `${(b / a).toFixed(1)}x lower` : `${(a / b).toFixed(1)}x higher`;
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function pairSection(p: PairResult, rounds: number): string {
  const { porthole: a, baseline: b } = p;
  const rows: string[][] = [
    [`requests/s (median of ${rounds})`, n0(a.rps), n0(b.rps), ratio(p.ratio)],
    ['requests/s, each round', a.roundsRps.map(n0).join(' · '), b.roundsRps.map(n0).join(' · '), ''],
    ['latency p50 (median)', ms(a.p50), ms(b.p50), latencyRatio(a.p50, b.p50)],
    ['latency p99 (median)', ms(a.p99), ms(b.p99), latencyRatio(a.p99, b.p99)],
    ['peak RSS, server process', mbs(a.peakMainMb), mbs(b.peakMainMb), ''],
    ['peak RSS, with its children', mbs(a.peakTreeMb), mbs(b.peakTreeMb), ''],
    ['CPU, server process (cores, median)', cores(a.cpu.server), cores(b.cpu.server), ''],
    ['CPU, its children (cores, median)', cores(a.cpu.children), cores(b.cpu.children), ''],
    ['CPU, the load generator (cores, median)', cores(a.cpu.generator), cores(b.cpu.generator), ''],
    ['non-2xx answers / errors', `${a.non2xx} / ${a.errors}`, `${b.non2xx} / ${b.errors}`, ''],
  ];
  return [
    `### Scenario ${p.id}: ${p.title}`,
    '',
    table(['', 'Porthole', b.name, 'Porthole / baseline'], rows),
    '',
    `- Porthole load: \`${p.portholeLoad}\``,
    `- ${b.name} load: \`${p.baselineLoad}\``,
    `- One request to each before the load — Porthole: ${a.sample}; ${b.name}: ${b.sample}`,
    `- Other processes on the machine (not the bench, its servers, wrk or MariaDB) used ${p.foreignCpu.toFixed(0)}% of its CPU during the measured rounds; 1-minute load average ${p.loadAverage[0].toFixed(2)} → ${p.loadAverage[1].toFixed(2)}.`,
  ].join('\n');
}

/** A few lines on where a profile's busy time went, from its top modules and functions. */
function reading(p: ProfileSummary): string[] {
  const share = (pred: (name: string) => boolean, list = p.modules) => list.filter((e) => pred(e.name)).reduce((s, e) => s + e.share, 0);
  const lines: string[] = [];
  lines.push(
    `Busy ${n0(p.busyMs)} ms of ${n0(p.wallMs)} ms profiled (${((100 * p.busyMs) / Math.max(p.wallMs, 1)).toFixed(0)}% of the main thread; the rest idle).`,
  );
  lines.push(`By module: ${p.modules.slice(0, 6).map((e) => `${e.name} ${e.share.toFixed(1)}%`).join(', ')}.`);
  lines.push(`Hottest functions (self time): ${p.functions.slice(0, 5).map((e) => `\`${e.name}\` ${e.share.toFixed(1)}%`).join(', ')}.`);
  const gc = share((n) => n === '(garbage collector)');
  const spawn = share((n) => /^spawn |ChildProcess|spawnWith /.test(n), p.functions);
  const program = share((n) => n === '(program)');
  const notes: string[] = [];
  if (spawn >= 5) notes.push(`starting processes takes ${spawn.toFixed(0)}% of the main thread`);
  if (gc >= 5) notes.push(`garbage collection ${gc.toFixed(0)}%`);
  if (program >= 5) notes.push(`V8/native work outside JavaScript ("(program)") ${program.toFixed(0)}%`);
  if (notes.length > 0) lines.push(`Of note: ${notes.join('; ')}.`);
  return lines;
}

function profileSection(t: Target, root: string, shown: Map<string, string>): string {
  const p = t.profile;
  if (!p) return `#### ${t.text}\n\n${t.verdict}. No profile could be captured.`;
  const earlier = shown.get(p.file);
  if (earlier !== undefined) return `#### ${t.text}\n\n${t.verdict[0]!.toUpperCase()}${t.verdict.slice(1)}. Same scenario, same profile as under "${earlier}" above.`;
  shown.set(p.file, t.text);
  const top = (entries: ProfileSummary['functions']) => table(['where', 'self ms', 'share of busy'], entries.map((e) => [`\`${e.name}\``, n0(e.ms), `${e.share.toFixed(1)}%`]));
  return [
    `#### ${t.text}`,
    '',
    `${t.verdict[0]!.toUpperCase()}${t.verdict.slice(1)}. Profile: \`${path.relative(root, p.file)}\` (not committed)${p.windowed ? ', counting only the measured part (no start-up, no warm-up)' : ', the whole process life (start-up included)'}.`,
    '',
    ...reading(p).map((l) => `- ${l}`),
    '',
    '<details><summary>Top modules and functions by self time</summary>',
    '',
    top(p.modules),
    '',
    top(p.functions),
    '',
    '</details>',
  ].join('\n');
}

/**
 * What the bare servers measured in the same run say about the first two targets: how close to
 * its own framework and driver Porthole would have to come for the first, and what the security
 * headers alone cost the ceiling of the second.
 */
function floors(r: Report): string[] {
  const pair = (id: string) => r.pairs.find((p) => p.id === id);
  const [s1, s1c, s2, s2c] = [pair('1'), pair('1c'), pair('2'), pair('2c')];
  const lines: string[] = [];
  if (s1 && s1c) {
    const floorRatio = s1c.baseline.rps / s1.baseline.rps;
    lines.push(
      `- The floor of the first target: the bare Fastify server running the same query through mysql2 (1c) did ${n0(s1c.baseline.rps)} requests/s, ${ratio(floorRatio)} the seed-style app. 100x would ask Porthole for ${((100 / floorRatio) * 100).toFixed(0)}% of a server that does nothing but the query; it did ${(s1c.ratio * 100).toFixed(0)}%.`,
    );
  }
  if (s2 && s2c) {
    const headers = s2c.baseline.rps / s2.baseline.rps;
    lines.push(
      `- The ceiling of the second: the bare Node server sending Porthole's security headers (2c) did ${(headers * 100).toFixed(0)}% of what it did without them, so the headers alone cost ${((1 - headers) * 100).toFixed(0)}% of the ceiling; Porthole did ${(s2c.ratio * 100).toFixed(0)}% of the bare server with the headers.`,
    );
  }
  return lines.length > 0 ? [...lines, ''] : [];
}

export function writeReport(file: string, r: Report): void {
  const { settings: s } = r;
  const summaryRows = r.pairs.map((p) => [
    `${p.id}`,
    p.title,
    `${n0(p.porthole.rps)} req/s, p99 ${ms(p.porthole.p99)}`,
    `${n0(p.baseline.rps)} req/s, p99 ${ms(p.baseline.p99)}`,
    `**${ratio(p.ratio)}**`,
  ]);
  const ev = r.stream.find((x) => x.mode === 'events')!;
  const js = r.stream.find((x) => x.mode === 'json')!;
  const v = r.viewers;
  const missed = r.targets.filter((t) => !t.met);
  const shown = new Map<string, string>();

  const md = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (\`bench/run.ts\`) on ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC; the whole run took ${n0(r.totalS)} s.`,
    'Do not edit the numbers by hand: run the bench again. Every server listens on 127.0.0.1 only, and every load is bounded in time.',
    '',
    '## Summary',
    '',
    table(['#', 'scenario', 'Porthole', 'baseline', 'Porthole / baseline'], summaryRows),
    `| 4 | one run printing 10 MB, through an event stream / in the JSON answer | ${ms(ev.ms)}, +${mbs(ev.addedMb)} RSS / ${ms(js.ms)}, +${mbs(js.addedMb)} RSS | the bare pipeline alone: ${ms(r.bareTenMbMs)} | ${(ev.ms / r.bareTenMbMs).toFixed(1)}x / ${(js.ms / r.bareTenMbMs).toFixed(1)}x the time |`,
    `| 5 | ${v.viewers} event-stream viewers of one live run | ${v.finished}/${v.viewers} got the finished event (${v.complete} with every line) in ${ms(v.ms)}, +${mbs(v.addedMb)} RSS | — | — |`,
    '',
    '### Targets (from issue 6)',
    '',
    table(['target', 'scenario', 'measured', 'verdict'], r.targets.map((t) => [t.text, t.scenario, t.measured, `${t.met ? '✅' : '❌'} ${t.verdict}`])),
    '',
    ...floors(r),
    missed.length > 0 ? `Missed targets have a CPU profile and a reading under [Profiles of the misses](#profiles-of-the-misses).` : 'Every target was met.',
    '',
    '## Machine',
    '',
    `- CPUs (nproc): ${r.machine.nproc}; CPU: ${r.machine.cpu}`,
    `- Memory: ${r.machine.memory}; kernel ${r.machine.kernel}`,
    '- The load generator runs on the same machine and shares its cores with the server it loads.',
    `- Other processes (not the bench, its servers, wrk or MariaDB; interrupt time, mostly the load's own loopback traffic, left out) used ${r.foreignCpu.toFixed(0)}% of the machine's CPU over the whole run (per pair: ${r.pairs.map((p) => `${p.id} ${p.foreignCpu.toFixed(0)}%`).join(', ')}); 1-minute load average ${r.loadAverage[0].toFixed(2)} at the start, ${r.loadAverage[1].toFixed(2)} at the end.${
      Math.max(r.foreignCpu, ...r.pairs.map((p) => p.foreignCpu)) > 10
        ? ' Other work was running on this 2-core machine during the run, so absolute numbers are lower and noisier than on a quiet machine; rounds alternate between Porthole and its baseline so that both sides share the disturbance, and the ratios are the medians of the rounds.'
        : ''
    }`,
    '',
    '## Versions',
    '',
    `- Node.js ${r.versions.node}; Porthole ${r.versions.porthole}`,
    `- ${r.versions.python}; Flask ${r.versions.flask}`,
    `- webhook: ${r.versions.webhook}`,
    `- MariaDB ${r.versions.mariadb}`,
    `- Load generator: ${r.versions.load}`,
    r.installed.length > 0 ? `- Installed by this run: ${r.installed.join(', ')} (apt-get)` : '- Nothing had to be installed by this run.',
    '',
    '## How it was run',
    '',
    '```sh',
    'npm run bench        # = tsx bench/run.ts; runs `npm run build` first',
    '# shorter: BENCH_ROUNDS=1 BENCH_DURATION=3 npm run bench',
    '```',
    '',
    `- Each pair: one request to each side to check the answer, ${s.warmup} s of warm-up load on each, then ${s.rounds} rounds alternating Porthole and its baseline, ${s.duration} s each, ${s.connections} connections, one request in flight per connection.`,
    r.versions.load.startsWith('wrk')
      ? `- Load generator: ${r.versions.load}, one thread (the server gets the other core), \`--timeout 10s\`; POSTs send \`{}\` as JSON through \`bench/wrk/post-json.lua\`. Not autocannon: it reconnects slowly to servers that close every connection, as Flask's built-in server does, and measured the Flask app at well under what wrk did — flattering Porthole's ratio.`
      : '- Load generator: autocannon as a library in the bench process (wrk was not available). Caution: autocannon reconnects slowly to servers that close every connection (Flask\'s built-in server), which understates the Flask app and flatters scenario 1\'s ratio.',
    '- requests/s counts 2xx answers only, over the round\'s length; latency p50/p99 and requests/s are the median of the rounds.',
    '- Peak RSS: `/proc/<pid>/status` VmRSS sampled every 100 ms, and VmHWM (reset through `/proc/<pid>/clear_refs` before each round), of the server process; "with its children" adds the processes it started (mysql clients and their shells for Flask and webhook; echo for Porthole and webhook).',
    '- CPU, in cores (1.00 = one core busy for the whole round): the server process\'s own threads (utime + stime in `/proc/<pid>/stat`), the children it started and reaped (cutime + cstime), and wrk (this process\'s reaped children). The two cores are shared by all three, so a server using less than one core while wrk uses nearly one is limited by the load generator, not by itself.',
    '- The database is the seed\'s (`examples/task-status/schema.sql`: `flasktest.tasks`, three rows) on the machine\'s MariaDB. The bench uses its own user `porthole_bench` with the seed\'s grants, so it never changes the password of the tests\' `flaskuser`. Porthole connects over TCP (127.0.0.1); the Flask app and webhook\'s script run the `mysql` client without `-h`, i.e. over the Unix socket, as the post does.',
    '- The Flask app (`bench/baselines/flask_status.py`) is served by Flask\'s built-in Werkzeug server with `threaded=True` (`python3 flask_status.py PORT` → `app.run(threaded=True)`, as the post runs `python app.py`), request logging off; each `GET /status/` runs `mysql -u… -p… -e "USE flasktest; SELECT COUNT(*) …"` three times through `subprocess.check_output(shell=True)`.',
    '- webhook (`bench/baselines/hooks.json`) answers with the command\'s output (`include-command-output-in-response`), so it waits for the command as Porthole does.',
    '- Porthole runs from the build (`dist/`) with the Node flags its launchers give it (see docs/deployment.md), `PORTHOLE_LOG_LEVEL=warn`, the configs in `bench/configs/`, and the default limits (4 runs per action, 16 in all, 64 waiting; 3b raises its action\'s to 16); its history goes to SQLite under `bench/tmp/`.',
    "- The extra baselines, each started from `bench/baselines/` with Porthole's security headers as arguments: `bare-fastify.mjs` (2b) and `bare-node.mjs` with the headers (2c) answer the fixed body; `fastify-mysql.mjs` (1c) answers `GET /status/` by running the seed's query through a mysql2 pool (a prepared statement, as Porthole's is) and printing its rows, with no parameters, access checks, limits, history or metrics.",
    '',
    'Servers, as started (PORT is a free loopback port chosen per run):',
    '',
    '```sh',
    ...r.commands,
    '```',
    '',
    '## Results',
    '',
    ...r.pairs.flatMap((p) => [pairSection(p, s.rounds), '']),
    '### Scenario 4: one run printing 10 MB (`head -c 10000000 /dev/zero | tr \'\\0\' a`, `maxOutput: 16MiB`)',
    '',
    'A fresh Porthole for each way; idle RSS is read after 20 echo runs and 1.5 s of rest, the peak while the run goes on until its whole output has arrived.',
    '',
    table(
      ['way', 'time', 'bytes received', 'idle RSS', 'peak RSS', 'added', 'complete'],
      r.stream.map((x) => [
        x.mode === 'events' ? '`POST …/runs?wait=false`, then one viewer on `…/events`' : '`POST …/runs` (wait), the output in the JSON answer',
        ms(x.ms),
        n0(x.bytes),
        mbs(x.idleMb),
        mbs(x.peakMb),
        `**${mbs(x.addedMb)}**`,
        x.ok ? 'yes' : 'no',
      ]),
    ),
    '',
    `The same pipeline run directly by the bench, its output read and dropped: ${ms(r.bareTenMbMs)}.`,
    '',
    `### Scenario 5: ${v.viewers} event-stream viewers of one live run`,
    '',
    `The \`ticker\` action prints a line every 50 ms for about 3 s. The bench starts it with \`?wait=false\` and at once opens ${v.viewers} \`GET …/events\` streams (node:http, one connection each).`,
    '',
    table(
      ['viewers', 'got the finished event', 'got every line', 'all requests sent after', 'all finished after', 'idle RSS', 'peak RSS', 'added'],
      [[String(v.viewers), String(v.finished), String(v.complete), ms(v.openedMs), ms(v.ms), mbs(v.idleMb), mbs(v.peakMb), `**${mbs(v.addedMb)}**`]],
    ),
    '',
    '## Profiles of the misses',
    '',
    missed.length === 0
      ? 'No target was missed, so no profile was taken.'
      : [
          'For each missed target, a fresh Porthole was started with `node --cpu-prof --cpu-prof-dir=bench/profiles/<scenario> dist/cli/main.js serve …`, given the scenario\'s warm-up and one round of its load (or its one run), and stopped with SIGTERM; the bench then summed the self time of the `.cpuprofile` by function and by module, over the samples taken during the measured part only. Shares are of the main thread\'s busy (non-idle) time; work on libuv\'s thread pool, in child processes and in MariaDB is not in it.',
          '',
          ...missed.flatMap((t) => [profileSection(t, r.root, shown), '']),
        ].join('\n'),
    '',
  ].join('\n');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, md);
}
