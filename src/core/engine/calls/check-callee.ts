/**
 * The call-time half of checking a RUN_FLOW call of another flow (see `check-call.ts`): before the
 * child run starts, the step's return mappings are checked against the callee version that
 * actually runs. A mismatch fails the step with INVALID_DEFINITION (not retried: the same
 * versions fail the same way), with the path of the offending mapping; nothing starts.
 */
import { checkCall } from '../../validation/check-call.js';
import { ValidationError, type ValidationIssue } from '../../errors.js';
import type { Obj } from '../../validation/field-checker.js';
import type { FlowDefinition, FlowVersionRecord, RunFlowStep } from '../../model.js';

/** Results per step and callee definition: both are immutable for the life of the engine. */
const checked = new WeakMap<RunFlowStep, WeakMap<FlowDefinition, ValidationIssue[]>>();

/** What is being called, from where. */
export interface CalleeCheck {
  caller: FlowVersionRecord;
  /** The calling run's action (whose outputs a target may name) and the frame's graph (`action:main`, `subflow:x`). */
  callerAction: string;
  graph: string;
  step: RunFlowStep;
  stepId: string;
  callee: FlowVersionRecord;
  calleeAction: string;
}

/** Throws ValidationError('INVALID_DEFINITION') when the step's return mappings do not fit the callee. */
export function assertCalleeFits(check: CalleeCheck): void {
  const { step, callee } = check;
  if (!step.returnMappings?.length) return;
  let byCallee = checked.get(step);
  if (!byCallee) checked.set(step, (byCallee = new WeakMap()));
  let issues = byCallee.get(callee.definition);
  if (!issues) {
    const action = callee.definition.actions[check.calleeAction];
    const callerDef = check.caller.definition;
    const i = check.graph.indexOf(':');
    const path = `${check.graph.slice(0, i) === 'action' ? 'actions' : 'subflows'}.${check.graph.slice(i + 1)}.steps.${check.stepId}`;
    issues = action
      ? checkCall({
          step: step as unknown as Obj,
          path,
          callee: { flowId: callee.flowId, actionName: check.calleeAction, action: action as unknown as Obj, classes: callee.definition.classes },
          caller: { vars: callerDef.vars, outputs: callerDef.actions[check.callerAction]?.outputs, classes: callerDef.classes },
          checkParams: false,
        })
      : [];
    byCallee.set(callee.definition, issues);
  }
  if (issues.length > 0) throw new ValidationError('INVALID_DEFINITION', issues, { details: { flowId: callee.flowId, flowVersion: callee.version, action: check.calleeAction } });
}
