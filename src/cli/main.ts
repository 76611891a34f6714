#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { ConfigError, formatIssue } from '../config/issues.js';
import { configPath, loadConfig, type Config } from '../config/load.js';
import { summarize } from './check.js';
import { EXIT } from './exit-codes.js';
import { runAction, type OutputFormat } from './run.js';
import { serve } from './serve.js';

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
    const config = await load(opts.config);
    if (typeof config === 'number') return void (process.exitCode = config);
    process.exitCode = await serve(config, opts.listen);
  });

program
  .command('check')
  .description('validate the config file and print a summary')
  .addOption(configOption())
  .action(async (opts: { config?: string }) => {
    const config = await load(opts.config);
    if (typeof config === 'number') return void (process.exitCode = config);
    console.log(summarize(config));
  });

program
  .command('run')
  .description('run one action here, with the same validation and limits as the server')
  .argument('<action>', 'action id')
  .addOption(configOption())
  .option('-p, --param <name=value>', 'a parameter (repeat for more)', (value: string, all: string[]) => [...all, value], [] as string[])
  .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'csv']).default('text'))
  .action(async (actionId: string, opts: { config?: string; param: string[]; format: OutputFormat }) => {
    const config = await load(opts.config);
    if (typeof config === 'number') return void (process.exitCode = config);
    process.exitCode = await runAction(config, actionId, { params: opts.param, format: opts.format });
  });

await program.parseAsync(process.argv);
