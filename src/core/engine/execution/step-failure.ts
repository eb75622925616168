/**
 * What a failed step leads to, decided from the step's `retry` and `catch` alone: another attempt
 * after a backoff, the step a catch clause names, or the frame failing (and its caller's step
 * with it). The executor applies the decision; deciding is pure, so it is the same after a crash.
 */
import { FlowError, StepFailedError } from '../../errors.js';
import type { StepDefinition } from '../../model.js';

/** The outcome of a step failure; see {@link decideFailure}. */
export type FailureDecision =
  | { kind: 'retry'; delayMs: number; maxAttempts: number }
  | { kind: 'catch'; next: string; output: { error: { code: string; description: string; details?: Record<string, unknown> } } }
  | { kind: 'fail' };

/**
 * Decides what attempt `attempt` of `step` failing with `error` leads to. A non-retryable error
 * (`retryable: false`) is never retried; an uncatchable one (`catchable` false) goes straight to
 * failing the frame.
 */
export function decideFailure(step: StepDefinition, attempt: number, error: FlowError, catchable: boolean): FailureDecision {
  // LIMIT_EXCEEDED is never retried: the same value would exceed the same budget again.
  const retryable = (error as { retryable?: boolean }).retryable !== false && error.code !== 'LIMIT_EXCEEDED';
  const retry = step.retry;
  if (catchable && retry && retryable && attempt < retry.maxAttempts && matches(retry.errorEquals, error.code)) {
    const delayMs = Math.min((retry.backoffMs ?? 0) * Math.pow(retry.backoffRate ?? 2, attempt - 1), retry.maxBackoffMs ?? Number.POSITIVE_INFINITY);
    return { kind: 'retry', delayMs, maxAttempts: retry.maxAttempts };
  }
  const clause = catchable ? step.catch?.find((c) => matches(c.errorEquals, error.code)) : undefined;
  if (!clause) return { kind: 'fail' };
  return { kind: 'catch', next: clause.next, output: { error: { code: error.code, description: error.message, ...(error.details ? { details: error.details } : {}) } } };
}

/**
 * The store's refusal of the runs a transition would create — its tree is full (LIMIT_EXCEEDED,
 * `maxRunsPerTree`) or canceled (CANCELED naming the tree) — if that is what `error` is.
 */
export function treeRefusal(error: unknown): FlowError | null {
  if (!(error instanceof FlowError)) return null;
  const full = error.code === 'LIMIT_EXCEEDED' && error.details?.limit === 'maxRunsPerTree';
  return full || (error.code === 'CANCELED' && error.details?.treeId !== undefined) ? error : null;
}

/** The failure of the step whose runs the store refused: its code and details, never retried. */
export function refusedStepError(refusal: FlowError, runId: string, stepId: string): StepFailedError {
  return new StepFailedError(refusal.code, refusal.message, { runId, stepId, retryable: false, ...(refusal.details ? { details: refusal.details } : {}) });
}

function matches(codes: string[] | undefined, code: string): boolean {
  return !codes || codes.length === 0 || codes.includes('*') || codes.includes(code);
}
