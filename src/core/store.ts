/**
 * The store contract: every persistence operation the engine needs, in domain words. It lives in
 * core because the engine is written against it; the implementations (memory, SQLite,
 * PostgreSQL) live in `src/store/` and all pass `runStoreConformance`.
 *
 * Every method is one atomic operation. Nothing here keeps hidden in-memory bookkeeping that a
 * second process over the same store could not see.
 */
import type { FlowDefinition, FlowSourceText, FlowVersionRecord } from './model.js';
import type { Item, LogEntry, NewRun, RunEvent, RunEventBody, RunRecord, RunState, RunStatus } from './run.js';
import type { RunErrorInfo } from './errors.js';
import type { PrincipalStore } from './principal-store.js';
import type { StateWrite } from './state-slots.js';
import type { CommitObserver } from './commit-observer.js';
import type { ScheduleStore } from './schedule-store.js';

/** What a backend can do; the engine reads these, never the class. */
export interface StoreCapabilities {
  /** Several processes may share this store (SQLite file, PostgreSQL). */
  isShared: boolean;
  /** Data survives the process. */
  isDurable: boolean;
  /** The store pushes change notifications (LISTEN/NOTIFY); otherwise watchers poll only. */
  hasNotifications: boolean;
  /**
   * A small state is cheaper written whole in the run's row than as slot changes (the row stores);
   * without it the engine always sends slot changes (the memory store, which copies what it keeps).
   */
  writesSmallStatesWhole?: boolean;
}

/** A lease on a run: who holds it and the fencing token that proves it. */
export interface RunLease {
  runId: string;
  owner: string;
  fencingToken: number;
  expiresAt: number;
}

/** A claimed run: the record and the lease under which it may be written. */
export interface ClaimedRun {
  run: RunRecord;
  lease: RunLease;
}

/** The fields of a run a transition may change. */
export interface RunPatch {
  status?: RunStatus;
  state?: RunState;
  output?: unknown;
  runError?: RunErrorInfo | null;
  endTime?: number | null;
  readyAt?: number | null;
}

/**
 * One transition of a run, recorded atomically: the run's new fields, its events (log entries,
 * items, ledger entries, status and output changes), runs it creates (child runs, launches) and
 * runs it wakes (a parent waiting on this child). Nothing of it is visible until all of it is.
 */
export interface Transition {
  runId: string;
  lease: { owner: string; fencingToken: number };
  /** The run's `version` this transition was computed from; a mismatch is a conflict. */
  expectedVersion: number;
  /**
   * The run's tree (`RunRecord.treeId`), when known: a store may share its write capacity between
   * trees by it (SQLite's group commit takes trees' writes in turns). It changes nothing written.
   */
  treeId?: string;
  at: number;
  /**
   * The run's new fields. `state` is the whole new state, live (a store may hand this object
   * back, and derive what it needs from it, but never keeps it): without `stateChanges` the store
   * writes it whole.
   */
  patch: RunPatch;
  /**
   * What the transition changes in the stored state (core/state-slots.ts): the new header and
   * the slots written and deleted — what the store writes instead of the whole `patch.state`,
   * which it requires. A store holding the run's state in the form of an older flowrun (one
   * whole value) writes `patch.state` whole instead, once. Slots of a transition that is refused
   * or repeated are not written. An inline write (`InlineState`) instead writes the small `patch.state`
   * whole in the run's row, deleting the run's slots when it says they may exist.
   */
  stateChanges?: StateWrite;
  events?: RunEventBody[];
  /** Persisted item states (non-transient items), upserted by id. */
  items?: Item[];
  /**
   * Runs started by this transition (child runs, launches), each with its first events and,
   * optionally, a lease for the writer (fencing token 1), so it executes them without a claim.
   */
  createRuns?: { run: NewRun; events: RunEventBody[]; lease?: { owner: string; expiresAt: number } }[];
  /** Runs to make claimable now (their `readyAt` becomes `at`), if they are still ACTIVE. */
  wakeRuns?: string[];
  /**
   * With `wakeRuns`: also lease each woken run that nobody holds (or whose lease ran out) to this
   * owner, fencing token + 1 — the writer resumes the parent it woke without a claim.
   */
  wakeLease?: { owner: string; expiresAt: number };
  /**
   * With `createRuns`: the most runs their tree (`treeId`, shared by every run one transition
   * creates) may hold, root included. The count lives in the store and is checked in the same
   * transaction: a creation past it refuses the whole transition with LIMIT_EXCEEDED (`details:
   * {limit: 'maxRunsPerTree', max, value}`), and one into a canceled tree with CANCELED; either
   * way nothing of the transition is written. Without it only the canceled check applies.
   */
  maxRunsPerTree?: number;
  /** Give the lease back (the run waits, or ended). */
  releaseLease?: boolean;
  /** Extend the lease to this time. */
  leaseExpiresAt?: number;
  /**
   * Events EMIT steps of this transition emitted: kept in the store's outbox, with the
   * transition and only if it is recorded, until {@link Store.deletePendingEmits} removes them
   * once published. An event id already in the outbox keeps its first entry.
   */
  emits?: EmittedEvent[];
}

