/**
 * Budgets (DESIGN.md §6): the resources one run, one run tree or one principal may consume, each
 * with a default and a knob (`runtimeConfig.budgets`, and `flowrun serve` flags). Exceeding one
 * fails that run — or refuses that start — with the one code `LIMIT_EXCEEDED`, whose details name
 * the budget (`limit`), its bound (`max`) and what was asked (`value`); never the process. Sizes are
 * measured as the value would be stored (its JSON), without building that JSON first: a value
 * that holds one object twice counts it twice, as storing it would write it twice.
 */
import { FlowError, ValidationError, type FlowErrorOptions, type ValidationIssue } from './errors.js';

/** The budgets of one engine; every field has a default ({@link DEFAULT_BUDGETS}). */
export interface Budgets {
  /** Largest value one step writes — its output, a var, an action output, a module's result — in bytes of JSON. */
  maxValueBytes: number;
  /** Largest state of one run — vars, outputs, frames and their step outputs — in bytes of JSON. */
  maxStateBytes: number;
  /** Steps one run may execute, retries included. */
  maxStepsPerRun: number;
  /** Longest a run may last from its start, in ms; a run's own `timeoutMs` may only be shorter. */
  maxRunDurationMs: number;
  /** Runs in one run tree: the root and every run it started, synchronous children and launches alike. */
  maxRunsPerTree: number;
  /** Runs one principal may start per second over HTTP (the burst is as large); more answer 429 with `Retry-After`. */
  maxStartsPerSecond: number;
  /**
   * Runs one run tree may launch per second in one engine (`async` RUN_FLOW, START_FLOW_EXECUTION; the
   * burst is as large): a launch past it is not refused, its step waits for its turn.
   */
  maxLaunchesPerSecond: number;
  /**
   * Longest a watch (`watchRun`, `GET /runs/{id}/stream`) of a run that is not recorded yet — or
   * that its watcher may not read — waits for it to appear before it answers RUN_NOT_FOUND, in ms.
   */
  maxWatchWaitMs: number;
  /**
   * Schedules one principal may own (made over the API, client or CLI; a flow definition's own
   * schedules count toward no one): each starts runs on its own, so their number is a budget too.
   */
  maxSchedulesPerPrincipal: number;
  /** Watches one principal may have waiting for runs to appear at once; more are refused with LIMIT_EXCEEDED. */
  maxPendingWatchesPerPrincipal: number;
  /** Watches an engine may have waiting for runs to appear at once, every principal together. */
  maxPendingWatches: number;
}

/** The budgets an engine has unless configured otherwise. */
export const DEFAULT_BUDGETS: Readonly<Budgets> = Object.freeze({
  maxValueBytes: 1024 * 1024,
  maxStateBytes: 16 * 1024 * 1024,
  maxStepsPerRun: 10_000_000,
  maxRunDurationMs: 30 * 24 * 60 * 60 * 1000,
  // In line with Temporal's 2,000 pending children of a workflow; a larger tree is a knob away. Each run
  // of a tree at its fair share that waits in the store makes claims pass over it (see fair-shares.ts).
  maxRunsPerTree: 1_000,
  maxStartsPerSecond: 100,
  // A fork bomb grows at this rate instead of as fast as runs can be created (issue 12); a run that
  // launches a thousand in a loop takes about nine seconds to start them. Many trees launching a
  // few each (the usual fan-out of a busy service) never wait.
  maxLaunchesPerSecond: 100,
  // A job that starts a run fire-and-forget records it within milliseconds; seconds cover a
  // process that is still starting. Each waiting watch holds a connection: hence the two counts.
  maxWatchWaitMs: 5_000,
  maxSchedulesPerPrincipal: 100,
  maxPendingWatchesPerPrincipal: 32,
  maxPendingWatches: 1_024,
});

/** The budget names, in the order they are documented. */
export const BUDGET_NAMES = Object.keys(DEFAULT_BUDGETS) as (keyof Budgets)[];

/**
 * The budgets `configured` asks for over the defaults. Throws INVALID_INPUT naming each field that
 * is not a positive number (or is not a budget), so a typo in a knob is never silently ignored.
 */
export function resolveBudgets(configured: Partial<Budgets> | undefined): Budgets {
  const issues: ValidationIssue[] = [];
  const budgets: Budgets = { ...DEFAULT_BUDGETS };
  for (const [name, value] of Object.entries(configured ?? {})) {
    if (!(BUDGET_NAMES as string[]).includes(name)) issues.push({ path: `budgets.${name}`, message: `is not a budget; the budgets are ${BUDGET_NAMES.join(', ')}` });
    else if (value === undefined) continue;
    else if (typeof value !== 'number' || !(value > 0)) issues.push({ path: `budgets.${name}`, message: `must be a positive number, got ${JSON.stringify(value)}` });
    else budgets[name as keyof Budgets] = value;
  }
  if (issues.length) throw new ValidationError('INVALID_INPUT', issues);
  return budgets;
}

/** The error of an exceeded budget: code LIMIT_EXCEEDED, `details: {limit, max, value}`. */
export function limitExceeded(limit: keyof Budgets, max: number, value: number, message: string, options: Omit<FlowErrorOptions, 'details'> = {}): FlowError {
  return new FlowError('LIMIT_EXCEEDED', `${message} (budget ${limit} is ${max})`, { ...options, details: { limit, max, value } });
}
