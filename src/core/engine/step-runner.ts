/**
 * What each step type does. A step returns an outcome — completed with an output, push or
 * replace a frame, wait for a child run, end its frame, or fail — and the executor records it.
 * Steps never write to the store themselves; a failing step is data, not an exception.
 */
import { FlowError, StepFailedError, TimeoutError, ValidationError, toFlowError } from '../errors.js';
import type { FlowVersionRecord, RunFlowStep, StartFlowExecutionStep, StepDefinition } from '../model.js';
import type { Frame, Item, LedgerEntry, NewRun, RunRecord, RunState, Suspension } from '../run.js';
import { evaluateExpression } from '../expression/index.js';
import { buildStepInput, contextScope, parseContextTarget, writeContextTarget, type StepContext } from '../mapping.js';
import type { EngineCore } from './engine-core.js';
import type { RunExecutor } from './run-executor.js';
import type { ItemHandle, ModuleContext } from './types.js';
import { OutputWriter } from './output-writer.js';
import { assertCalleeFits } from './check-callee.js';
import { executeAskStep } from './ask-step.js';
import { governStep, isGoverned } from './governance.js';
import { executeEmitStep, executeWaitStep } from './wait-step.js';
import { cloneJson } from '../json.js';
import { nestingTooDeepError } from '../json-depth.js';
import { untilAborted } from './until-aborted.js';

/** What a step asks the executor to record. */
export type StepOutcome =
  | { type: 'complete'; output: unknown; next?: string | null; ledger?: LedgerEntry[]; createRuns?: NewRun[] }
  | { type: 'push'; frame: Frame; ledger: LedgerEntry }
  | { type: 'goto'; frame: Frame; ledger: LedgerEntry }
  | { type: 'wait-child'; child: NewRun; ledger: LedgerEntry }
  | { type: 'end-frame'; output: unknown }
  | { type: 'fail'; error: FlowError; catchable?: boolean }
  /** The run goes INACTIVE at this step until resumed (an approval; WAIT: `readyAt` for a timer). */
  | { type: 'suspend'; suspension: Suspension; readyAt: number | null; ledger?: LedgerEntry; log: { code: string; description: string; details: Record<string, unknown> } };

/** Everything a step may read. */
export interface StepArgs {
  core: EngineCore;
  executor: RunExecutor;
  flow: FlowVersionRecord;
  run: RunRecord;
  state: RunState;
  frame: Frame;
  step: StepDefinition;
  stepId: string;
  signal: AbortSignal;
}

/** Runs one step; never throws (a thrown error becomes a `fail` outcome). */
export async function executeStep(args: StepArgs): Promise<StepOutcome> {
  try {
    return await runStep(args);
  } catch (error) {
    const flowError = toFlowError(error, 'STEP_FAILED');
    // Bad data or a bad definition fails the same way on every attempt: don't retry it.
    const retryable = !(error instanceof ValidationError) && !['INVALID_EXPRESSION', 'EXPRESSION_LIMIT', 'PERMISSION_DENIED'].includes(flowError.code);
    return { type: 'fail', error: retryable ? flowError : asNonRetryable(flowError) };
  }
}

/** The context a step of this frame sees. */
export function stepContext(core: EngineCore, run: RunRecord, state: RunState, frame: Frame): StepContext {
  return {
    input: run.input,
    vars: state.vars,
    outputs: state.outputs,
    steps: frame.steps,
    item: frame.item,
    event: state.event,
    run: { id: run.runId, flowId: run.flowId, flowVersion: run.flowVersion, actionName: run.actionName, startTime: run.startTime, label: run.label },
    settings: core.settings,
  };
}

