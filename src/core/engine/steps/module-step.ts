/**
 * MODULE steps: call a registered TypeScript function with the step's input, an AbortSignal (the
 * run's cancel or deadline, the step's `timeoutMs`), a stable idempotency key, and writers for the
 * action's outputs and the run's items. A module interrupted by a crash runs again with the same key.
 */
import { ConflictError, FlowError, StepFailedError, TimeoutError, toFlowError } from '../../errors.js';
import type { Item } from '../../run.js';
import { cloneJson } from '../../json.js';
import { nestingTooDeepError } from '../../json-depth.js';
import { checkValueBytes } from '../../json-size.js';
import type { ItemHandle, ModuleContext } from '../types.js';
import { settleUntilAborted } from './until-aborted.js';
import { OutputWriter } from './output-writer.js';
import type { StepArgs, StepOutcome } from './step-outcome.js';

/**
 * Runs the module registered as `moduleId`; MODULE_NOT_FOUND (not retried) when there is none.
 * Never throws or rejects: a module that throws fails the step. A module that returns a plain
 * value completes the step in the same turn (no promise); one that returns a promise costs two.
 */
export function runModule(args: StepArgs, moduleId: string, input: Record<string, unknown>): StepOutcome | Promise<StepOutcome> {
  const { core, executor, run, state, frame, step, stepId } = args;
  const fn = core.modules[moduleId];
  if (!fn) {
    return {
      type: 'fail',
      error: new StepFailedError('MODULE_NOT_FOUND', `no module is registered as "${moduleId}" (step ${stepId})`, { runId: run.runId, stepId, retryable: false }),
    };
  }
  // Called only under a lease with time to spare (lease-keeper.ts), renewed first if need be: a
  // process that was paused past its lease never calls the module of a run another one took over.
  const leased = core.confirmLease(run.runId, executor);
  if (leased !== true) return leased === false ? lostLease(args) : leased.then((held) => (held ? runModule(args, moduleId, input) : lostLease(args)));
  // The step's own signal (the run's, plus the step's timeout) is made only when the step has a
  // timeout or the module reads `ctx.signal`: most do neither, and it costs a controller and two
  // listeners per step. Without a timeout it aborts exactly when the run's does, with its reason.
  let controller: AbortController | null = null;
  let onRunAbort: (() => void) | null = null;
  const stepSignal = (): AbortSignal => {
    if (controller) return controller.signal;
    const own = (controller = new AbortController());
    onRunAbort = () => own.abort(args.runAbort.signal.reason);
    if (args.runAbort.signal.aborted) onRunAbort();
    else args.runAbort.signal.addEventListener('abort', onRunAbort, { once: true });
    return own.signal;
  };
  const timer = step.timeoutMs
    ? core.clock.setTimeout(() => controller!.abort(new TimeoutError(`step ${stepId} timed out after ${step.timeoutMs} ms`, { runId: run.runId, stepId })), step.timeoutMs)
    : null;
  const waitedSignal = timer ? stepSignal() : args.runAbort.signal;
  const writer = new OutputWriter({
    outputs: state.outputs,
    declared: args.flow.definition.actions[run.actionName]?.outputs,
    clock: core.clock,
    maxValueBytes: core.budgets.maxValueBytes,
    stream: (name, value) => executor.outputStreamed(name, value),
  });
  const ctx: ModuleContext = {
    runId: run.runId,
    stepId,
    flowId: run.flowId,
    get signal() {
      return stepSignal();
    },
    idempotencyKey: `${run.runId}:${state.stepSeq}:${stepId}`,
    attempt: frame.attempt,
    settings: core.settings,
    log: (code, description, details) => {
      const entry = { code: String(code), description: String(description), details: details ?? {} };
      checkValueBytes(checkedNesting(args, entry, 'ctx.log', 'log entry'), core.budgets.maxValueBytes, `a log entry of step ${stepId}`);
      executor.log(entry.code, entry.description, entry.details, true);
    },
    emitItem: (item) => emitItem(args, item),
    write: (name, value) => writer.write(String(name), checkedNesting(args, value, `ctx.write("${String(name)}")`, `outputs.${String(name)}`)),
    append: (name, element) => writer.append(String(name), checkedNesting(args, element, `ctx.append("${String(name)}")`, `outputs.${String(name)}[]`)),
  };
  const settled = (outcome: { value: unknown } | { error: unknown }): StepOutcome => {
    try {
      if ('error' in outcome) throw outcome.error;
      const output = outcome.value;
      checkedNesting(args, output, `the result of module "${moduleId}"`, `steps.${stepId}`);
      // Checked before anything is written: a result or an output over the budget fails the step and
      // leaves the state as it was (a module that caught the LIMIT_EXCEEDED of ctx.write fails too).
      const outputBytes = checkValueBytes(output ?? null, core.budgets.maxValueBytes, `the result of module "${moduleId}" (step ${stepId})`);
      writer.checkFailure();
      for (const name of writer.commit()) executor.outputChanged(name);
      return { type: 'complete', output: output === undefined ? null : output, outputBytes };
    } catch (error) {
      const reason = waitedSignal.aborted ? waitedSignal.reason : error;
      // Live watchers saw the failed attempt's writes: show them the committed values again.
      for (const name of writer.discard()) executor.outputStreamed(name, cloneJson(state.outputs[name] ?? null));
      return { type: 'fail', error: toFlowError(reason, 'MODULE_FAILED') };
    } finally {
      timer?.cancel();
      if (onRunAbort) args.runAbort.signal.removeEventListener('abort', onRunAbort);
    }
  };
  // A run canceled or timed out before its module is called does not call it.
  if (waitedSignal.aborted) return settled({ error: waitedSignal.reason });
  let result: unknown;
  try {
    result = executor.callModule(fn, input, ctx);
  } catch (error) {
    return settled({ error });
  }
  return isThenable(result) ? settleUntilAborted(result, waitedSignal, settled) : settled({ value: result });
}

