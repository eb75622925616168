/**
 * Runs as they are recorded: the run record, its execution state (the frame stack), and the
 * events a run leaves behind (log entries, items, ledger entries, status and output changes).
 * Everything here is plain JSON so every store can persist it as it is.
 */
import type { RunErrorInfo } from './errors.js';

/** The statuses of a run (seed 003). */
export const RUN_STATUSES = ['ACTIVE', 'INACTIVE', 'SUCCEEDED', 'FAILED', 'CANCELED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** True for SUCCEEDED, FAILED and CANCELED: the run will never change again. */
export function isTerminalStatus(status: RunStatus): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELED';
}

/** Users and groups holding a run role. */
export interface PrincipalSet {
  users: string[];
  groups: string[];
}

/**
 * One frame of a run's stack: an action body or a subflow, the step it is at, and the outputs
 * of the steps it completed. `goto` replaces the top frame; `run` of a subflow pushes one.
 */
export interface Frame {
  /** `action:<name>` or `subflow:<name>`. */
  graph: string;
  /** The step to execute next; null when the frame has finished. */
  at: string | null;
  /** Outputs of completed steps, by step id (`steps.<id>`). */
  steps: Record<string, unknown>;
  /** Output of the last completed step: the frame's result unless the action declares returned outputs. */
  last: unknown;
  /** Number of `run` frames above this one, across child runs. */
  depth: number;
  /** Attempt number of the step at `at` (1 on the first try). */
  attempt: number;
  /** The current item (`item` / `currentItem`). */
  item?: unknown;
  /** Set while the step at `at` waits for a synchronous child run. */
  waitingForRunId?: string;
}

/**
 * The execution state of a run, persisted with every transition that changes it. Stores keep it
 * as a small header plus one slot per value (state-slots.ts), and a transition writes only the
 * slots it changed; every read of a run rebuilds it whole.
 */
export interface RunState {
  frames: Frame[];
  vars: Record<string, unknown>;
  outputs: Record<string, unknown>;
  /** The event that started the run, if any (`event`). */
  event?: unknown;
  /** The schedule slot that started the run, if any (`schedule`). */
  schedule?: ScheduleSlotContext;
  /** Count of completed steps; makes idempotency keys stable across retries and crashes. */
  stepSeq: number;
  /** Steps executed, retries included (the `maxStepsPerRun` budget); absent on runs recorded before it existed. */
  stepCount?: number;
  /** Whether step-level log entries are written (`enableExecutionLogs`). */
  stepLogs: boolean;
  /** Step-level log and ledger entries written so far; capped to keep store size per run bounded. */
  historyCount: number;
  historyTruncated?: boolean;
  /** False until the run records a persisted item; absent on runs recorded before it existed. */
  hasItems?: boolean;
  /** Why the run is (or last was) INACTIVE, and what resumed it; see {@link Suspension}. */
  suspension?: Suspension;
  /**
   * Events EMIT steps emitted since the last commit: the next transition moves them to the store's
   * outbox (`Transition.emits`, see events/event-outbox.ts), so a committed state no longer holds them
   * (a run recorded by an older flowrun may: its next transition moves them too).
   */
  outbox?: { eventId: string; event: string; payload: unknown }[];
  /** Ids of the last events that woke this run from an event WAIT: a duplicate publish wakes nothing. */
  receivedEventIds?: string[];
}

/**
 * What an INACTIVE run waits for: an approval of a governed step, a timer or an event (WAIT).
 * Whoever resumes the run records `decision` (and who, why) in the same transition that makes
 * it ACTIVE again; the step at `stepId` reads it when it runs again. It belongs to one visit of
 * that step (`stepSeq`): a later visit of the same step id waits anew.
 */
export interface Suspension {
  kind: 'approval' | 'timer' | 'event';
  stepId: string;
  graph: string;
  stepSeq: number;
  since: number;
  reason?: string;
  /** WAIT: the event name waited for, and the payload values it must carry. */
  event?: string;
  match?: Record<string, unknown>;
  /** WAIT: the id of the event that woke the run. */
  eventId?: string;
  /** WAIT: when the timer (or an event wait's timeout) falls due. */
  until?: number;
  decision?: 'approved' | 'rejected' | 'elapsed' | 'received';
  by?: string;
  comment?: string;
  /** WAIT for an event: the payload that woke the run. */
  payload?: unknown;
}

/**
 * What a run a schedule started sees as `schedule`: the schedule's id, the time of the slot it was
 * started for, and the slot of the schedule's run before it (null for its first).
 */
export interface ScheduleSlotContext {
  id: string;
  scheduledTime: number;
  previousTime: number | null;
}