/** An event an EMIT step emitted, as a transition records it; its id is fixed per step visit. */
export interface EmittedEvent {
  eventId: string;
  event: string;
  payload: unknown;
}

/** An emitted event in the store's outbox: recorded by a run's transition, not yet published. */
export interface PendingEmit extends EmittedEvent {
  /** The run whose transition recorded it. */
  runId: string;
  /** The `at` of that transition. */
  recordedAt: number;
}

/**
 * A run as a transition recorded it: its fields without its `input` (fixed at creation; the
 * caller has it) and with `state` only when the transition carried one (`patch.state`, handed back
 * as that very object) — a transition reads neither back. A repeat of the last transition
 * answers the same way. `wokenRuns`, optional: the records of the runs it woke, whole, as they are
 * right after it (leases included) — a store that has them at no extra cost returns them, so the
 * engine need not read back a parent it resumes; others leave it out.
 */
export type RecordedRun = Omit<RunRecord, 'input' | 'state'> & { state?: RunState; wokenRuns?: RunRecord[] };

/**
 * The name {@link Store.listEventWaiters} takes for the runs waiting for an approval decision (a
 * governed step whose policy asked for approval, nothing decided yet). Not an event name (those
 * start with a letter, a digit or `_`), so no event ever reads or resumes these runs.
 */
export const AWAITING_APPROVAL = '#approval';

/** Filters and order of {@link Store.listRuns}. */
export interface RunFilter {
  flowId?: string;
  status?: RunStatus | RunStatus[];
  /** Inclusive lower and exclusive upper bounds on `startTime`. */
  startTimeFrom?: number;
  startTimeTo?: number;
  endTimeFrom?: number;
  endTimeTo?: number;
  /** Substring of the label. */
  label?: string;
  /** Runs carrying every one of these tags. */
  tags?: string[];
  parentRunId?: string;
  /**
   * Only runs without a parent (`parentRunId` null): the roots of run trees, launched runs and
   * runs started by events included. Served by the order's own index (a store keeps no index
   * entry for root runs in its parent index), reading past the child runs between two roots.
   */
  rootsOnly?: boolean;
  rootRunId?: string;
  orderBy?: 'startTime' | 'endTime';
  orderDir?: 'asc' | 'desc';
  limit?: number;
  /** Opaque marker from a previous page. */
  marker?: string;
}

/**
 * The accounting of one run tree: the runs created in it (root included) and whether it was
 * canceled. A store keeps a row only for trees that created runs or were canceled.
 */
export interface RunTree {
  treeId: string;
  runCount: number;
  canceled: boolean;
}

/** Runs a claim passes over: those of trees or owners that already have their share of an engine's slots. */
export interface ClaimSkip {
  treeIds?: string[];
  runOwners?: string[];
}

/** A page of runs. */
export interface RunPage {
  runs: RunRecord[];
  hasNextPage: boolean;
  marker: string | null;
}

/** A summary of a deployed flow. */
export interface FlowSummary {
  flowId: string;
  latestVersion: number;
  publishedVersion: number | null;
  title?: string;
  updatedAt: number;
}

/** A transient item change sent to other processes: live only, never persisted. */
export interface TransientChange {
  runId: string;
  /** The run's last persisted event when it happened: it belongs right after that one. */
  afterSeq: number;
  /** The engine that sent it (its own listeners already have it). */
  origin: string;
  event: RunEventBody;
}

/**
 * A change notification: run `runId` has events up to `lastSeq` (`runId` is `*` when the store
 * cannot tell which run changed), or — with `transient` — a transient item change of that run.
 */
export interface StoreChange {
  runId: string;
  lastSeq: number;
  transient?: TransientChange;
}

/** The persistence contract of flowrun. */
export interface Store {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  /**
   * Tells `observer` about every batch of writes this store commits (the SQLite and PostgreSQL
   * group commits; the memory store has no batches and no such method); returns the function that stops it.
   */
  observeCommits?(observer: CommitObserver): () => void;
  /** Users, groups, service accounts and act-as grants, in the same database as the runs. */
  readonly principals: PrincipalStore;
  /** Schedules (issue 17), in the same database as the runs they start. */
  readonly schedules: ScheduleStore;