/** The step's outcome when the run's lease is lost here: the executor stops (its signal says why) and records nothing. */
function lostLease(args: StepArgs): StepOutcome {
  return { type: 'fail', error: leaseLostError(args.runAbort.signal, args.run.runId) };
}

/** Why a step that calls out (a module, an ASK step's model) did not: its run's abort reason, or LEASE_LOST. */
export function leaseLostError(signal: AbortSignal, runId: string): FlowError {
  return toFlowError(signal.reason ?? new ConflictError(`no lease on run ${runId} here`, { code: 'LEASE_LOST', runId }));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/** Emits an item from a step (modules, ASK): announced as added, then updated and done through the handle. */
export function emitItem(args: StepArgs, spec: { type: string; content?: unknown; transient?: boolean }): ItemHandle {
  const { core, executor, run, stepId } = args;
  const now = core.clock.now();
  const item: Item = {
    id: core.ids.newId(),
    type: String(spec.type),
    status: 'in_progress',
    content: spec.content ?? null,
    transient: spec.transient === true,
    runId: run.runId,
    stepId,
    createdAt: now,
    updatedAt: now,
  };
  executor.itemChanged('added', { ...item });
  return {
    id: item.id,
    update(content: unknown): void {
      if (item.status === 'done') return;
      item.content = content;
      item.updatedAt = core.clock.now();
      executor.itemChanged('updated', { ...item });
    },
    done(content?: unknown): void {
      if (item.status === 'done') return;
      if (content !== undefined) item.content = content;
      item.status = 'done';
      item.updatedAt = core.clock.now();
      executor.itemChanged('done', { ...item });
    },
  };
}

/** `value` when it nests within `maxNestingDepth`; else throws NESTING_TOO_DEEP, failing the step (a module may catch it from ctx.write). */
function checkedNesting<T>(args: StepArgs, value: T, what: string, path: string): T {
  const error = nestingTooDeepError(value, { what, path, maxDepth: args.core.maxNestingDepth, runId: args.run.runId, stepId: args.stepId });
  if (error) throw error;
  return value;
}
