/**
 * `flowrun run FILE --input JSON`: runs a flow in this process and shows its steps, items, calls
 * and output live. By default the run lives in memory and ends with the process; `--store` (or
 * `FLOWRUN_STORE`) records it elsewhere, so it survives a crash and can be watched from another
 * process. The other flow files of FILE's folder are deployed into that store so calls between
 * them resolve — but into a store that is told (`--store`/`FLOWRUN_STORE`), only those whose flow
 * it does not have yet, unless `--deploy-siblings` (the versions a server over it runs stay as they are).
 *
 * Exit codes: 0 the run succeeded, 1 it failed or was canceled, 2 bad usage or an invalid
 * definition or input, 3 the run is waiting (INACTIVE: for an event, a timer or an approval).
 */
import type { Command } from 'commander';
import { FlowError, NotFoundError, ValidationError } from '../../core/errors.js';
import type { RunRecord } from '../../core/run.js';
import type { LiveRunEvent } from '../../core/engine/types.js';
import { createEngine } from '../../create-engine.js';
import { assumingModelResolver } from '../../core/engine/steps/model-resolver.js';
import { uuidIds } from '../../runtime/uuid-ids.js';
import { openStoreSpec } from '../store-spec.js';
import { withoutPassword } from './serve.js';
import { styleOf, type CliIo } from '../cli-io.js';
import { printable } from '../printable.js';
import { looksLikeFlow, readFlowFile, readSiblingFlowFiles } from '../flow-files.js';
import { formatRunEvent } from '../format-run-event.js';
import { loadModules } from '../load-modules.js';
import { humanTime } from '../remote-client.js';

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
  deploySiblings?: boolean;
}

