/**
 * The contract between a step and the executor that runs it: what a step reads ({@link StepArgs}),
 * what it may tell the executor while it runs ({@link StepHost}), and what it asks the executor to
 * record when it is done ({@link StepOutcome}). Types and one ledger helper only, so steps, calls
 * and governance can share them without importing each other or the executor.
 */
import type { FlowError } from '../../errors.js';
import type { FlowVersionRecord, StepDefinition } from '../../model.js';
import type { Frame, Item, LedgerEntry, NewRun, RunRecord, RunState, Suspension } from '../../run.js';
import type { EngineCore } from '../engine-core.js';
import type { Module, ModuleContext } from '../types.js';

/** What a step asks the executor to record. */
export type StepOutcome =
  /** `outputBytes`: the output's size as JSON when the step already measured it (within maxValueBytes). */
  | { type: 'complete'; output: unknown; outputBytes?: number; next?: string | null; ledger?: LedgerEntry[]; createRuns?: NewRun[] }
  | { type: 'push'; frame: Frame; ledger: LedgerEntry }
  | { type: 'goto'; frame: Frame; ledger: LedgerEntry }
  | { type: 'wait-child'; child: NewRun; ledger: LedgerEntry }
  | { type: 'end-frame'; output: unknown }
  | { type: 'fail'; error: FlowError; catchable?: boolean }
  /** The run goes INACTIVE at this step until resumed (an approval; WAIT: `readyAt` for a timer). */
  | { type: 'suspend'; suspension: Suspension; readyAt: number | null; ledger?: LedgerEntry; log: { code: string; description: string; details: Record<string, unknown> } };

/**
 * What a running step may tell the executor of its run (RunExecutor implements it). Each call adds
 * to the run's next transition or goes live at once; none of them writes by itself.
 */
export interface StepHost {
  /** A step began (its outcome's log entry carries the start time and attempt). */
  stepStarted(stepId: string, stepType: string, attempt: number): void;
  /** Stops the run here: its modules' signal aborts with `reason`, and nothing more is called or written (a lease lost). */
  abort(reason: FlowError): void;
  /** Calls a MODULE step's function: inside the step's span when the run is traced (core/tracing.ts), else as it is. */
  callModule(fn: Module, input: Record<string, unknown>, ctx: ModuleContext): unknown;
  /**
   * Adds a log entry to the next transition. `fromModule` (a module's `ctx.log`): counted against
   * the run's history cap, and written while the step still runs, like items.
   */
  log(code: string, description: string, details?: Record<string, unknown>, fromModule?: boolean): void;
  /** Adds a ledger entry (control-flow record) to the next transition. */
  ledger(entry: LedgerEntry): void;
  /** An action output changed in the run's state: an `output` event goes with the next transition. */
  outputChanged(name: string): void;
  /** A live snapshot of an output a module is writing (transient; the state changes when the step completes). */
  outputStreamed(name: string, value: unknown): void;
  /** An item was added, updated or done. */
  itemChanged(change: 'added' | 'updated' | 'done', item: Item): void;
}

/** Everything a step may read. */
export interface StepArgs {
  core: EngineCore;
  executor: StepHost;
  flow: FlowVersionRecord;
  run: RunRecord;
  state: RunState;
  frame: Frame;
  step: StepDefinition;
  stepId: string;
  /** The run's abort: its `signal` is made when first read (a module, an ask step, a paced launch), so read it only then. */
  runAbort: { readonly signal: AbortSignal };
}

/** A ledger entry made by this step: where it came from (flow, graph, step, source line) and `to`. */
export function stepLedgerEntry(args: Pick<StepArgs, 'core' | 'run' | 'frame' | 'stepId' | 'step'>, kind: LedgerEntry['kind'], to: Record<string, unknown>): LedgerEntry {
  return {
    time: args.core.clock.now(),
    kind,
    from: { flowId: args.run.flowId, graph: args.frame.graph, stepId: args.stepId, ...(args.step.source ? { source: args.step.source } : {}) },
    to,
  };
}
