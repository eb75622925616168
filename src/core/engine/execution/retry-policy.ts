/**
 * What a step's `retry` and `catch` clauses make of a failure: retry it after a backoff, continue
 * at a catch clause, or neither (the frame fails). Pure decisions; the executor records them.
 */
import type { FlowError } from '../../errors.js';
import type { StepDefinition } from '../../model.js';

/**
 * The delay before the next attempt of a failed step, or null when it is not retried: the step
 * has no matching `retry`, its attempts are used up, or the error says retrying cannot help
 * (`retryable: false`, or LIMIT_EXCEEDED — the same value would exceed the same budget again).
 */
export function retryDelayMs(step: StepDefinition, attempt: number, error: FlowError): number | null {
  const retry = step.retry;
  const retryable = (error as { retryable?: boolean }).retryable !== false && error.code !== 'LIMIT_EXCEEDED';
  if (!retry || !retryable || attempt >= retry.maxAttempts || !matches(retry.errorEquals, error.code)) return null;
  return Math.min((retry.backoffMs ?? 0) * Math.pow(retry.backoffRate ?? 2, attempt - 1), retry.maxBackoffMs ?? Number.POSITIVE_INFINITY);
}

/** The step's first `catch` clause that matches the error's code, if any. */
export function catchClause(step: StepDefinition, error: FlowError): { next: string } | undefined {
  return step.catch?.find((c) => matches(c.errorEquals, error.code));
}

function matches(codes: string[] | undefined, code: string): boolean {
  return !codes || codes.length === 0 || codes.includes('*') || codes.includes(code);
}