  /** Stores a new immutable version; deploying the same definition as the latest version returns that version. */
  saveFlowVersion(input: { definition: FlowDefinition; deployedBy: string; at: number; source?: FlowSourceText }): Promise<FlowVersionRecord>;
  /** Marks one version published (and no other). Throws NotFoundError when it does not exist. */
  publishFlowVersion(input: { flowId: string; version: number }): Promise<FlowVersionRecord>;
  /** A version by number, `LATEST_PUBLISHED`, or `LATEST`; null when there is none. */
  getFlowVersion(flowId: string, version: number | 'LATEST_PUBLISHED' | 'LATEST'): Promise<FlowVersionRecord | null>;
  listFlows(): Promise<FlowSummary[]>;

  /**
   * Creates a run with its first events. With `lease`, the creator holds it at once (no claim
   * round-trip). Throws ConflictError when `runId` exists. A run created into an existing tree
   * (`treeId !== runId`: an event an EMIT of that tree published starts it) is counted into that
   * tree in the same transaction, like a transition's `createRuns`: past `maxRunsPerTree` it is
   * refused with LIMIT_EXCEEDED (`details: {limit: 'maxRunsPerTree', max, value}`), into a
   * canceled tree with CANCELED, and nothing is written. A run starting its own tree is not counted.
   * The record handed back holds the caller's own `input` and `state` objects, as given (the store
   * keeps its own copy): the creator executes the run without a second copy of either.
   */
  createRun(input: { run: NewRun; events?: RunEventBody[]; lease?: { owner: string; expiresAt: number }; maxRunsPerTree?: number }): Promise<ClaimedRun | { run: RunRecord; lease: null }>;
  /**
   * Creates runs that each start their own tree (`treeId === runId`), unleased (ready to claim),
   * with their first events, as {@link createRun} does one at a time — a burst of fired schedules
   * costs the store a few writes, not one each. A `runId` already taken leaves that run as it is
   * and answers `'exists'` for it (in input order) instead of throwing; any other failure rejects.
   * Each run is created or not on its own: a rejection may leave some of them created.
   */
  createRuns(input: { runs: { run: NewRun; events: RunEventBody[] }[] }): Promise<('created' | 'exists')[]>;
  getRun(runId: string): Promise<RunRecord | null>;
  listRuns(filter: RunFilter): Promise<RunPage>;
  /**
   * How many runs match the filter (its page fields — marker, limit, order — ignored), counting
   * at most `max` (default: all): a bounded `max` bounds the cost at any table size. One snapshot.
   */
  countRuns(filter: RunFilter, options?: { max?: number }): Promise<number>;
  /**
   * Up to `limit` runs waiting at an event WAIT for `event`, in run-id order after `after` (the
   * last run id of the previous page): INACTIVE runs whose last recorded state holds an event
   * suspension for that name that nothing has resumed (no `decision`). The store keeps the name
   * with the run, set and cleared by the same transaction as the state (see store/waiting-event.ts),
   * and reads it through an index, so a page costs the same however many other runs wait on
   * timers or other events. A run is never created waiting: it counts from the transition that
   * records its suspension. Whether a run's `match` fits a payload, and whether the publisher
   * may resume it, is the caller's to check. With `event` {@link AWAITING_APPROVAL}, the INACTIVE
   * runs whose suspension is an undecided approval, the same way (SQLite 13 and PostgreSQL 17
   * fill it for runs already waiting).
   */
  listEventWaiters(input: { event: string; after?: string; limit: number }): Promise<RunRecord[]>;
  /**
   * Claims up to `limit` ACTIVE runs that are ready (`readyAt <= now`) and not leased (or whose
   * lease expired). With `status: 'INACTIVE'`, INACTIVE runs whose `readyAt` is due instead (a WAIT
   * timer, an event wait's timeout): the claimer records the transition that resumes them.
   */
  claimRuns(input: { owner: string; limit: number; now: number; leaseExpiresAt: number; status?: 'ACTIVE' | 'INACTIVE'; skip?: ClaimSkip }): Promise<ClaimedRun[]>;
  /**
   * Claims one given run if it is claimable; null otherwise. With `status: 'INACTIVE'` it claims
   * an INACTIVE run nobody holds (or whose lease expired), whatever its `readyAt`: the engine
   * that resumes a suspended run (an approval, an event) records that transition under this lease.
   */
  claimRun(input: { runId: string; owner: string; now: number; leaseExpiresAt: number; status?: 'ACTIVE' | 'INACTIVE' }): Promise<ClaimedRun | null>;
  /** Extends the leases this owner still holds; returns the ids of those it still holds. */
  renewLeases(input: { owner: string; runIds: string[]; expiresAt: number }): Promise<string[]>;
  /**
   * Records a transition atomically. Throws ConflictError (code LEASE_LOST) when the lease is not
   * held with that fencing token, the run ended, or its version moved on; a duplicate of the
   * last recorded transition is a no-op.
   */
  recordTransition(transition: Transition): Promise<RecordedRun>;
  /**
   * Ends a non-terminal run as CANCELED (with its events), drops its lease so its executor can
   * no longer write, and wakes `wakeRuns`. Returns null when the run had already ended.
   */
  cancelRun(input: { runId: string; at: number; events: RunEventBody[]; runError: RunErrorInfo; wakeRuns?: string[] }): Promise<RunRecord | null>;
  /**
   * Marks a run tree canceled: from the moment this commits, every transition that would create a
   * run in it is refused (CANCELED) in its own transaction, so a cancel racing a launch either sees
   * the launched run or the launch never happens. Idempotent. Resolves with the tree's row.
   */
  markTreeCanceled(input: { treeId: string; at: number }): Promise<RunTree>;
  /** The accounting of a run tree; null when it never created a run and was never canceled. */
  getRunTree(treeId: string): Promise<RunTree | null>;
  /** Changes label and tags. */
  updateRun(input: { runId: string; at: number; label?: string | null; tags?: string[] }): Promise<RunRecord>;

