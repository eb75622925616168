/**
 * The governance policy's contract (DESIGN.md §3): what `runtimeConfig.governance` is asked about
 * a step and what it may answer. Types only, so configuration types can name the policy without
 * depending on how steps are governed (governance.ts).
 */
import type { SourceLocation } from '../../model.js';

/** What a governance policy is asked about one step. */
export interface GovernanceRequest {
  runId: string;
  flowId: string;
  flowVersion: number;
  actionName: string;
  /** `action:<name>` or `subflow:<name>`: where the step is. */
  graph: string;
  stepId: string;
  stepType: 'ASK' | 'MODULE' | 'RUN_FLOW' | 'START_FLOW_EXECUTION';
  /** The principal the step acts for: the run's service account, else who started it. */
  principal: string;
  createdBy: string;
  runAs: string | null;
  /** MODULE: the module called. */
  moduleIdentifier?: string;
  /** ASK: the model asked. */
  model?: string;
  /** RUN_FLOW, START_FLOW_EXECUTION: the flow called or started (`flowVersion` as the step names it). */
  target?: { flowId: string; flowVersion?: number | string; action: string; async: boolean };
  /** The step's input, as its mappings built it. */
  input: Record<string, unknown>;
  attempt: number;
  source?: SourceLocation;
}

/** A policy's answer; the object form carries a reason, recorded in the ledger (and the error of a denial). */
export type GovernanceDecision = 'allow' | 'deny' | 'approve' | { decision: 'allow' | 'deny' | 'approve'; reason?: string };

/**
 * `runtimeConfig.governance`: decides whether a governed step may run. It may be async; it is
 * asked again on every attempt of a step (a retry, a re-execution after a crash) except one
 * already approved. A policy that throws or answers something else fails the step with
 * GOVERNANCE_FAILED (retried like any step failure).
 */
export type GovernancePolicy = (request: GovernanceRequest) => GovernanceDecision | Promise<GovernanceDecision>;