/** A run as stored and as returned by `getRun` / `listRuns`. */
export interface RunRecord {
  runId: string;
  flowId: string;
  flowVersion: number;
  actionName: string;
  status: RunStatus;
  label: string | null;
  tags: string[];
  input: unknown;
  output: unknown;
  runError: RunErrorInfo | null;
  createdBy: string;
  runOwner: string;
  runAs: string | null;
  /**
   * Who published the event that started this run (`source` is `event`); null for a run not
   * started by an event, or by one that trusted code published. The run never acts as them.
   */
  triggeredBy: string | null;
  source: string;
  sessionId: string | null;
  parentRunId: string | null;
  rootRunId: string;
  /**
   * The run tree it belongs to: the id of its top ancestor across calls and launches alike (its
   * own id for a run nobody started from a flow). Budgets (`maxRunsPerTree`) and tree cancels go by it.
   */
  treeId: string;
  /** True for a run started fire-and-forget (launch / START_FLOW_EXECUTION / async call). */
  detached: boolean;
  depth: number;
  monitors: PrincipalSet;
  managers: PrincipalSet;
  startTime: number;
  endTime: number | null;
  updatedAt: number;
  timeoutMs: number | null;
  deadline: number | null;
  /** Monotonic count of recorded transitions; optimistic concurrency for writers. */
  version: number;
  /** Sequence number of the run's last persisted event (0 before any). */
  lastSeq: number;
  /** When the run may next be claimed; null while it waits to be woken (by a child, an event, …). */
  readyAt: number | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  /** Increases with every claim; a writer whose token is stale has lost the run. */
  fencingToken: number;
  state: RunState;
  /**
   * The W3C trace context of the run's span (core/tracing.ts), recorded at creation when a tracer
   * records it; absent otherwise and on runs recorded before it existed. Every execution of the
   * run, in any process, continues that trace.
   */
  traceContext?: { traceparent: string; tracestate?: string };
  /**
   * Set only on a run a listing returns although its stored data could not be read (corrupt or
   * unparsable JSON): the row's own columns are shown, its data (input, output, state, roles) is
   * left empty, and reading the run itself fails with this code.
   */
  dataError?: { code: 'RUN_DATA_UNREADABLE'; message: string };
}

/**
 * The fields of a run chosen when it is created. `endTime`, `output` and `runError` are set only on
 * a run created already ended (status SUCCEEDED or FAILED, no lease): one whose first steps only
 * computed from its own state and ended it, before anything of it was stored (run-creation.ts).
 */
export type NewRun = Omit<
  RunRecord,
  'version' | 'lastSeq' | 'leaseOwner' | 'leaseExpiresAt' | 'fencingToken' | 'updatedAt' | 'endTime' | 'output' | 'runError'
> &
  Partial<Pick<RunRecord, 'endTime' | 'output' | 'runError'>>;

/**
 * When a new run's creation is recorded: its events and `updatedAt` are stamped with it. A run
 * created already ended was written at its end (its first steps ran before the write); any other, at its start.
 */
export function creationRecordedAt(run: Pick<NewRun, 'startTime' | 'endTime'>): number {
  return run.endTime ?? run.startTime;
}

/** A log entry: the human-readable history of a run. */
export interface LogEntry {
  time: number;
  code: string;
  description: string;
  details?: Record<string, unknown>;
}

/** An item a run produces for its audience. */
export interface Item {
  id: string;
  type: string;
  status: 'in_progress' | 'done';
  content: unknown;
  transient: boolean;
  runId: string;
  stepId?: string;
  createdAt: number;
  updatedAt: number;
}

/** A ledger entry: one control-flow dispatch and where it came from. */
export interface LedgerEntry {
  time: number;
  kind: 'run' | 'goto' | 'launch' | 'decide' | 'call' | 'governance';
  from: { flowId: string; graph: string; stepId: string; source?: { file?: string; line: number; column?: number } };
  to: Record<string, unknown>;
}

/** The events of a run, in the order they happened; what watchers and SSE streams see. */
export type RunEventBody =
  | { kind: 'status'; status: RunStatus; error?: RunErrorInfo; output?: unknown }
  | { kind: 'log'; entry: LogEntry }
  | { kind: 'item'; change: 'added' | 'updated' | 'done'; item: Item }
  | { kind: 'ledger'; entry: LedgerEntry }
  | { kind: 'output'; name: string; value: unknown };

/** A persisted event: its body plus the run and a per-run sequence number starting at 1. */
export type RunEvent = RunEventBody & { runId: string; seq: number; time: number };