async function runStep(args: StepArgs): Promise<StepOutcome> {
  const { core, executor, run, state, frame, step, stepId } = args;
  const context = stepContext(core, run, state, frame);
  const scope = contextScope(context);
  executor.stepStarted(stepId, step.stepType, frame.attempt);
  if (core.governance && isGoverned(step)) {
    const gate = await governStep(args, buildStepInput(step, scope));
    if (gate) return gate;
  }
  switch (step.stepType) {
    case 'COMPUTE':
      return { type: 'complete', output: evaluateExpression(step.expression, scope) };
    case 'SET': {
      const value = evaluateExpression(step.expression, scope);
      writeContextTarget(context, step.target, value);
      const target = parseContextTarget(step.target);
      if (typeof target !== 'string' && target.root === 'outputs' && target.path[0]) executor.outputChanged(target.path[0]);
      return { type: 'complete', output: value };
    }
    case 'DECIDE': {
      const index = step.transitions.findIndex((t) => Boolean(evaluateExpression(t.condition, scope)));
      const next = index >= 0 ? step.transitions[index]!.nextStepInstanceId : (step.defaultNextStepInstanceId ?? null);
      return {
        type: 'complete',
        output: { branch: index >= 0 ? index : 'default', next },
        next,
        ledger: [ledger(args, 'decide', { branch: index >= 0 ? index : 'default', condition: index >= 0 ? step.transitions[index]!.condition : null, next })],
      };
    }
    case 'SUCCEED':
      return { type: 'end-frame', output: step.expression === undefined ? frame.last : evaluateExpression(step.expression, scope) };
    case 'FAIL':
      return {
        type: 'fail',
        catchable: false,
        error: new StepFailedError(step.code ?? 'FLOW_FAILED', step.description ?? `the flow failed at step ${stepId}`, { runId: run.runId, stepId, retryable: false }),
      };
    case 'GOTO': {
      const subflow = core.subflowOf(args.flow, step.subflow);
      return {
        type: 'goto',
        frame: newFrame(`subflow:${step.subflow}`, subflow.startAt, frame.depth, frame.item),
        ledger: ledger(args, 'goto', { subflow: step.subflow }),
      };
    }
    case 'RUN_FLOW':
      return step.subflow !== undefined ? runSubflow(args, step.subflow) : callFlow(args, step, buildStepInput(step, scope));
    case 'START_FLOW_EXECUTION':
      return startFlowExecution(args, step, buildStepInput(step, scope));
    case 'MODULE':
      return runModule(args, step.moduleIdentifier, buildStepInput(step, scope));
    case 'WAIT':
      return executeWaitStep(args, step, scope);
    case 'EMIT':
      return executeEmitStep(args, step, scope);
    case 'ASK': {
      const input = buildStepInput(step, scope);
      const emit = (item: { type: string; content?: unknown; transient?: boolean }): ItemHandle => emitItem(args, item);
      const output = await executeAskStep({ step, stepId, runId: run.runId, scope, input, resolver: core.modelResolver, signal: args.signal, emitItem: emit, setTimeout: (fn, ms) => core.clock.setTimeout(fn, ms) });
      return { type: 'complete', output };
    }
  }
}

function runSubflow(args: StepArgs, name: string): StepOutcome {
  const { core, frame } = args;
  const subflow = core.subflowOf(args.flow, name);
  const depth = frame.depth + 1;
  if (depth > core.maxDepth) return depthExceeded(args, depth);
  return { type: 'push', frame: newFrame(`subflow:${name}`, subflow.startAt, depth, frame.item), ledger: ledger(args, 'run', { subflow: name, depth }) };
}

async function callFlow(args: StepArgs, step: RunFlowStep, input: Record<string, unknown>): Promise<StepOutcome> {
  const { core, frame, run } = args;
  const depth = frame.depth + 1;
  if (depth > core.maxDepth) return depthExceeded(args, depth);
  const target = await core.loadFlow(step.flowDefinitionId!, step.flowVersion);
  assertCalleeFits({ caller: args.flow, callerAction: run.actionName, graph: frame.graph, step, stepId: args.stepId, callee: target, calleeAction: step.action ?? 'main' });
  await core.access.assertCanCall(run, target, step.runAs); // PERMISSION_DENIED fails the step; nothing starts
  const child = core.buildRun({
    flow: target,
    actionName: step.action ?? 'main',
    input,
    parent: run,
    detached: step.async === true,
    depth,
    timeoutMs: step.timeoutMs ?? null,
    runAs: step.runAs ?? run.runAs,
    source: 'flow',
  });
  const to = { flowId: target.flowId, flowVersion: target.version, action: step.action ?? 'main', runId: child.runId, async: step.async === true };
  if (step.async) {
    return { type: 'complete', output: { startedFlowExecutionId: child.runId, runId: child.runId }, createRuns: [child], ledger: [ledger(args, 'launch', to)] };
  }
  return { type: 'wait-child', child, ledger: ledger(args, 'call', to) };
}

async function startFlowExecution(args: StepArgs, step: StartFlowExecutionStep, input: Record<string, unknown>): Promise<StepOutcome> {
  const { core, frame, run } = args;
  const flowId = input.flowDefinitionId;
  if (typeof flowId !== 'string' || flowId === '') {
    throw new ValidationError('INVALID_INPUT', [{ path: 'flowDefinitionId', message: `must be a flow id, got ${JSON.stringify(flowId)}` }]);
  }
  const version = parseVersion(input.flowVersion);
  const context = input.initialContextData ?? {};
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new ValidationError('INVALID_INPUT', [{ path: 'initialContextData', message: `must be an object, got ${JSON.stringify(context)}` }]);
  }
  const depth = frame.depth + 1;
  if (depth > core.maxDepth) return depthExceeded(args, depth);
  const target = await core.loadFlow(flowId, version);
  await core.access.assertCanCall(run, target, step.runAs);
  const actionName = typeof input.actionName === 'string' ? input.actionName : 'main';
  const child = core.buildRun({
    flow: target,
    actionName,
    input: context,
    parent: run,
    detached: true,
    depth,
    timeoutMs: typeof input.timeoutMs === 'number' ? input.timeoutMs : null,
    runAs: step.runAs ?? run.runAs,
    source: 'flow',
    stepLogs: input.enableExecutionLogs !== false,
  });
  const startMessageId = core.ids.newId();
  return {
    type: 'complete',
    output: { sqsMessageId: startMessageId, startedFlowExecutionId: child.runId, _meta: { status: 'SUCCESS' } },
    createRuns: [child],
    ledger: [ledger(args, 'launch', { flowId: target.flowId, flowVersion: target.version, action: actionName, runId: child.runId, startMessageId })],
  };
}

