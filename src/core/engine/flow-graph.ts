/**
 * Finding what a run executes in its flow version: the action it runs, and the step a frame is at.
 * A frame names its graph as `action:<name>` or `subflow:<name>`.
 */
import { FlowError } from '../errors.js';
import type { ActionDefinition, FlowVersionRecord, StepDefinition, StepGraph } from '../model.js';
import type { Frame } from '../run.js';

/** The action a run executes; throws ACTION_NOT_FOUND. */
export function actionOf(flow: FlowVersionRecord, actionName: string): ActionDefinition {
  const action = flow.definition.actions[actionName];
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

/** The step a frame is at; throws INVALID_DEFINITION when the frame points nowhere. */
export function stepAt(flow: FlowVersionRecord, frame: Frame): StepDefinition {
  const step = frame.at === null ? undefined : graphOf(flow, frame).steps[frame.at];
  if (!step) throw new FlowError('INVALID_DEFINITION', `frame ${frame.graph} points at unknown step "${frame.at}"`);
  return step;
}