/** The exit code of a run that ends up waiting (INACTIVE). */
export const WAITING_EXIT_CODE = 3;

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
    .option('-s, --store <spec>', 'where the run is kept: memory (default, ends with this process), sqlite:PATH or postgres://…', process.env.FLOWRUN_STORE ?? 'memory')
    .option('--deploy-siblings', 'deploy and publish every other flow file of the folder into --store, even flows it already has')
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
    const replaces = options.store === 'memory' || options.deploySiblings === true;
    const siblings = (await readSiblingFlowFiles(file)).filter((sibling) => looksLikeFlow(sibling.definition));
    // What the store had before this command: two files of one flow here still replace each other, as they always did.
    const inStore = new Set<string>();
    if (!replaces) for (const s of siblings) if (await isDeployed(engine, (s.definition as { id: string }).id)) inStore.add((s.definition as { id: string }).id);
    for (const sibling of siblings) {
      if (!looksLikeFlow(sibling.definition)) continue;
      try {
        if (inStore.has(sibling.definition.id)) {
          if (live) io.err(`(${sibling.path}: ${sibling.definition.id} is used as --store has it; --deploy-siblings deploys this file instead)\n`);
          continue;
        }
        await engine.deployFlow(sibling.definition, { deployedBy: options.user, publish: true });
      } catch (error) {
        if (live) io.err(`(skipped ${sibling.path}: ${error instanceof Error ? error.message : String(error)})\n`);
      }
    }
    if (!looksLikeFlow(main.definition)) throw new FlowError('INVALID_DEFINITION', `${file} is not a flow definition (it needs "id" and "actions")`);
    const requestId = uuidIds.newRunId();
    const names = new Map<string, string>([[requestId, main.definition.id]]);
    const stop = live ? engine.onAnyRunEvent((event: LiveRunEvent) => io.out(formatRunEvent(event, names))) : () => undefined;
    const running = engine.runAction({
      flow: main.definition,
      actionName: options.action,
      input,
      userId: options.user,
      source: 'cli',
      requestId,
      ...(options.label ? { label: options.label } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
    const result = await endedOrWaiting(engine, requestId, running);
    if ('waiting' in result) {
      stop();
      if (options.json) io.out(`${JSON.stringify({ requestId, status: 'INACTIVE', waiting: result.waiting.map((run) => ({ runId: run.runId, flowId: run.flowId, suspension: run.state.suspension ?? null })) }, null, 2)}\n`);
      io.err(describeWaiting(requestId, result.waiting, withoutPassword(options.store)));
      return WAITING_EXIT_CODE;
    }
    // Launched runs go on after the main run: wait for them so their progress is shown too.
    await engine.whenIdle();
    stop();
    if (options.json) {
      io.out(`${JSON.stringify({ ...result, error: result.error ? { code: result.error.code, message: result.error.message } : undefined }, null, 2)}\n`);
    } else if (options.quiet) {
      // Only the output on success; on failure the error, on stderr, so a script's stdout stays its data.
      if (result.error) io.err(`${result.status} ${printable(result.error.code)}: ${printable(result.error.message)}\n`);
      else io.out(`${JSON.stringify(result.output, null, 2)}\n`);
    } else {
      const style = styleOf(io);
      io.out(`\n${result.status === 'SUCCEEDED' ? style.ok(result.status) : style.error(result.status)} in ${result.durationMs} ms (run ${result.requestId})\n`);
      if (result.error) io.out(`${style.error('error')} ${printable(result.error.code)}: ${printable(result.error.message)}\n`);
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

type RunEngine = ReturnType<typeof createEngine>;

async function isDeployed(engine: RunEngine, flowId: string): Promise<boolean> {
  try {
    await engine.loadFlow(flowId);
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}

/**
 * The run's result once it ends, or the runs of its call tree that wait (INACTIVE) once nothing
 * runs in this engine any more and it has not ended: it would otherwise wait for ever here.
 */
async function endedOrWaiting(engine: RunEngine, requestId: string, running: ReturnType<RunEngine['runAction']>): Promise<Awaited<typeof running> | { waiting: RunRecord[] }> {
  let outcome: { result: Awaited<typeof running> } | { error: unknown } | undefined;
  const settled = running.then((result) => void (outcome = { result }), (error: unknown) => void (outcome = { error }));
  for (;;) {
    // Idle may come before the run is even recorded; a short pause keeps this from spinning.
    await Promise.race([settled, engine.whenIdle().then(() => new Promise((r) => setTimeout(r, 20)))]);
    if (outcome) {
      if ('error' in outcome) throw outcome.error;
      return outcome.result;
    }
    const waiting = (await engine.listRuns({ rootRunId: requestId, status: 'INACTIVE' })).runs;
    if (waiting.length > 0) {
      await engine.whenIdle();
      if (!outcome) return { waiting: await Promise.all(waiting.map((run) => engine.getRun(run.runId))) };
    }
  }
}

/** What a waiting run waits for, and how it goes on. */
function describeWaiting(requestId: string, waiting: RunRecord[], store: string): string {
  const lines = [`flowrun run: run ${requestId} is waiting (INACTIVE); exit ${WAITING_EXIT_CODE}`];
  for (const run of waiting) {
    const s = run.state.suspension;
    const what = !s ? 'to be resumed' : s.kind === 'event' ? `for event "${s.event}"${s.match && Object.keys(s.match).length ? ` matching ${JSON.stringify(s.match)}` : ''}` : s.kind === 'timer' ? `until ${humanTime(s.until ?? 0)}` : 'for an approval';
    lines.push(`  ${run.runId === requestId ? 'it' : `run ${run.runId} (${run.flowId})`} waits at step ${s?.stepId ?? '?'} ${what}`);
  }
  lines.push(
    store === 'memory'
      ? '  It was kept in memory and ends with this process. To keep it: --store sqlite:PATH, then `flowrun serve --store sqlite:PATH` resumes it (publish its event with `flowrun events publish`).'
      : `  It is kept in ${store}: \`flowrun serve --store ${store}\` resumes it when it is due (publish its event with \`flowrun events publish\`).`,
  );
  return `${lines.join('\n')}\n`;
}
