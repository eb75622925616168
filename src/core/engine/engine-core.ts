/**
 * The part of the engine that executors and steps call back into: the store, time, ids, the
 * configuration, flow loading, building new runs, and the scheduler.
 */
import type { ScheduleSlotContext } from '../run.js';
import type { Budgets } from '../budgets.js';
import type { Clock, IdSource } from '../clock.js';
import type { ConflictError } from '../errors.js';
import type { FlowVersionRecord, SubflowDefinition } from '../model.js';
import type { NewRun, RunEventBody, RunRecord } from '../run.js';
import type { EmittedEvent, RecordedRun, Store } from '../store.js';
import type { AccessControl } from './access/authorize.js';
import type { LaunchPacer } from './calls/launch-pacer.js';
import type { Logger, Module } from './types.js';
import type { EngineObservers } from './engine-observer.js';
import type { ModelResolver } from './steps/model-resolver.js';
import type { GovernancePolicy } from './governance/governance-policy.js';
import type { Tracing } from '../tracing.js';

/** A run being executed whose pending log entries and items can be written ahead of its step's end. */
export interface FlushableRun {
  readonly runId: string;
  /** Persists the pending events now (a no-op when there are none). */
  flush(): Promise<void>;
}

/** What live publication needs of a run. */
export type LiveRunRef = Pick<RunRecord, 'runId' | 'rootRunId' | 'lastSeq'>;

/** The first events of every run: ACTIVE, and a FlowStarted log entry. */
export function startEvents(run: NewRun): RunEventBody[] {
  return [
    { kind: 'status', status: 'ACTIVE' },
    {
      kind: 'log',
      entry: {
        time: run.startTime,
        code: 'FlowStarted',
        description: `flow ${run.flowId} v${run.flowVersion} action ${run.actionName} started`,
        details: { source: run.source, createdBy: run.createdBy, ...(run.parentRunId ? { parentRunId: run.parentRunId } : {}) },
      },
    },
  ];
}

/** What a new run is built from. */
export interface BuildRunInput {
  flow: FlowVersionRecord;
  actionName: string;
  input: unknown;
  /** The run that starts this one (child run or launch). */
  parent?: RunRecord;
  detached?: boolean;
  /**
   * A launch: input that does not fit the params builds a run that fails at once with INVALID_INPUT
   * (start/flow-graph.ts, REJECTED_INPUT_GRAPH) instead of throwing, so the launched run fails, not its starter.
   */
  failsOnUnfitInput?: boolean;
  depth?: number;
  timeoutMs?: number | null;
  runAs?: string | null;
  source: string;
  stepLogs?: boolean;
  requestId?: string;
  createdBy?: string;
  /** Who published the event that starts this run (recorded, never acted as). */
  triggeredBy?: string | null;
  /**
   * The run tree a run without parent joins (an EMIT's event starts it, in the emitting run's
   * tree); default: its own id, a new tree. Its `rootRunId` stays its own id.
   */
  treeId?: string;
  sessionId?: string | null;
  label?: string | null;
  tags?: string[];
  event?: unknown;
  /** The schedule slot that starts this run (`schedule` in expressions). */
  schedule?: ScheduleSlotContext;
  monitors?: { users?: string[]; groups?: string[] };
  managers?: { users?: string[]; groups?: string[] };
}

/** A run a transition creates: the record, its first events and, maybe, this engine's lease on it. */
export interface CreatedRun {
  run: NewRun;
  events: RunEventBody[];
  lease?: { owner: string; expiresAt: number };
}

