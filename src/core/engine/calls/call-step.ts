/**
 * Steps that start another run of steps: `run` of a subflow (a frame pushed in the same run),
 * `goto` (the frame replaced), RUN_FLOW into another flow (a child run the caller waits for, or
 * launches with `async`) and START_FLOW_EXECUTION (seed 004's launch). Each checks the call depth,
 * the callee's fit (params and return mappings) and the caller's right to start it before any run
 * is built; nothing starts when a check fails.
 *
 * The `engine/calls/` room: steps that call — subflows, other flows' actions, launches — and what
 * a finished call gives back: the callee's fit (check-callee.ts), the child's end turned into the
 * caller's outcome (child-outcome.ts) and return mappings (return-mapping.ts). It may import core,
 * the engine's contracts, start/ (resolving the callee) and steps/step-outcome.ts.
 */
import { StepFailedError, ValidationError } from '../../errors.js';
import type { FlowVersionRecord, RunFlowStep, StartFlowExecutionStep } from '../../model.js';
import type { Frame, NewRun } from '../../run.js';
import type { BuildRunInput } from '../engine-core.js';
import { parseVersion } from '../start/flow-cache.js';
import { assertCalleeFits } from './check-callee.js';
import { stepLedgerEntry, type StepArgs, type StepOutcome } from '../steps/step-outcome.js';

/** GOTO: the current frame is replaced by the subflow's first frame (no depth added). */
export function gotoSubflow(args: StepArgs, name: string): StepOutcome {
  const subflow = args.core.subflowOf(args.flow, name);
  return { type: 'goto', frame: newFrame(`subflow:${name}`, subflow.startAt, args.frame.depth, args.frame.item), ledger: stepLedgerEntry(args, 'goto', { subflow: name }) };
}

/** RUN_FLOW of a subflow: a frame pushed in the same run, one level deeper. */
export function runSubflow(args: StepArgs, name: string): StepOutcome {
  const { core, frame } = args;
  const subflow = core.subflowOf(args.flow, name);
  const depth = frame.depth + 1;
  if (depth > core.maxDepth) return depthExceeded(args, depth);
  return { type: 'push', frame: newFrame(`subflow:${name}`, subflow.startAt, depth, frame.item), ledger: stepLedgerEntry(args, 'run', { subflow: name, depth }) };
}

/** RUN_FLOW into another flow's action: a child run, waited for or (`async`) launched. */
export async function callFlow(args: StepArgs, step: RunFlowStep, input: Record<string, unknown>): Promise<StepOutcome> {
  const actionName = step.action ?? 'main';
  const detached = step.async === true;
  const started = await startChild(args, {
    flowId: step.flowDefinitionId!,
    version: step.flowVersion,
    checkCallee: (callee) => assertCalleeFits({ caller: args.flow, callerAction: args.run.actionName, graph: args.frame.graph, step, stepId: args.stepId, callee, calleeAction: actionName }),
    child: { actionName, input, detached, timeoutMs: step.timeoutMs ?? null, runAs: step.runAs ?? args.run.runAs, failsOnUnfitInput: detached },
    runAs: step.runAs,
  });
  if ('type' in started) return started;
  const { target, child } = started;
  const to = { flowId: target.flowId, flowVersion: target.version, action: actionName, runId: child.runId, async: detached };
  if (detached) {
    return { type: 'complete', output: { startedFlowExecutionId: child.runId, runId: child.runId }, createRuns: [child], ledger: [stepLedgerEntry(args, 'launch', to)] };
  }
  return { type: 'wait-child', child, ledger: stepLedgerEntry(args, 'call', to) };
}

/** START_FLOW_EXECUTION: a launched run of the flow named by the step's input. */
export async function startFlowExecution(args: StepArgs, step: StartFlowExecutionStep, input: Record<string, unknown>): Promise<StepOutcome> {
  const flowId = input.flowDefinitionId;
  if (typeof flowId !== 'string' || flowId === '') {
    throw new ValidationError('INVALID_INPUT', [{ path: 'flowDefinitionId', message: `must be a flow id, got ${JSON.stringify(flowId)}` }]);
  }
  const version = parseVersion(input.flowVersion);
  const context = input.initialContextData ?? {};
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new ValidationError('INVALID_INPUT', [{ path: 'initialContextData', message: `must be an object, got ${JSON.stringify(context)}` }]);
  }
  const actionName = typeof input.actionName === 'string' ? input.actionName : 'main';
  const started = await startChild(args, {
    flowId,
    version,
    child: {
      actionName,
      input: context,
      detached: true,
      timeoutMs: typeof input.timeoutMs === 'number' ? input.timeoutMs : null,
      runAs: step.runAs ?? args.run.runAs,
      stepLogs: input.enableExecutionLogs !== false,
      // Detached: input that does not fit fails the launched run, not this one.
      failsOnUnfitInput: true,
    },
    runAs: step.runAs,
  });
  if ('type' in started) return started;
  const { target, child } = started;
  const startMessageId = args.core.ids.newId();
  return {
    type: 'complete',
    output: { sqsMessageId: startMessageId, startedFlowExecutionId: child.runId, _meta: { status: 'SUCCESS' } },
    createRuns: [child],
    ledger: [stepLedgerEntry(args, 'launch', { flowId: target.flowId, flowVersion: target.version, action: actionName, runId: child.runId, startMessageId })],
  };
}

/**
 * The one way a step starts another flow's run, in this order: the depth limit, the callee
 * resolved, its fit checked, the caller's right to start it (and act as `runAs`) asked, a
 * launch's turn waited for (launch-pacer.ts) — then the run built. A failed check throws (or
 * returns the depth failure) before anything exists.
 */
async function startChild(
  args: StepArgs,
  call: {
    flowId: string;
    version: number | string | undefined;
    checkCallee?: (callee: FlowVersionRecord) => void;
    child: Pick<BuildRunInput, 'actionName' | 'input' | 'detached' | 'timeoutMs' | 'runAs' | 'stepLogs' | 'failsOnUnfitInput'>;
    runAs: string | undefined;
  },
): Promise<StepOutcome | { target: FlowVersionRecord; child: NewRun }> {
  const { core, frame, run } = args;
  const depth = frame.depth + 1;
  if (depth > core.maxDepth) return depthExceeded(args, depth);
  const target = await core.loadFlow(call.flowId, call.version);
  call.checkCallee?.(target);
  await core.access.assertCanCall(run, target, call.runAs); // PERMISSION_DENIED fails the step; nothing starts
  // A launch waits for its tree's turn (maxLaunchesPerSecond) before its run is built, so its start time is when it starts.
  const turn = call.child.detached ? core.launches.pace(run.treeId, args.runAbort.signal) : null;
  if (turn) await turn;
  const child = core.buildRun({ ...call.child, flow: target, parent: run, depth, source: 'flow' });
  return { target, child };
}

function newFrame(graph: string, startAt: string, depth: number, item: unknown): Frame {
  return { graph, at: startAt, steps: {}, last: null, depth, attempt: 1, ...(item === undefined ? {} : { item }) };
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
