/**
 * `flowrun run FILE --input JSON`: runs a flow in this process and shows its steps, items, calls
 * and output live. The run is recorded in `--store` (default: the SQLite file under `.flowrun/`),
 * so it survives a crash of this process and can be watched from another one. The other flow files of FILE's folder are deployed first, so calls between
 * example flows resolve. Exit 0 when the run succeeded, 1 when it failed or was canceled.
 */
import type { Command } from 'commander';
import { FlowError, ValidationError } from '../../core/errors.js';
import type { LiveRunEvent } from '../../core/engine/types.js';
import { createEngine } from '../../create-engine.js';
import { assumingModelResolver } from '../../core/engine/steps/model-resolver.js';
import { uuidIds } from '../../runtime/uuid-ids.js';
import { DEFAULT_STORE_SPEC, openStoreSpec } from '../store-spec.js';
import type { CliIo } from '../cli-io.js';
import { looksLikeFlow, readFlowFile, readSiblingFlowFiles } from '../flow-files.js';
import { formatRunEvent } from '../format-run-event.js';
import { loadModules } from '../load-modules.js';

interface RunCommandOptions {
  store: string;
  input?: string;
  action: string;
  modules?: string;
  timeout?: string;
  json?: boolean;
  quiet?: boolean;
  label?: string;
  user: string;
  assume?: boolean;
}

/** Adds `run` to the program. */
export function registerRunCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('run')
    .description('run a flow file in this process, showing steps, items and output as they happen')
    .argument('<file>', 'a flow definition (.json) or a flow program (.flow)')
    .option('-i, --input <json>', 'the action input, as JSON', '{}')
    .option('-a, --action <name>', 'the action to run', 'main')
    .option('-m, --modules <file>', 'a JavaScript module whose exports (or default export) map module identifiers to functions')
    .option('-t, --timeout <ms>', 'fail the run after this many milliseconds')
    .option('-l, --label <label>', 'a label for the run')
    .option('-u, --user <id>', 'the user the run is started as', 'cli')
    .option('-s, --store <spec>', 'where runs are kept: sqlite:PATH, postgres://…, or memory', process.env.FLOWRUN_STORE ?? DEFAULT_STORE_SPEC)
    .option('--assume', 'answer ask steps offline with their "assuming" values')
    .option('--json', 'print only the result, as JSON')
    .option('-q, --quiet', 'print only the output')
    .action(async (file: string, options: RunCommandOptions) => {
      setExit(await runCommand(file, options, io));
    });
}

async function runCommand(file: string, options: RunCommandOptions, io: CliIo): Promise<number> {
  let input: unknown;
  try {
    input = JSON.parse(options.input ?? '{}');
  } catch (error) {
    io.err(`flowrun run: --input is not valid JSON: ${(error as Error).message}\n`);
    return 2;
  }
  const timeoutMs = options.timeout === undefined ? undefined : Number(options.timeout);
  if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0)) {
    io.err(`flowrun run: --timeout must be a positive number of milliseconds, got "${options.timeout}"\n`);
    return 2;
  }
  const modules = options.modules ? await loadModules(options.modules) : {};
  const main = await readFlowFile(file);
  const stores = openStoreSpec(options.store);
  const engine = createEngine({ stores, modules, runtimeConfig: options.assume ? { modelResolver: assumingModelResolver } : {} });
  const live = !options.json && !options.quiet;
  try {
    for (const sibling of await readSiblingFlowFiles(file)) {
      if (!looksLikeFlow(sibling.definition)) continue;
      try {
        await engine.deployFlow(sibling.definition, { deployedBy: options.user, publish: true });
      } catch (error) {
        if (live) io.err(`(skipped ${sibling.path}: ${error instanceof Error ? error.message : String(error)})\n`);
      }
    }
    if (!looksLikeFlow(main.definition)) throw new FlowError('INVALID_DEFINITION', `${file} is not a flow definition (it needs "id" and "actions")`);
    const requestId = uuidIds.newRunId();
    const names = new Map<string, string>([[requestId, main.definition.id]]);
    const stop = live ? engine.onAnyRunEvent((event: LiveRunEvent) => io.out(formatRunEvent(event, names))) : () => undefined;
    const result = await engine.runAction({
      flow: main.definition,
      actionName: options.action,
      input,
      userId: options.user,
      source: 'cli',
      requestId,
      ...(options.label ? { label: options.label } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
    // Launched runs go on after the main run: wait for them so their progress is shown too.
    await engine.whenIdle();
    stop();
    if (options.json) {
      io.out(`${JSON.stringify({ ...result, error: result.error ? { code: result.error.code, message: result.error.message } : undefined }, null, 2)}\n`);
    } else if (options.quiet) {
      io.out(`${JSON.stringify(result.output, null, 2)}\n`);
    } else {
      io.out(`\n${result.status} in ${result.durationMs} ms (run ${result.requestId})\n`);
      if (result.error) io.out(`error ${result.error.code}: ${result.error.message}\n`);
      else io.out(`output: ${JSON.stringify(result.output, null, 2)}\n`);
    }
    return result.status === 'SUCCEEDED' ? 0 : 1;
  } catch (error) {
    if (error instanceof ValidationError) {
      io.err(`flowrun run: ${error.code}\n${error.issues.map((i) => `  ${i.path || '(flow)'}: ${i.message}`).join('\n')}\n`);
    } else {
      io.err(`flowrun run: ${error instanceof FlowError ? `${error.code}: ` : ''}${error instanceof Error ? error.message : String(error)}\n`);
    }
    return 2;
  } finally {
    await engine.close();
    await stores.close();
  }
}
