/**
 * The budgets of one claimed run as its executor applies them: steps per run, run duration and the
 * size of the run's state (budgets.ts). The value budget is applied where values are written (the
 * steps, the output writer, expressions); this file answers "may the run go on?".
 *
 * The state is measured exactly once per claim (a run over budget in the store is failed before a
 * step runs, so a restart never re-runs it into the same wall). After that the executor keeps an
 * upper bound: each step adds what it wrote (its output, counted for `steps` and `last`, and the
 * vars and outputs it changed), and only when that bound passes `maxStateBytes` is the state
 * measured again — in a normal run, almost never. A run that writes little costs a few additions
 * per step; one that writes a lot costs one walk of its state per `maxStateBytes` it writes.
 */
import { limitExceeded, type Budgets } from '../../budgets.js';
import type { FlowError, RunErrorInfo } from '../../errors.js';
import { jsonSize } from '../../json-size.js';
import type { RunRecord, RunState } from '../../run.js';

/** Bytes charged per step besides its values: the step id as a key, frame fields, separators. */
const STEP_OVERHEAD_BYTES = 256;

/** The latest a run may end: its own `timeoutMs` or the `maxRunDurationMs` budget, whichever comes first. */
export function runDeadline(run: Pick<RunRecord, 'startTime' | 'deadline'>, budgets: Budgets): number {
  const byBudget = run.startTime + budgets.maxRunDurationMs;
  return run.deadline === null ? byBudget : Math.min(run.deadline, byBudget);
}

/** The budgets of one claimed run (one per executor). */
export class RunBudget {
  readonly #budgets: Budgets;
  readonly #run: Pick<RunRecord, 'runId' | 'startTime' | 'timeoutMs' | 'deadline'>;
  /** An upper bound of the state's size as JSON; exact right after a measure. */
  #stateBound = 0;

  constructor(budgets: Budgets, run: Pick<RunRecord, 'runId' | 'startTime' | 'timeoutMs' | 'deadline'>) {
    this.#budgets = budgets;
    this.#run = run;
  }

  /** When the run must end (see {@link runDeadline}). */
  get deadline(): number {
    return runDeadline(this.#run, this.#budgets);
  }

  /**
   * What is wrong with a run just claimed, before any step runs: past its steps, or a stored state
   * over `maxStateBytes`. Null when it may go on; measures the state. (Its deadline is the
   * executor's first check.)
   */
  checkClaim(state: RunState): FlowError | null {
    const steps = stepsOf(state);
    if (steps >= this.#budgets.maxStepsPerRun) return this.#stepsError(steps);
    return this.#measure(state);
  }

  /** Counts one step about to run (retries included); the error when the run has used all its steps. */
  countStep(state: RunState): FlowError | null {
    const steps = stepsOf(state);
    if (steps >= this.#budgets.maxStepsPerRun) return this.#stepsError(steps);
    state.stepCount = steps + 1;
    return null;
  }

  /**
   * Adds what a step wrote (`bytes` of JSON) to the bound of the state; when the bound passes
   * `maxStateBytes`, measures the state: the error when it is really over.
   */
  charge(state: RunState, bytes: number): FlowError | null {
    this.#stateBound += bytes + STEP_OVERHEAD_BYTES;
    return this.#stateBound > this.#budgets.maxStateBytes ? this.#measure(state) : null;
  }

  /**
   * Whether the state is at most `max` bytes of JSON (a bound below `maxStateBytes`): yes while the
   * bound says so; past it, the state is measured up to `max`, and the bound becomes the exact
   * size when it fits. A walk of at most `max` bytes, only once the bound passed `max`.
   */
  stateWithin(state: RunState, max: number): boolean {
    if (this.#stateBound <= max) return true;
    const size = jsonSize(state, max);
    if (size > max) return false; // a partial count: no bound
    this.#stateBound = size;
    return true;
  }

  /**
   * The error of a run at its deadline: TIMEOUT when its own `timeoutMs` ended it, LIMIT_EXCEEDED
   * (`maxRunDurationMs`) when the budget did.
   */
  deadlineError(now: number): RunErrorInfo {
    if (!this.#isDeadlineByBudget()) return { code: 'TIMEOUT', description: `the run timed out after ${this.#run.timeoutMs} ms` };
    const max = this.#budgets.maxRunDurationMs;
    return limitExceeded('maxRunDurationMs', max, now - this.#run.startTime, `run ${this.#run.runId} ran longer than ${max} ms`, { runId: this.#run.runId }).toRunError();
  }

  #isDeadlineByBudget(): boolean {
    const own = this.#run.timeoutMs;
    return own === null || own > this.#budgets.maxRunDurationMs;
  }

  #measure(state: RunState): FlowError | null {
    const max = this.#budgets.maxStateBytes;
    const size = jsonSize(state, max);
    this.#stateBound = size;
    return size > max ? limitExceeded('maxStateBytes', max, size, `the state of run ${this.#run.runId} (vars, outputs, step outputs) is larger than ${max} bytes of JSON`, { runId: this.#run.runId }) : null;
  }

  #stepsError(steps: number): FlowError {
    const max = this.#budgets.maxStepsPerRun;
    return limitExceeded('maxStepsPerRun', max, steps + 1, `run ${this.#run.runId} would execute more than ${max} steps`, { runId: this.#run.runId });
  }
}

/** Steps a run executed; runs recorded before the count existed have their completed steps. */
function stepsOf(state: RunState): number {
  return state.stepCount ?? state.stepSeq;
}
