import type { Config } from '../config/load.js';
import { Datasources } from '../datasources/create.js';
import { ParamsInvalidError, PortholeError } from '../core/errors.js';
import { Executor } from '../core/executor.js';
import { validateParams } from '../core/params.js';
import type { RunResult } from '../core/result.js';
import { resultToCsv } from '../http/renderers/csv.js';
import { tableToText } from '../http/renderers/text-table.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import type { Store } from '../store/open.js';
import { openCliStore } from './store.js';
import { auditRecorder, historyRecorder } from '../store/recorder.js';

export type OutputFormat = 'text' | 'json' | 'csv';

export interface RunOptions {
  params: readonly string[];
  format: OutputFormat;
}

/** Parses repeated `-p NAME=VALUE` options; the value may contain `=`. */
export function parseParamOptions(pairs: readonly string[]): Record<string, string> | { error: string } {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return { error: `-p expects NAME=VALUE, got "${pair}"` };
    const name = pair.slice(0, eq);
    if (Object.hasOwn(values, name)) return { error: `parameter ${name} given twice` };
    values[name] = pair.slice(eq + 1);
  }
  return values;
}

/** `porthole run`: one action, locally, with the same validation and limits as the server. */
export async function runAction(config: Config, actionId: string, options: RunOptions): Promise<number> {
  const action = config.actions.get(actionId);
  if (!action) {
    console.error(`porthole: no action "${actionId}"; defined: ${[...config.actions.keys()].join(', ') || 'none'}`);
    return EXIT.usage;
  }
  const input = parseParamOptions(options.params);
  if ('error' in input) {
    console.error(`porthole: ${input.error}`);
    return EXIT.usage;
  }
  const datasources = new Datasources(config.datasources, config.dir);
  const store = openStoreOrWarn(config);
  const executor = new Executor({
    limits: config.limits,
    observers: store ? [historyRecorder(store.history), auditRecorder(store.audit)] : [],
    onObserverError: (error) => console.error(`porthole: warning: the run could not be recorded in history: ${(error as Error).message}`),
  });
  try {
    const params = validateParams(action, input);
    const run = executor.start(action, params, { source: 'cli' }, { datasource: (name) => datasources.get(name), secrets: config.secrets });
    const stop = () => run.cancel();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (options.format === 'text' && action.kind === 'command') {
      run.subscribe((event) => {
        if (event.type === 'output') (event.stream === 'stdout' ? process.stdout : process.stderr).write(event.text);
      });
    }
    const result = await run.result;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    writeResult(result, options.format, action.kind === 'command' && options.format === 'text');
    return exitCodeFor(result.outcome);
  } catch (error) {
    if (error instanceof ParamsInvalidError) {
      console.error(`porthole: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof PortholeError) {
      console.error(`porthole: ${error.message}`);
      return EXIT.unavailable;
    }
    throw error;
  } finally {
    await datasources.closeAll();
    store?.close();
  }
}

/** A run from the command line is recorded too; a history that cannot be opened must not stop it. */
function openStoreOrWarn(config: Config): Store | undefined {
  try {
    return openCliStore(config);
  } catch (error) {
    console.error(`porthole: warning: run history in ${config.dataDir} cannot be opened (${(error as Error).message}); this run is not recorded`);
    return undefined;
  }
}

function writeResult(result: RunResult, format: OutputFormat, streamed: boolean): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else if (result.kind === 'table') {
    if (result.outcome === 'succeeded') process.stdout.write(format === 'csv' ? resultToCsv(result) : tableToText(result));
    if (result.truncated) console.error(`porthole: only the first ${result.rows.length} rows are shown (row limit reached)`);
    if (format === 'text' && result.outcome === 'succeeded') console.error(`${result.rows.length} row${result.rows.length === 1 ? '' : 's'} in ${result.durationMs} ms`);
  } else {
    if (!streamed) {
      process.stdout.write(format === 'csv' ? resultToCsv(result) : result.stdout);
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      if (result.truncated[stream]) console.error(`porthole: ${stream} was cut at the output limit`);
    }
  }
  if (result.error) console.error(`porthole: ${result.outcome}: ${result.error.message}`);
}
