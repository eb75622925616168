/**
 * WAIT and EMIT steps. A WAIT suspends the run — INACTIVE, its lease given back, nothing of it
 * held in memory — with a `Suspension` in its state: a timer (`readyAt` set, so any engine's
 * poller resumes it when due) or an event (woken by `publishEvent`, or by its timeout). When the
 * run is resumed, the same step runs again, finds its suspension resolved, and completes (or, an
 * event wait that timed out, fails with TIMEOUT). An EMIT puts its event in the run's outbox,
 * which the executor publishes once the step's transition is committed.
 */
import { StepFailedError, ValidationError } from '../../errors.js';
import { evaluateExpression } from '../../expression/index.js';
import { cloneJson } from '../../json.js';
import { nestingTooDeepError } from '../../json-depth.js';
import type { EmitStep, WaitStep } from '../../model.js';
import type { Suspension } from '../../run.js';
import type { StepArgs, StepOutcome } from './step-outcome.js';
import { currentSuspension } from '../governance/governance.js';

/** Runs a WAIT step: suspends on its first visit, completes once resumed. */
export function executeWaitStep(args: StepArgs, step: WaitStep, scope: Record<string, unknown>): StepOutcome {
  const { core, state, frame, stepId, run } = args;
  const now = core.clock.now();
  const resumed = currentSuspension(args);
  if (resumed?.decision === 'received') return { type: 'complete', output: { event: resumed.payload ?? null, eventId: resumed.eventId ?? null, waitedMs: now - resumed.since } };
  if (resumed?.decision === 'elapsed' && resumed.kind === 'timer') return { type: 'complete', output: { waitedMs: now - resumed.since } };
  if (resumed?.decision === 'elapsed') {
    return { type: 'fail', error: new StepFailedError('TIMEOUT', `step ${stepId} waited ${step.timeoutMs} ms for event ${step.event} in vain`, { runId: run.runId, stepId, retryable: false }) };
  }
  const base = { stepId, graph: frame.graph, stepSeq: state.stepSeq, since: now };
  if (step.event !== undefined) {
    const match = Object.fromEntries(Object.entries(step.match ?? {}).map(([key, expression]) => [key, cloneJson(evaluateExpression(expression, scope))]));
    const until = step.timeoutMs !== undefined ? now + step.timeoutMs : undefined;
    const suspension: Suspension = { ...base, kind: 'event', event: step.event, match, ...(until !== undefined ? { until } : {}) };
    return suspend(suspension, until ?? null, `step ${stepId} waits for event ${step.event}`);
  }
  const until = step.durationMs !== undefined ? now + step.durationMs : timeOf(evaluateExpression(step.until!, scope), stepId);
  if (until <= now) return { type: 'complete', output: { waitedMs: 0 } };
  return suspend({ ...base, kind: 'timer', until }, until, `step ${stepId} waits until ${describeTime(until)}`);
}

/**
 * A time for a log description: ISO 8601 in UTC (`2026-12-05T07:20:00.000Z`), so people and the
 * CLI read a date, not an epoch; a time no Date can hold (a wait of 10^20 ms) as its number.
 */
export function describeTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

/** Runs an EMIT step: the event goes to the outbox, published after this step's transition commits. */
export function executeEmitStep(args: StepArgs, step: EmitStep, scope: Record<string, unknown>): StepOutcome {
  const { run, state, stepId } = args;
  const value = step.payload === undefined ? null : evaluateExpression(step.payload, scope);
  const tooDeep = nestingTooDeepError(value, { what: `the payload of event "${step.event}"`, path: `steps.${stepId}.payload`, maxDepth: args.core.maxNestingDepth, runId: run.runId, stepId });
  if (tooDeep) return { type: 'fail', error: tooDeep };
  const payload = cloneJson(value);
  // One id per visit of this step: a re-execution after a crash emits the same event again.
  const eventId = `${run.runId}:${state.stepSeq}:${stepId}`.slice(0, 128);
  state.outbox = [...(state.outbox ?? []), { eventId, event: step.event, payload }];
  return { type: 'complete', output: { eventId } };
}

/** True when an event payload carries every value a WAIT's `match` computed (deep equality). */
export function payloadMatches(match: Record<string, unknown> | undefined, payload: unknown): boolean {
  if (!match || Object.keys(match).length === 0) return true;
  if (typeof payload !== 'object' || payload === null) return false;
  return Object.entries(match).every(([key, value]) => Object.hasOwn(payload, key) && JSON.stringify((payload as Record<string, unknown>)[key]) === JSON.stringify(value));
}

function suspend(suspension: Suspension, readyAt: number | null, description: string): StepOutcome {
  return { type: 'suspend', suspension, readyAt, log: { code: 'StepWaiting', description, details: { stepId: suspension.stepId, kind: suspension.kind, ...(suspension.event ? { event: suspension.event } : {}), ...(suspension.until !== undefined ? { until: suspension.until } : {}) } } };
}

function timeOf(value: unknown, stepId: string): number {
  const at = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(at)) throw new ValidationError('INVALID_INPUT', [{ path: `steps.${stepId}.until`, message: `must be epoch milliseconds or an ISO 8601 date-time, got ${JSON.stringify(value)}` }]);
  return at;
}
