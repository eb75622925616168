/**
 * Governance (DESIGN.md §3): `ASK`, `MODULE`, cross-flow `RUN_FLOW` and `START_FLOW_EXECUTION`
 * (launch: it starts another flow too, like an async RUN_FLOW) steps pass through
 * `runtimeConfig.governance` before they run. The policy allows the step, denies it (the step
 * fails with GOVERNANCE_DENIED), or asks for approval: the run goes INACTIVE — its lease given
 * back, nothing of it held in memory — until `engine.approve` or `engine.reject` records the
 * decision (see approvals.ts). Control flow (`run` of a subflow, `goto`, `decide`) never asks.
 * Every decision is a ledger entry of kind `governance`.
 *
 * The `engine/governance/` room: the policy's contract (governance-policy.ts), asking it before a
 * governed step (this file), and approving or rejecting a step that waits (approvals.ts). It may
 * import core, steps/step-outcome.ts, access/ (who may decide) and events/suspensions.ts (resuming).
 */
import { FlowError, StepFailedError, toFlowError } from '../../errors.js';
import type { StepDefinition } from '../../model.js';
import type { GovernanceRequest } from './governance-policy.js';
import type { LedgerEntry, Suspension } from '../../run.js';
import { stepLedgerEntry, type StepArgs, type StepOutcome } from '../steps/step-outcome.js';

/** True for the steps governance sees: ASK, MODULE, RUN_FLOW into another flow, and START_FLOW_EXECUTION. */
export function isGoverned(step: StepDefinition): boolean {
  return step.stepType === 'ASK' || step.stepType === 'MODULE' || step.stepType === 'START_FLOW_EXECUTION' || (step.stepType === 'RUN_FLOW' && step.subflow === undefined);
}

/**
 * Consults the policy before a governed step. Resolves to null when the step may run (its
 * ledger entry is already on the executor's next transition), or to the outcome that replaces
 * the step: a failure (denied, rejected, policy broken) or a suspension awaiting approval.
 */
export async function governStep(args: StepArgs, input: Record<string, unknown>): Promise<StepOutcome | null> {
  const { core, step, state, frame, stepId, run } = args;
  const policy = core.governance;
  if (!policy || !isGoverned(step)) return null;
  const decided = currentSuspension(args);
  if (decided?.kind === 'approval' && decided.decision === 'approved') return null;
  if (decided?.kind === 'approval' && decided.decision === 'rejected') {
    delete state.suspension;
    const by = decided.by ? ` by ${decided.by}` : '';
    return fail(args, 'GOVERNANCE_REJECTED', `step ${stepId} was rejected${by}${decided.comment ? `: ${decided.comment}` : ''}`, { by: decided.by ?? null, comment: decided.comment ?? null });
  }
  let decision: { decision: 'allow' | 'deny' | 'approve'; reason?: string };
  try {
    decision = normalize(await policy(requestOf(args, input)));
  } catch (error) {
    const cause = toFlowError(error, 'GOVERNANCE_FAILED');
    return { type: 'fail', error: new FlowError('GOVERNANCE_FAILED', `the governance policy failed for step ${stepId}: ${cause.message}`, { runId: run.runId, stepId, cause: error }) };
  }
  const entry = governanceEntry(args, { decision: decision.decision, ...(decision.reason !== undefined ? { reason: decision.reason } : {}) });
  switch (decision.decision) {
    case 'allow':
      args.executor.ledger(entry);
      return null;
    case 'deny':
      args.executor.ledger(entry);
      return fail(args, 'GOVERNANCE_DENIED', `step ${stepId} was denied by the governance policy${decision.reason ? `: ${decision.reason}` : ''}`, { reason: decision.reason ?? null });
    case 'approve': {
      const suspension: Suspension = {
        kind: 'approval',
        stepId,
        graph: frame.graph,
        stepSeq: state.stepSeq,
        since: core.clock.now(),
        ...(decision.reason !== undefined ? { reason: decision.reason } : {}),
      };
      return {
        type: 'suspend',
        suspension,
        readyAt: null,
        ledger: entry,
        log: { code: 'ApprovalRequested', description: `step ${stepId} waits for approval${decision.reason ? `: ${decision.reason}` : ''}`, details: { stepId, stepType: step.stepType } },
      };
    }
  }
}

/** The run's suspension if it belongs to this visit of this step (see {@link Suspension}). */
export function currentSuspension(args: Pick<StepArgs, 'state' | 'frame' | 'stepId'>): Suspension | undefined {
  const s = args.state.suspension;
  return s && s.stepId === args.stepId && s.graph === args.frame.graph && s.stepSeq === args.state.stepSeq ? s : undefined;
}

/** A `governance` ledger entry for this step. */
export function governanceEntry(args: Pick<StepArgs, 'core' | 'run' | 'frame' | 'stepId' | 'step'>, to: Record<string, unknown>): LedgerEntry {
  return stepLedgerEntry(args, 'governance', { stepType: args.step.stepType, ...to });
}

function requestOf(args: StepArgs, input: Record<string, unknown>): GovernanceRequest {
  const { run, frame, step, stepId } = args;
  const request: GovernanceRequest = {
    runId: run.runId,
    flowId: run.flowId,
    flowVersion: run.flowVersion,
    actionName: run.actionName,
    graph: frame.graph,
    stepId,
    stepType: step.stepType as GovernanceRequest['stepType'],
    principal: run.runAs ?? run.createdBy,
    createdBy: run.createdBy,
    runAs: run.runAs,
    input,
    attempt: frame.attempt,
    ...(step.source ? { source: step.source } : {}),
  };
  if (step.stepType === 'MODULE') request.moduleIdentifier = step.moduleIdentifier;
  if (step.stepType === 'ASK') request.model = step.model;
  if (step.stepType === 'RUN_FLOW') {
    request.target = { flowId: step.flowDefinitionId!, ...(step.flowVersion !== undefined ? { flowVersion: step.flowVersion } : {}), action: step.action ?? 'main', async: step.async === true };
  }
  if (step.stepType === 'START_FLOW_EXECUTION') {
    const version = input.flowVersion;
    const target = { flowId: String(input.flowDefinitionId), action: typeof input.actionName === 'string' ? input.actionName : 'main', async: true };
    request.target = typeof version === 'number' || typeof version === 'string' ? { ...target, flowVersion: version } : target;
  }
  return request;
}

function normalize(answer: unknown): { decision: 'allow' | 'deny' | 'approve'; reason?: string } {
  const decision = typeof answer === 'string' ? answer : typeof answer === 'object' && answer !== null ? (answer as { decision?: unknown }).decision : undefined;
  if (decision !== 'allow' && decision !== 'deny' && decision !== 'approve') {
    throw new FlowError('GOVERNANCE_FAILED', `a decision must be "allow", "deny" or "approve" (or {decision, reason}), got ${JSON.stringify(answer)}`);
  }
  const reason = typeof answer === 'object' && answer !== null ? (answer as { reason?: unknown }).reason : undefined;
  return { decision, ...(typeof reason === 'string' ? { reason } : {}) };
}

function fail(args: StepArgs, code: 'GOVERNANCE_DENIED' | 'GOVERNANCE_REJECTED', message: string, details: Record<string, unknown>): StepOutcome {
  // Catchable, but never retried: asking the same policy again gives the same answer.
  return { type: 'fail', error: new StepFailedError(code, message, { runId: args.run.runId, stepId: args.stepId, retryable: false, details }) };
}
