/**
 * Finding what a run executes in its flow version: the action it runs, and the step a frame is at.
 * A frame names its graph as `action:<name>` or `subflow:<name>`.
 */
import { FlowError } from '../../errors.js';
import type { ActionDefinition, FlowVersionRecord, StepDefinition, StepGraph } from '../../model.js';
import type { Frame } from '../../run.js';

/**
 * A run whose `actionName` starts with this prefix executes a subflow as its entry point (an event
 * subscription that names a subflow): `subflow:validate` runs subflow `validate` like an action
 * without params or declared outputs, its result the last step's output. Validation refuses
 * action names with this prefix, so the two never clash.
 */
export const SUBFLOW_ENTRY_PREFIX = 'subflow:';

/** The action (or subflow entry, see {@link SUBFLOW_ENTRY_PREFIX}) named `actionName`; undefined when there is none. */
export function findEntry(flow: FlowVersionRecord, actionName: string): ActionDefinition | undefined {
  if (!actionName.startsWith(SUBFLOW_ENTRY_PREFIX)) return Object.hasOwn(flow.definition.actions, actionName) ? flow.definition.actions[actionName] : undefined;
  const name = actionName.slice(SUBFLOW_ENTRY_PREFIX.length);
  const subflow = flow.definition.subflows && Object.hasOwn(flow.definition.subflows, name) ? flow.definition.subflows[name] : undefined;
  return subflow ? { startAt: subflow.startAt, steps: subflow.steps } : undefined;
}

/** The graph name of a run's first frame: `action:<name>`, or the subflow itself for a subflow entry. */
export function entryGraph(actionName: string): string {
  return actionName.startsWith(SUBFLOW_ENTRY_PREFIX) ? actionName : `action:${actionName}`;
}

/** The action a run executes; throws ACTION_NOT_FOUND. */
export function actionOf(flow: FlowVersionRecord, actionName: string): ActionDefinition {
  const action = findEntry(flow, actionName);
  if (!action) throw new FlowError('ACTION_NOT_FOUND', `flow ${flow.flowId} v${flow.version} has no action "${actionName}"`);
  return action;
}

/** The step graph a frame runs; throws ACTION_NOT_FOUND / SUBFLOW_NOT_FOUND. */
export function graphOf(flow: FlowVersionRecord, frame: Frame): StepGraph {
  const i = frame.graph.indexOf(':');
  const kind = frame.graph.slice(0, i) === 'action' ? 'action' : 'subflow';
  const name = frame.graph.slice(i + 1);
  const graph = kind === 'action' ? flow.definition.actions[name] : flow.definition.subflows?.[name];
  if (!graph) throw new FlowError(kind === 'action' ? 'ACTION_NOT_FOUND' : 'SUBFLOW_NOT_FOUND', `flow ${flow.flowId} has no ${kind} "${name}"`);
  return graph;
}

/**
 * The graph of a launched run whose input did not fit its params (build-run.ts): its one step
 * fails the run with INVALID_INPUT, the reason kept in the frame's `item`. Not `action:` nor
 * `subflow:`, so no definition can name it.
 */
export const REJECTED_INPUT_GRAPH = 'rejected-input:';

/** The step a frame is at; throws INVALID_DEFINITION when the frame points nowhere. */
export function stepAt(flow: FlowVersionRecord, frame: Frame): StepDefinition {
  if (frame.graph === REJECTED_INPUT_GRAPH) {
    const item = frame.item as { description?: unknown } | undefined;
    return { stepType: 'FAIL', code: 'INVALID_INPUT', description: typeof item?.description === 'string' ? item.description : 'the input does not fit the params' };
  }
  const step = frame.at === null ? undefined : graphOf(flow, frame).steps[frame.at];
  if (!step) throw new FlowError('INVALID_DEFINITION', `frame ${frame.graph} points at unknown step "${frame.at}"`);
  return step;
}