async function runModule(args: StepArgs, moduleId: string, input: Record<string, unknown>): Promise<StepOutcome> {
  const { core, executor, run, state, frame, step, stepId } = args;
  const fn = core.modules[moduleId];
  if (!fn) {
    return {
      type: 'fail',
      error: new StepFailedError('MODULE_NOT_FOUND', `no module is registered as "${moduleId}" (step ${stepId})`, { runId: run.runId, stepId, retryable: false }),
    };
  }
  const controller = new AbortController();
  const onRunAbort = (): void => controller.abort(args.signal.reason);
  if (args.signal.aborted) onRunAbort();
  else args.signal.addEventListener('abort', onRunAbort, { once: true });
  const timer = step.timeoutMs
    ? core.clock.setTimeout(() => controller.abort(new TimeoutError(`step ${stepId} timed out after ${step.timeoutMs} ms`, { runId: run.runId, stepId })), step.timeoutMs)
    : null;
  const writer = new OutputWriter({
    outputs: state.outputs,
    declared: args.flow.definition.actions[run.actionName]?.outputs,
    clock: core.clock,
    stream: (name, value) => executor.outputStreamed(name, value),
  });
  const ctx: ModuleContext = {
    runId: run.runId,
    stepId,
    flowId: run.flowId,
    signal: controller.signal,
    idempotencyKey: `${run.runId}:${state.stepSeq}:${stepId}`,
    attempt: frame.attempt,
    settings: core.settings,
    log: (code, description, details) => executor.log(String(code), String(description), details ?? {}),
    emitItem: (item) => emitItem(args, item),
    write: (name, value) => writer.write(String(name), checkedNesting(args, value, `ctx.write("${String(name)}")`, `outputs.${String(name)}`)),
    append: (name, element) => writer.append(String(name), checkedNesting(args, element, `ctx.append("${String(name)}")`, `outputs.${String(name)}[]`)),
  };
  try {
    const output = await untilAborted(Promise.resolve().then(() => fn(input, ctx)), controller.signal);
    checkedNesting(args, output, `the result of module "${moduleId}"`, `steps.${stepId}`);
    for (const name of writer.commit()) executor.outputChanged(name);
    return { type: 'complete', output: output === undefined ? null : output };
  } catch (error) {
    const reason = controller.signal.aborted ? controller.signal.reason : error;
    // Live watchers saw the failed attempt's writes: show them the committed values again.
    for (const name of writer.discard()) executor.outputStreamed(name, cloneJson(state.outputs[name] ?? null));
    return { type: 'fail', error: toFlowError(reason, 'MODULE_FAILED') };
  } finally {
    timer?.cancel();
    args.signal.removeEventListener('abort', onRunAbort);
  }
}

function emitItem(args: StepArgs, spec: { type: string; content?: unknown; transient?: boolean }): ItemHandle {
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


function newFrame(graph: string, startAt: string, depth: number, item: unknown): Frame {
  return { graph, at: startAt, steps: {}, last: null, depth, attempt: 1, ...(item === undefined ? {} : { item }) };
}

function ledger(args: StepArgs, kind: LedgerEntry['kind'], to: Record<string, unknown>): LedgerEntry {
  return {
    time: args.core.clock.now(),
    kind,
    from: { flowId: args.run.flowId, graph: args.frame.graph, stepId: args.stepId, ...(args.step.source ? { source: args.step.source } : {}) },
    to,
  };
}

function depthExceeded(args: StepArgs, depth: number): StepOutcome {
  return {
    type: 'fail',
    error: new StepFailedError('FLOW_DEPTH_EXCEEDED', `step ${args.stepId} would reach call depth ${depth}, over the limit of ${args.core.maxDepth}`, {
      runId: args.run.runId,
      stepId: args.stepId,
      retryable: false,
      details: { depth, maxDepth: args.core.maxDepth },
    }),
  };
}

function asNonRetryable(error: FlowError): FlowError {
  return new StepFailedError(error.code, error.message, { cause: error, retryable: false, ...(error.details ? { details: error.details } : {}) });
}

/** Parses a `flowVersion` value: a number, a numeric string, `LATEST_PUBLISHED` or `LATEST`. */
export function parseVersion(value: unknown): number | 'LATEST_PUBLISHED' | 'LATEST' | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'LATEST_PUBLISHED' || value === 'LATEST') return value;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (Number.isInteger(n) && n >= 1) return n;
  throw new ValidationError('INVALID_INPUT', [{ path: 'flowVersion', message: `must be a version number, LATEST_PUBLISHED or LATEST, got ${JSON.stringify(value)}` }]);
}

/** `value` when it nests within `maxNestingDepth`; else throws NESTING_TOO_DEEP, failing the step (a module may catch it from ctx.write). */
function checkedNesting<T>(args: StepArgs, value: T, what: string, path: string): T {
  const error = nestingTooDeepError(value, { what, path, maxDepth: args.core.maxNestingDepth, runId: args.run.runId, stepId: args.stepId });
  if (error) throw error;
  return value;
}
