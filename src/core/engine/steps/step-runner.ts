/**
 * What each step type does. A step returns an outcome — completed with an output, push or
 * replace a frame, wait for a child run, end its frame, or fail — and the executor records it.
 * Steps never write to the store themselves; a failing step is data, not an exception.
 *
 * The `engine/steps/` room: what each step type does. step-runner.ts dispatches on `stepType`;
 * step-outcome.ts is the contract with the executor; module-step.ts (MODULE, items, output writers),
 * ask-step.ts and model-resolver.ts (ASK), wait-step.ts (WAIT and EMIT) hold the rest. It may import
 * core, the engine's contracts, calls/, governance/ and live/ (the snapshot throttle of streamed
 * outputs); a step never writes to the store.
 */
import { FlowError, StepFailedError, ValidationError, toFlowError } from '../../errors.js';
import type { Frame, RunRecord, RunState } from '../../run.js';
import { evaluateExpression } from '../../expression/index.js';
import { buildStepInput, contextScope, parseContextTarget, writeContextTarget, type StepContext } from '../../mapping.js';
import type { EngineCore } from '../engine-core.js';
import type { ItemHandle } from '../types.js';
import { executeAskStep } from './ask-step.js';
import { governStep, isGoverned } from '../governance/governance.js';
import { executeEmitStep, executeWaitStep } from './wait-step.js';
import { emitItem, runModule } from './module-step.js';
import { callFlow, gotoSubflow, runSubflow, startFlowExecution } from '../calls/call-step.js';
import { stepLedgerEntry, type StepArgs, type StepOutcome } from './step-outcome.js';

/**
 * Runs one step; never throws or rejects (a thrown error becomes a `fail` outcome). The outcome
 * comes as it is when the step did not wait (a COMPUTE, a module that returned a plain value), so
 * the executor awaits nothing; else as a promise. None of these is an async function: each promise
 * costs more once an SDK's context manager has turned on Node's promise hooks.
 */
export function executeStep(args: StepArgs): StepOutcome | Promise<StepOutcome> {
  if (args.core.observers.isEmpty) return attemptStep(args);
  return observedStep(args);
}

async function observedStep(args: StepArgs): Promise<StepOutcome> {
  const { core, run, step, stepId } = args;
  const startedAt = core.clock.now();
  const outcome = await attemptStep(args);
  core.observers.stepEnded({ runId: run.runId, flowId: run.flowId, stepId, stepType: step.stepType, outcome: outcome.type, durationMs: core.clock.now() - startedAt });
  return outcome;
}

function attemptStep(args: StepArgs): StepOutcome | Promise<StepOutcome> {
  try {
    const outcome = runStep(args);
    // An ungoverned MODULE step's promise never rejects (module-step.ts): no catch to chain.
    const neverRejects = args.step.stepType === 'MODULE' && !args.core.governance;
    return outcome instanceof Promise && !neverRejects ? outcome.catch(failedAttempt) : outcome;
  } catch (error) {
    return failedAttempt(error);
  }
}

/** What a step that threw (or rejected) `error` did: a `fail` outcome. */
function failedAttempt(error: unknown): StepOutcome {
  const flowError = toFlowError(error, 'STEP_FAILED');
  // Bad data or a bad definition fails the same way on every attempt: don't retry it.
  const retryable = !(error instanceof ValidationError) && !['INVALID_EXPRESSION', 'EXPRESSION_LIMIT', 'PERMISSION_DENIED', 'LIMIT_EXCEEDED'].includes(flowError.code);
  return { type: 'fail', error: retryable ? flowError : asNonRetryable(flowError) };
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
    schedule: state.schedule,
    run: { id: run.runId, flowId: run.flowId, flowVersion: run.flowVersion, actionName: run.actionName, startTime: run.startTime, label: run.label },
    settings: core.settings,
    // Every expression's result is held to the value budget: it may be written as it is.
    limits: { maxResultBytes: core.budgets.maxValueBytes },
  };
}

/** What the step does: its outcome, or a promise of it for the step types that wait. May throw. */
function runStep(args: StepArgs): StepOutcome | Promise<StepOutcome> {
  const { core, executor, run, state, frame, step, stepId } = args;
  const context = stepContext(core, run, state, frame);
  const scope = contextScope(context);
  executor.stepStarted(stepId, step.stepType, frame.attempt);
  if (core.governance && isGoverned(step)) return governStep(args, buildStepInput(step, scope)).then((gate) => gate ?? dispatchStep(args, context, scope));
  return dispatchStep(args, context, scope);
}

function dispatchStep(args: StepArgs, context: StepContext, scope: ReturnType<typeof contextScope>): StepOutcome | Promise<StepOutcome> {
  const { core, executor, run, frame, step, stepId } = args;
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
        ledger: [stepLedgerEntry(args, 'decide', { branch: index >= 0 ? index : 'default', condition: index >= 0 ? step.transitions[index]!.condition : null, next })],
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
    case 'GOTO':
      return gotoSubflow(args, step.subflow);
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
      return executeAskStep({ step, stepId, runId: run.runId, scope, input, resolver: core.modelResolver, signal: args.runAbort.signal, confirmLease: () => core.confirmLease(run.runId, args.executor), emitItem: emit, setTimeout: (fn, ms) => core.clock.setTimeout(fn, ms) }).then((output) => ({ type: 'complete', output }));
    }
  }
}

function asNonRetryable(error: FlowError): FlowError {
  return new StepFailedError(error.code, error.message, { cause: error, retryable: false, ...(error.details ? { details: error.details } : {}) });
}