  /** Events of a run after `afterSeq`, in order. */
  getRunEvents(runId: string, options?: { afterSeq?: number; limit?: number; kinds?: RunEvent['kind'][] }): Promise<RunEvent[]>;
  /** Log entries of a run, paginated by position. */
  getRunLogs(runId: string, options?: { limit?: number; offset?: number }): Promise<{ entries: LogEntry[]; total: number }>;
  /** Persisted items of a run (never transient ones), in creation order. */
  getRunItems(runId: string): Promise<Item[]>;

  /**
   * Up to `limit` emitted events still in the outbox that were recorded at or before
   * `recordedBefore`, oldest first (ties by event id). Reading removes nothing.
   */
  listPendingEmits(input: { recordedBefore: number; limit: number }): Promise<PendingEmit[]>;
  /** Removes these events from the outbox (they were published); unknown ids are ignored. */
  deletePendingEmits(eventIds: string[]): Promise<void>;
  /**
   * The store's secret: 32 random bytes created by the first call (on a store of any age) and
   * never changed, the same for every process over the store — concurrent first calls agree on
   * one. The engine derives run ids from it that no user can compute; it never leaves the server.
   */
  getStoreSecret(): Promise<Uint8Array>;

  /** Deletes up to `limit` ended runs that ended before `endedBefore`, with everything of theirs; returns how many. */
  deleteEndedRuns(input: { endedBefore: number; limit: number }): Promise<number>;
  /**
   * Optional: pushes change notifications (PostgreSQL LISTEN/NOTIFY, SQLite data_version
   * polling). A hint only — a lost notification delays a watcher, which also polls, but loses
   * nothing. Resolves to the function that unsubscribes.
   */
  subscribe?(listener: (change: StoreChange) => void): Promise<() => Promise<void>>;
  /**
   * Optional: a number that moves whenever anything a read of this store returns (runs, flows,
   * principals, API tokens — everything) may have changed since the last call: this store's own
   * writes (each moves it before its promise resolves) and commits by any other connection or
   * process. It does not wait for writes still queued: their callers have not been told they happened.
   * Equal numbers from two calls mean every read made between them returned what a read at the
   * second call would, so an answer derived only from reads made after a call may be served again
   * as long as later calls return the same number (the router's cached `GET /runs/{id}` answers).
   * A store that cannot tell cheaply leaves it out.
   */
  readGeneration?(): Promise<number>;
  /**
   * Optional: what {@link readGeneration} would resolve to, when the store can tell without waiting
   * (SQLite: its connection open and no commit being made durable at this moment); undefined when it
   * cannot — the caller then awaits `readGeneration`. The same number with the same guarantees: a
   * cached answer checked against it is served in the request's own turn (the router's `GET /runs/{id}`).
   */
  readGenerationNow?(): number | undefined;
  /**
   * Optional: runs `work` unless another process over this store runs work of the same `name` now
   * (PostgreSQL: a session advisory lock on a connection of its own, released when `work` settles or
   * the process dies). Resolves true when it ran, false when it was skipped. A store without it
   * (SQLite serializes its writers anyway, memory has one process) runs the work everywhere.
   */
  runExclusive?(name: string, work: () => Promise<void>): Promise<boolean>;
  /** Optional: sends a transient change to other processes' subscribers, best effort (PostgreSQL NOTIFY). */
  publishTransient?(change: TransientChange): Promise<void>;
  /**
   * Checks that the store answers: one cheap read on the database (no retry, no cache). Resolves
   * when it does; rejects with STORE_ERROR while it is unreachable or after `close()`. Readiness
   * probes (`GET /ready`) call it.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}
