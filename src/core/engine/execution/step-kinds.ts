/**
 * Which steps the executor (run-executor.ts) may run without a write first or a context of their
 * own: the kinds of step by what they touch outside the run's own state.
 */
import type { StepDefinition } from '../../model.js';

/**
 * Steps that only compute from the run's own state: re-running them after a crash gives the same
 * result and does nothing outside the run, so their transition may ride on the next one.
 */
export const PURE_STEP_TYPES: ReadonlySet<string> = new Set(['COMPUTE', 'DECIDE', 'SET']);

/** Steps that neither start runs nor call user code: traced, their visit enters no context (a MODULE's: for its module's call and commit). */
const LOCAL_STEP_TYPES: ReadonlySet<string> = new Set(['COMPUTE', 'DECIDE', 'SET', 'SUCCEED', 'FAIL', 'GOTO']);

/**
 * Whether `step` stays within the run: a local step, or a call of one of the flow's own subflows
 * (it pushes a frame). Such steps may run before the run is stored (run-creation.ts); any other
 * is only ever run once the run is.
 */
export function staysWithinRun(step: StepDefinition): boolean {
  return LOCAL_STEP_TYPES.has(step.stepType) || (step.stepType === 'RUN_FLOW' && step.subflow !== undefined);
}
