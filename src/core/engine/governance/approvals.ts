/**
 * Approving or rejecting a governed step of an INACTIVE run (see governance.ts). Any engine over
 * the store may decide, not only the one that executed the run: it claims the suspended run (one
 * claimer wins), records the decision as a transition — a `governance` ledger entry, a log entry,
 * the run ACTIVE again — and gives the lease back, so whichever engine claims the run next
 * executes the step (approved) or fails it with GOVERNANCE_REJECTED (rejected). A decider that
 * dies after its claim leaves the run INACTIVE and awaiting approval once its lease runs out.
 */
import { ConflictError, ValidationError } from '../../errors.js';
import type { RunRecord, Suspension } from '../../run.js';
import { principalIdOf, type AccessControl, type PrincipalRef } from '../access/authorize.js';
import { resumeSuspended, type ResumeDeps } from '../events/suspensions.js';

/** Options of `engine.approve` / `engine.reject`. */
export interface ApprovalOptions {
  /** The step awaiting approval (guards against deciding a different step than the one shown). */
  stepId: string;
  /** Who decided, recorded in the ledger; default `as`, else `anonymous`. */
  by?: string;
  comment?: string;
  /** Checked like cancel: the run's managers, owner and the flow's administrators may decide. Without it the caller is trusted. */
  as?: PrincipalRef;
}

/** What deciding needs of the engine. */
export interface ApprovalDeps extends ResumeDeps {
  access: AccessControl;
}

/**
 * Records `approved` or `rejected` for the step a run waits at and makes the run ACTIVE again.
 * Throws RUN_NOT_FOUND / PERMISSION_DENIED (with `as`), INVALID_INPUT for a missing step id, and
 * CONFLICT when the run is not waiting for approval of that step — already decided (by this or
 * another process), being decided right now, ended, or waiting at another step.
 */
export async function decideApproval(deps: ApprovalDeps, runId: string, decision: 'approved' | 'rejected', options: ApprovalOptions): Promise<RunRecord> {
  if (typeof options?.stepId !== 'string' || options.stepId === '') {
    throw new ValidationError('INVALID_INPUT', [{ path: 'stepId', message: `must name the step awaiting approval, got ${JSON.stringify(options?.stepId)}` }]);
  }
  assertAwaiting(await deps.access.manageableRun(runId, options.as), options.stepId);
  const now = deps.clock.now();
  const claimed = await deps.store.claimRun({ runId, owner: deps.workerId, now, leaseExpiresAt: now + deps.leaseMs, status: 'INACTIVE' });
  if (!claimed) {
    const run = await deps.store.getRun(runId);
    if (run) assertAwaiting(run, options.stepId);
    throw new ConflictError(`run ${runId} is being resumed by another process`, { runId, stepId: options.stepId });
  }
  const pending = assertAwaiting(claimed.run, options.stepId);
  const by = options.by ?? (options.as !== undefined ? principalIdOf(options.as) : 'anonymous');
  const comment = options.comment !== undefined ? { comment: options.comment } : {};
  return resumeSuspended(deps, claimed, {
    decided: { ...pending, decision, by, ...comment },
    ledger: { time: deps.clock.now(), kind: 'governance', from: { flowId: claimed.run.flowId, graph: pending.graph, stepId: pending.stepId }, to: { decision, by, ...comment } },
    log: {
      code: decision === 'approved' ? 'StepApproved' : 'StepRejected',
      description: `step ${pending.stepId} was ${decision} by ${by}${options.comment ? `: ${options.comment}` : ''}`,
      details: { stepId: pending.stepId, by, ...comment },
    },
  });
}

function assertAwaiting(run: RunRecord, stepId: string): Suspension {
  const s = run.state.suspension;
  if (run.status !== 'INACTIVE' || s?.kind !== 'approval' || s.decision !== undefined) {
    throw new ConflictError(`run ${run.runId} is ${run.status} and not waiting for an approval`, { runId: run.runId, stepId });
  }
  if (s.stepId !== stepId) throw new ConflictError(`run ${run.runId} waits for approval of step ${s.stepId}, not ${stepId}`, { runId: run.runId, stepId });
  return s;
}