/** The engine as its executors see it. */
export interface EngineCore {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly logger: Logger | undefined;
  /** Told of runs started and ended, step visits and lost leases (engine-observer.ts). */
  readonly observers: EngineObservers;
  readonly modules: Readonly<Record<string, Module>>;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly maxDepth: number;
  /** `runtimeConfig.maxNestingDepth`: how deep values entering a run may nest. */
  readonly maxNestingDepth: number;
  readonly maxHistoryPerRun: number;
  /** The budgets in force (runtimeConfig.budgets over the defaults). */
  readonly budgets: Budgets;
  /** Permission checks (authorize.ts): a step calling another flow asks them before it creates the run. */
  readonly access: AccessControl;
  /** The launch budget (`maxLaunchesPerSecond`, calls/launch-pacer.ts): a launching step waits here for its turn. */
  readonly launches: LaunchPacer;
  /** `runtimeConfig.governance`: asked before ASK, MODULE, cross-flow RUN_FLOW and START_FLOW_EXECUTION steps. */
  readonly governance: GovernancePolicy | undefined;
  /** `runtimeConfig.modelResolver`: the models of ASK steps. */
  readonly modelResolver: ModelResolver | undefined;
  /** The tracer (core/tracing.ts); undefined when nothing is traced. */
  readonly tracing: Tracing | undefined;
  /** This engine's name in leases. */
  readonly workerId: string;
  /** Resolves a flow version (by number or selector); throws FLOW_NOT_FOUND. Cached: versions are immutable. */
  loadFlow(flowId: string, version?: number | string): Promise<FlowVersionRecord>;
  subflowOf(flow: FlowVersionRecord, name: string): SubflowDefinition;
  /** Builds a new run record: binds and validates the input (throws INVALID_INPUT), sets ids and deadlines. */
  buildRun(input: BuildRunInput): NewRun;
  /** Claims the run and executes it in this process if it can be claimed now. */
  dispatch(runId: string): void;
  /**
   * A lease for run `runId` about to be created (or woken) by a transition, when this engine has room for
   * it: a free slot within the fair shares of the run's tree and owner (run-scheduler.ts).
   */
  leaseForNewRun(run: Pick<NewRun, 'runId' | 'treeId' | 'runOwner'>): { owner: string; expiresAt: number } | null;
  /**
   * The runs a transition is about to create, with their first events, each leased to this engine
   * when it has room (it then executes them without a claim round trip), else left for a claim.
   */
  runsToCreate(runs: NewRun[]): CreatedRun[];
  /**
   * A transition recorded at `at` created these runs: announce them and set them going. With
   * `leaveUnleased`, runs without this engine's lease are left to the claims of the engines' polls
   * (a burst of thousands is claimed a free slot's worth at a time, not queued here one by one).
   */
  runsCreated(created: CreatedRun[], at: number, options?: { leaveUnleased?: boolean }): void;
  /**
   * Whether `executor` (a step's StepHost), executing run `runId` here, may call a module now: true
   * at once while at least half its lease is left by the engine clock; otherwise once its lease is
   * renewed (lease-keeper.ts). False when the lease is lost or could not be renewed in time (the run
   * is then stopped and calls nothing), or when `executor` is not the run's executor here any more.
   */
  confirmLease(runId: string, executor: { abort(reason: ConflictError): void }): boolean | Promise<boolean>;
  /** Executes a run that a committed transition leased to this engine (created — its record given — or woken). */
  executeLeased(runId: string, lease: { owner: string; expiresAt: number }, created?: RunRecord): void;
  /** A copy of a run that recently ended in this engine, as it ended; undefined when not known here. */
  endedRun(runId: string): RunRecord | undefined;
  /** Dispatches the run at time `at` (retry backoff); `suspended`: resumes its due WAIT instead. */
  scheduleWake(runId: string, at: number, options?: { suspended?: boolean }): void;
  /** Publishes an event (EMIT steps): starts its subscribers once per id, wakes runs waiting for it. */
  publishEvent(name: string, payload: unknown, options: { eventId?: string; userId?: string }): Promise<unknown>;
  /**
   * A committed transition of run `runId` recorded these emitted events in the store's outbox:
   * publish them now (each leaves the outbox once published; what is not is swept later).
   */
  emitted(run: Pick<RunRecord, 'runId' | 'treeId' | 'runAs' | 'createdBy'>, emits: readonly EmittedEvent[]): void;
  /** Persists an executor's pending events soon (a running module emitted items or logs). */
  scheduleFlush(run: FlushableRun): void;
  /**
   * A transition committed: fan its events out to live listeners, in order, with their sequence
   * numbers. `transients` are transient item changes that happened after the first `afterIndex`
   * of those events; they are delivered in that place, so listeners see changes in the order they happened.
   */
  publishCommitted(run: LiveRunRef, events: RunEventBody[], transients?: { afterIndex: number; body: RunEventBody }[]): void;
  /** A transient item changed: live listeners only. */
  publishTransient(run: LiveRunRef, event: RunEventBody): void;
  /** A run reached a terminal status (its whole record, as it ended); with `parentLease`, its woken parent was leased to this engine. */
  runEnded(run: RunRecord & Pick<RecordedRun, 'wokenRuns'>, parentLease?: { owner: string; expiresAt: number }): void;
  /**
   * The run's turn to go on after a write (`stepSeq`, the steps it took so far): null to go on at
   * once, else a promise resolving at its turn, in a later turn of the event loop when its owner's
   * executors had their share of the current one (turn-gate.ts: round-robin by owner and tree). Every 256 steps
   * always a later turn, resolving true when the run should give its slot back: its tree or owner
   * holds more than its share here (slots it got while nobody else was waiting); the run then goes
   * back to the store, ready.
   */
  takeTurn(run: Pick<RunRecord, 'treeId' | 'runOwner'>, stepSeq: number): Promise<boolean> | null;
  /** Cancels a run and its synchronous children (`tree`: and everything in its run tree it started, launches included). */
  cancelRunTree(runId: string, reason: string, options?: { tree?: boolean }): Promise<void>;
}
