#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=50 --no-maglev
import './require-supported-node.js';
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { ConfigError, formatIssue } from '../config/issues.js';
import { configPath, loadConfig, type Config } from '../config/load.js';
import { summarize } from './check.js';
import { EXIT } from './exit-codes.js';
import { runAction, type OutputFormat } from './run.js';
import { serve } from './serve.js';
import { hashPasswordCommand } from './hash-password.js';
import { createToken, listTokens, revokeToken } from './tokens.js';
import { auditCommand, type AuditOptions } from './audit.js';
import { explainCommand } from './explain.js';
import { initCommand } from './init.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

async function load(file: string | undefined): Promise<Config | number> {
  try {
    return await loadConfig(configPath(file));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) console.error(formatIssue(issue));
    const count = error.issues.filter((i) => i.severity === 'error').length;
    console.error(`porthole: config is not valid (${count} error${count === 1 ? '' : 's'})`);
    return EXIT.config;
  }
}

/** Runs a command that needs the config; an invalid config sets its exit code instead. */
async function withConfig(file: string | undefined, command: (config: Config) => number | Promise<number>): Promise<void> {
  const config = await load(file);
  process.exitCode = typeof config === 'number' ? config : await command(config);
}

const configOption = () => new Option('-c, --config <file>', 'config file (default: $PORTHOLE_CONFIG, else ./porthole.yaml)');

const program = new Command('porthole')
  .description('A safe window into a server: operator-defined commands and database queries.')
  .version(version, '-V, --version')
  .showHelpAfterError()
  .exitOverride((error) => {
    // Help and version are successes; any other parse error is a usage error.
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  });

program
  .command('serve')
  .description('serve the actions over HTTP (dashboard, API, streams)')
  .addOption(configOption())
  .option('-l, --listen <host:port>', 'address to listen on (default: listen: in the config)')
  .action(async (opts: { config?: string; listen?: string }) => {
    await withConfig(opts.config, (config) => serve(config, opts.listen));
  });

program
  .command('init')
  .description('write a commented starter config; never overwrites one')
  .addOption(configOption())
  .action(async (opts: { config?: string }) => {
    process.exitCode = await initCommand(configPath(opts.config));
  });

program
  .command('check')
  .description('validate the config file and print a summary')
  .addOption(configOption())
  .action(async (opts: { config?: string }) => {
    await withConfig(opts.config, (config) => {
      console.log(summarize(config));
      return EXIT.ok;
    });
  });

program
  .command('run')
  .description('run one action here, with the same validation and limits as the server')
  .argument('<action>', 'action id')
  .addOption(configOption())
  .option('-p, --param <name=value>', 'a parameter (repeat for more)', (value: string, all: string[]) => [...all, value], [] as string[])
  .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'csv']).default('text'))
  .action(async (actionId: string, opts: { config?: string; param: string[]; format: OutputFormat }) => {
    await withConfig(opts.config, (config) => runAction(config, actionId, { params: opts.param, format: opts.format }));
  });

program
  .command('hash-password')
  .description('read a password (not echoed) and print its hash for auth.users')
  .action(async () => {
    process.exitCode = await hashPasswordCommand();
  });

const token = program.command('token').description('API tokens for scripts and monitoring');
token
  .command('create')
  .description('create a token; it is printed once and only its hash is kept')
  .addOption(configOption())
  .requiredOption('-u, --user <user>', 'the user the token acts as')
  .requiredOption('-n, --name <name>', 'a name to tell it apart')
  .option('-e, --expires <duration>', 'lifetime, e.g. 30d')
  .action(async (opts: { config?: string; user: string; name: string; expires?: string }) => {
    await withConfig(opts.config, (config) => createToken(config, opts.user, opts.name, opts.expires));
  });
token
  .command('list')
  .description('list tokens (never their secrets)')
  .addOption(configOption())
  .option('-u, --user <user>', 'only this user\'s')
  .action(async (opts: { config?: string; user?: string }) => {
    await withConfig(opts.config, (config) => listTokens(config, opts.user));
  });
token
  .command('revoke')
  .description('revoke a token by id, or by --user and --name')
  .addOption(configOption())
  .argument('[id]', 'token id (from token list)')
  .option('-u, --user <user>')
  .option('-n, --name <name>')
  .action(async (id: string | undefined, opts: { config?: string; user?: string; name?: string }) => {
    await withConfig(opts.config, (config) => {
      if (id === undefined && (opts.user === undefined || opts.name === undefined)) {
        console.error('porthole: give a token id, or --user and --name');
        return EXIT.usage;
      }
      return revokeToken(config, id !== undefined ? { id } : { user: opts.user!, name: opts.name! });
    });
  });

program
  .command('audit')
  .description('show the audit log: logins, token use, runs, refusals')
  .addOption(configOption())
  .option('-u, --user <user>')
  .option('-a, --action <action>')
  .option('-s, --since <duration>', 'only the last ..., e.g. 1d')
  .option('--limit <n>', 'most events to show', '100')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'csv']).default('text'))
  .action(async (opts: AuditOptions & { config?: string }) => {
    await withConfig(opts.config, (config) => auditCommand(config, opts));
  });

program
  .command('explain')
  .description('say whether a user may view and run an action, and which rule decided')
  .addOption(configOption())
  .requiredOption('-u, --user <user>')
  .requiredOption('-a, --action <action>')
  .option('-g, --groups <groups>', 'comma-separated groups (for users from single sign-on or a proxy)')
  .action(async (opts: { config?: string; user: string; action: string; groups?: string }) => {
    await withConfig(opts.config, (config) => explainCommand(config, opts.user, opts.action, opts.groups));
  });

await program.parseAsync(process.argv);
