import { lstat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { EXIT } from './exit-codes.js';

/**
 * The starter config `porthole init` writes. It passes `porthole check` as it stands and
 * its actions run on any Linux machine: the query reads Porthole's own run history, so no
 * database has to be set up first. The rest is shown in comments, ready to switch on.
 */
export const STARTER_CONFIG = `# Porthole: a safe window into this server. Colleagues can run the actions below from the
# web page, the HTTP API or \`porthole run\`, with typed parameters, and nothing else.
# Check the file after every change with \`porthole check\`: unknown keys are errors.

listen: 127.0.0.1:8080            # HOST:PORT; 0.0.0.0:8080 (or [::]:8080) to be reachable from other machines

network:
  # Who may connect at all. Deny by default: only these addresses get an answer.
  allow: [127.0.0.1, "::1"]       # add addresses or ranges, e.g. 10.0.0.0/8, fd00::/8; [] admits nobody
  deny: 404                       # everyone else gets an ordinary "not found" (or 403)
  # trustedProxies: [127.0.0.1]   # behind nginx or Caddy: the proxies whose X-Forwarded-For is believed

# dataDir: data                   # run history, sessions and tokens (SQLite), relative to this file

# Every run has a timeout, an output cap and a concurrency slot; these are the defaults.
# defaults: { timeout: 30s, maxOutput: 1MiB, maxRows: 10000, concurrency: 4 }
# limits: { concurrency: 16, queue: 64 }

datasources:
  # Porthole's own run history, opened read-only: a database to try queries on at once.
  history:
    driver: sqlite
    path: data/porthole.db        # relative to this file; Porthole creates it on its first run
  # A MySQL or MariaDB database (driver: postgres works the same way). Keep secrets out of this file:
  # tasks:
  #   driver: mysql
  #   host: 127.0.0.1
  #   database: tasks
  #   user: porthole_reader             # a user allowed to SELECT, nothing more
  #   password: \${env:TASKS_DB_PASSWORD}  # or \${file:/run/secrets/tasks-db}
  #   readOnly: true                    # the default: every query runs in a read-only transaction

actions:
  disk-usage:                     # the id: lower-case letters, digits, - and _
    title: Disk usage
    description: Free and used space on a file system.
    group: Server                 # the dashboard section its card sits in
    command: [df, -h, "{{mount}}"]  # an argv list, never a shell: a parameter stays one argument
    safe: true                    # read-only, so it may run on GET and its card shows the result
    timeout: 10s
    params:
      mount:
        type: enum                # also string, integer, number, boolean, date, datetime
        label: File system
        values: [/, /tmp]
        default: /
    # allow:                      # with auth: on, who may see and run it (without allow:, admins only)
    #   view: { users: ["*"] }    # anyone signed in
    #   run: { groups: [ops] }

  recent-runs:
    title: Recent runs
    description: What ran here lately, by action and outcome.
    group: Porthole
    refresh: 1m                   # an open dashboard fetches the result again this often
    cache: 30s                    # everyone asking within 30 s shares one result
    chart: { type: bar, x: action, y: runs, series: outcome }
    params:
      hours: { type: integer, label: Last hours, min: 1, max: 720, default: 24 }
    query:
      datasource: history
      # :hours is bound by the driver, never pasted into the SQL.
      sql: |
        SELECT action_id AS action, outcome, COUNT(*) AS runs
        FROM runs
        WHERE outcome IS NOT NULL
          AND queued_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || :hours || ' hours')
        GROUP BY action_id, outcome
        ORDER BY action_id, outcome

# Sign-in. Without this section the network allowlist alone decides who may view and run.
# With it, everyone signs in, and each action needs an allow: rule (admins may do everything).
# auth:
#   users:
#     alice:
#       passwordHash: "scrypt$..."  # the output of \`porthole hash-password\` (it asks without echoing)
#       groups: [ops]
#   admins: { users: [alice] }
# Scripts send an API token instead of signing in; Prometheus (GET /metrics) needs an admin's:
#   porthole token create --user alice --name monitoring --expires 90d
`;

/** `porthole init`: writes the starter config, never over anything already at that path. */
export async function initCommand(file: string): Promise<number> {
  const relative = path.relative(process.cwd(), file);
  const shown = relative.startsWith('..') ? file : relative;
  try {
    // "wx" fails if anything exists at the path, a symlink included (even a dangling one), so a
    // file that appears meanwhile is never overwritten either.
    await writeFile(file, STARTER_CONFIG, { flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      console.error(`porthole: ${shown} already exists (${await describe(file)}); nothing was written. Give another path with -c FILE.`);
      return EXIT.usage;
    }
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      console.error(`porthole: there is no folder ${path.dirname(shown)}; create it first, or give another path with -c FILE`);
      return EXIT.usage;
    }
    console.error(`porthole: cannot write ${shown}: ${(error as Error).message}`);
    return EXIT.failed;
  }
  console.log(`Wrote ${shown}. Next:
  1. Edit its actions for this server; the comments show databases, sign-in and the rest.
  2. porthole check -c ${shown}
  3. porthole run disk-usage -c ${shown}
  4. porthole serve -c ${shown}, then open http://127.0.0.1:8080/`);
  return EXIT.ok;
}

async function describe(file: string): Promise<string> {
  const stat = await lstat(file).catch(() => undefined);
  if (stat?.isSymbolicLink()) return 'a symbolic link';
  if (stat?.isDirectory()) return 'a directory';
  return 'a file';
}
