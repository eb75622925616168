/**
 * The outcome of a call step whose child run ended: its output (with the return mappings
 * applied to the caller's context) when it succeeded, else a failure naming the child.
 */
import { CanceledError, FlowError, StepFailedError, fromRunError } from '../../errors.js';
import { jsonSize } from '../../json-size.js';
import { limitExceeded } from '../../budgets.js';
import type { FlowVersionRecord, StepDefinition } from '../../model.js';
import type { RunRecord, RunState } from '../../run.js';
import { applyReturnMappings } from './return-mapping.js';
import { actionOf } from '../start/flow-graph.js';
import type { StepOutcome } from '../steps/step-outcome.js';

/** What {@link childOutcome} needs of the calling run. */
export interface CallerOfChild {
  runId: string;
  flow: FlowVersionRecord;
  actionName: string;
  state: RunState;
  /** The `maxValueBytes` budget: a child's output larger than this fails the call step and writes nothing. */
  maxValueBytes: number;
  /** An action output of the caller was written by a return mapping. */
  outputChanged(name: string): void;
}

/**
 * The call step's outcome for an ended child run. Applies return mappings to `caller.state` on
 * success; a child output over `maxValueBytes` fails the step with LIMIT_EXCEEDED (not retried:
 * the child ended) and maps nothing.
 */
export function childOutcome(caller: CallerOfChild, step: StepDefinition, child: RunRecord): StepOutcome {
  if (child.status === 'SUCCEEDED') {
    const size = jsonSize(child.output, caller.maxValueBytes);
    if (size > caller.maxValueBytes) {
      const error = limitExceeded('maxValueBytes', caller.maxValueBytes, size, `the output of child run ${child.runId} is larger than ${caller.maxValueBytes} bytes of JSON`, { runId: caller.runId });
      return { type: 'fail', error: new StepFailedError(error.code, error.message, { runId: caller.runId, retryable: false, ...(error.details ? { details: error.details } : {}) }) };
    }
    if (step.stepType === 'RUN_FLOW' && step.returnMappings?.length) {
      const context = { vars: caller.state.vars, outputs: caller.state.outputs };
      const { vars, classes } = caller.flow.definition;
      const written = applyReturnMappings(step.returnMappings, child.output, context, { vars, outputs: actionOf(caller.flow, caller.actionName).outputs, classes });
      for (const name of written.outputs) caller.outputChanged(name);
    }
    return { type: 'complete', output: child.output, outputBytes: size };
  }
  const error = child.runError
    ? fromRunError(child.runError, child.runId)
    : new CanceledError(`child run ${child.runId} was canceled`, { runId: child.runId });
  return {
    type: 'fail',
    error: new FlowError(error.code, `child run ${child.runId} (${child.flowId}) ${child.status === 'CANCELED' ? 'was canceled' : 'failed'}: ${error.message}`, {
      runId: caller.runId,
      details: { childRunId: child.runId, ...(error.details ?? {}) },
    }),
  };
}
