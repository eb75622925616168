/**
 * The options and results of the client's operations (seed 003, in camelCase). Records are the
 * engine's own types as the server sends them in JSON (a run is a {@link Run}).
 */
import type { ScheduleView } from '../core/engine/schedules/engine-schedules.js';
import type { ScheduleInput, ScheduleOutcome as CoreScheduleOutcome } from '../core/schedule.js';
import type { FlowError } from '../core/errors.js';
import type { LiveRunEvent } from '../core/engine/types.js';
import type { FlowDefinition, FlowSourceText, FlowVersionRecord } from '../core/model.js';
import type { LogEntry, RunRecord, RunStatus } from '../core/run.js';
import type { FlowSummary } from '../core/store.js';
import type { ActionInput, ActionName, ActionOutput, DefaultActionName, InputField, IsTypedFlow } from '../core/flow-types.js';

export type { FlowDefinition, FlowSourceText, FlowSummary, FlowVersionRecord, LiveRunEvent, LogEntry, RunStatus };
export type { ActionInput, ActionName, ActionOutput, DefaultActionName, IsTypedFlow };

/**
 * A run as the server sends it: the engine's run record without its execution state and lease
 * bookkeeping (`state`, `version`, `readyAt`, `leaseOwner`, `leaseExpiresAt`, `fencingToken`).
 * `O` is a successful run's output (`ActionOutput<typeof flow>` from a typed `runFlow` or
 * `waitForRun`; `unknown` otherwise): test `status === 'SUCCEEDED'` to read it typed.
 */
export type Run<O = unknown> = RunFields & ({ status: 'SUCCEEDED'; output: O } | { status: Exclude<RunStatus, 'SUCCEEDED'>; output: unknown });

/** The fields of a {@link Run} besides its `status` and `output`, which `O` types together. */
export type RunFields = Omit<RunRecord, 'state' | 'leaseOwner' | 'leaseExpiresAt' | 'fencingToken' | 'readyAt' | 'version' | 'status' | 'output'> & {
  /** The flow definition's `title` (when it has one and you may see the flow). */
  flowTitle?: string;
  /** The flow definition's `description` (when it has one and you may see the flow). */
  flowDescription?: string;
  /** `createdBy` for people: its display name, else its id. */
  createdByString?: string;
  /** `runOwner` for people: its display name, else its id. */
  runOwnerString?: string;
  /** A live run (not ended): its frame stack, bottom first — each frame's graph and the step it executes or waits at. */
  frames?: { graph: string; at: string | null; attempt: number; waitingForRunId?: string }[];
  /** An INACTIVE run: what it waits for (an approval, a timer, an event), at which step, since when. */
  suspension?: { kind: 'approval' | 'timer' | 'event'; stepId: string; graph: string; since: number; reason?: string; event?: string; until?: number };
  /** Listings with `childCounts: true`: the child runs you may read, among its first 20 (oldest first). */
  childCount?: number;
  /** With `childCount`: true when the run has more than 20 children (`childCount` is then a lower bound). */
  childCountIsEstimate?: boolean;
  /** The definition the run executes: only from `getRun(id, {includeFlowDefinition: true})`, when you may see the flow. */
  flowDefinition?: FlowDefinition;
};

/** Options of `createClient`. */
export interface ClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8080` or `https://example.com/api/flowrun`. */
  baseUrl: string;
  /** An API token (`frt_…`), sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** The fetch to use: default the global one. A router's `fetch` works too (no port, for tests). */
  fetch?: (request: Request) => Promise<Response>;
  /** Headers added to every request (a JWT of your identity provider, tracing headers). */
  headers?: Record<string, string>;
  /**
   * Longest wait for one answer, in ms; past it the call rejects with TIMEOUT. Default: no limit.
   * Not applied to `watchRun`'s stream, nor to `runFlow` with `wait: true`.
   */
  timeoutMs?: number;
}

/** A time bound: epoch milliseconds, a Date, or an ISO 8601 string. */
export type TimeValue = number | Date | string;

/** A range of times: `from` inclusive, `to` exclusive; either may be left open. */
export interface TimeRange {
  from?: TimeValue;
  to?: TimeValue;
}

/** Options of `runFlow` (seed 003's RunRequest). */
export interface RunFlowOptions {
  /** The flow to start; with `flow` instead, its `id`. */
  flowId: string;
  /** A flow definition (as `defineFlow` returns it) whose `id` is the flow to start: types `action`, `input` and the run's output. */
  flow?: FlowDefinition;
  /** The action to run; default `main`. */
  action?: string;
  /** A version number, `LATEST_PUBLISHED` or `LATEST`; default the published version, else the latest. */
  version?: number | 'LATEST_PUBLISHED' | 'LATEST';
  input?: unknown;
  label?: string;
  tags?: string[];
  /** Users who may read the run (status, logs, stream). */
  runMonitoringBy?: string[];
  runMonitoringGroups?: string[];
  /** Users who may also update and cancel it. */
  runManagingBy?: string[];
  runManagingGroups?: string[];
  /** A service account to run as (the caller needs act-as on it). */
  runAs?: string;
  /** The run id to use (a UUID); a second start with the same id is a CONFLICT. */
  requestId?: string;
  /** Starting twice with one key returns the first run instead of starting another. */
  idempotencyKey?: string;
  /** Answer only when the run has ended (the server holds the request open). */
  wait?: boolean;
}

/** The id of a flow written with `defineFlow` (its literal `id`), or `string`. */
export type FlowIdOf<F> = F extends { id: infer I extends string } ? I : string;

/**
 * {@link RunFlowOptions} typed by a flow `F` and action `A`: give the definition itself as `flow`
 * (only its `id` is sent), or its type as a type argument with `flowId`
 * (`runFlow<typeof refund>({flowId: 'billing/refund', input})`, `runFlow<typeof refund, 'audit'>` for
 * another action); `action` and `input` are then checked by the compiler. Without either, `flowId`
 * is any string and `input` is `unknown`, checked by the server.
 */
export type TypedRunFlowOptions<F, A extends ActionName<F>> = Omit<RunFlowOptions, 'flowId' | 'action' | 'input'> & { action?: A } & InputField<F, A> &
  (IsTypedFlow<F> extends true ? { flow: F; flowId?: FlowIdOf<F> } | { flow?: undefined; flowId: FlowIdOf<F> } : { flow: F; flowId?: string } | { flow?: undefined; flowId: string });

/** Seed 003 also names the order fields in snake case. */
export type RunOrderBy = 'startTime' | 'endTime' | 'start_time' | 'end_time';

/** Filters, order and page of `listRuns` (seed 003's ListRunsOptions). */
export interface ListRunsOptions {
  /** Page size (the server caps it). */
  limit?: number;
  /** The `marker` of the previous page. */
  marker?: string | null;
  /** Skip this many runs first (after `marker`, if given); at most 10,000 — deeper pages take markers. */
  offset?: number;
  /** `true`: page by marker alone — the server counts no `total` and refuses `offset`. */
  markerOnly?: boolean;
  flowId?: string;
  status?: RunStatus | RunStatus[];
  /**
   * Runs started within the range, or — seed 003's form — on or after this day or time
   * (`"2023-01-01"`: from that day's first instant, UTC unless an offset follows, `"2023-01-01+02:00"`).
   */
  startTime?: TimeRange | TimeValue;
  /** Runs ended within the range, or on or before this day (up to its last instant) or time. */
  endTime?: TimeRange | TimeValue;
  /** Runs whose label contains this text. */
  label?: string;
  /** Runs carrying every one of these tags. */
  tags?: string[];
  /** Runs a schedule started. */
  scheduleId?: string;
  parentRunId?: string;
  /** Only runs without a parent (roots of run trees, launched runs, event runs); excludes `parentRunId`. */
  rootsOnly?: boolean;
  /** Each run carries `childCount`: its child runs you may read (see {@link Run.childCount}). */
  childCounts?: boolean;
  orderBy?: RunOrderBy;
  orderDir?: 'asc' | 'desc';
}

/** A page of runs; pass `marker` back for the next one while `hasNextPage`. */
export interface RunList {
  runs: Run[];
  hasNextPage: boolean;
  marker: string | null;
  /** Runs matching the filter that you may read (absent with `markerOnly`). */
  total?: number;
  /** True when `total` is an estimate (many runs matched; see the README's listing notes). */
  totalIsEstimate?: boolean;
}

/** A page of a run's log entries; `total` counts all of them. */
export interface RunLogPage {
  entries: LogEntry[];
  total: number;
}

/** Options of `waitForRun`. */
export interface WaitForRunOptions {
  /** Time between two polls; default 1,000 ms. */
  pollIntervalMs?: number;
  /** Aborting stops waiting with CANCELED (the run goes on). */
  signal?: AbortSignal;
  /** Stop waiting with TIMEOUT after this long (the run goes on). */
  timeoutMs?: number;
}

/** Options of `watchRun`. */
export interface WatchRunOptions {
  /** Start after this event sequence number (the last one seen); default from the first event. */
  afterSeq?: number;
  /** Aborting ends the iteration quietly. */
  signal?: AbortSignal;
  /** Pause before reconnecting a dropped stream; default 250 ms, doubled per failed attempt up to 5 s. */
  reconnectDelayMs?: number;
  /** Failed reconnections in a row before giving up with NETWORK_ERROR; default 10. */
  maxReconnects?: number;
}

/** One item's outcome in a batch: the run, or the error of that item alone. */
export type BatchResult = { run: Run; error?: undefined } | { run?: undefined; error: FlowError };

/** One item's outcome in a batch over run ids, with the id it was about. */
export type BatchRunResult = BatchResult & { runId: string };

/** Options of `batchRunFlows`. */
export interface BatchRunFlowsOptions {
  runs: Omit<RunFlowOptions, 'wait'>[];
  /** Items the server works on at once. */
  concurrency?: number;
}

/** Options of `batchGetRuns` and `batchCancelRuns`. */
export interface BatchRunsOptions {
  runIds: string[];
  concurrency?: number;
}

/** Options of `publishEvent`. */
export interface PublishEventOptions {
  name: string;
  payload?: unknown;
  /** Publishing one event id twice starts its subscribers once. */
  eventId?: string;
}

/** What `publishEvent` did: the runs it started, the waiting runs it resumed, the subscribers it skipped. */
export interface PublishedEventResult {
  eventId: string;
  /** The runs this event started, one per subscription (the same ones for a repeated eventId). */
  runIds: string[];
  /** The waiting runs (WAIT on this event) it resumed, among those the caller may read. */
  resumedRunIds: string[];
  /** Subscribers of flows the caller may see that did not start, with the refusal's code and message; publishing again retries them. */
  skipped: { flowId: string; flowVersion: number; subscription: string; code: string; message: string }[];
}

/** Options of `approve` and `reject`. */
export interface DecisionOptions {
  stepId: string;
  comment?: string;
}

/** A run waiting for an approval you may decide (`listApprovals`). */
export interface PendingApproval {
  run: Run;
  /** The step to name in `approve` / `reject`. */
  stepId: string;
  /** The graph of the step: `action:<name>` or `subflow:<name>`. */
  graph: string;
  stepType?: string;
  /** Where the step is written, for flows compiled from `.flow` files. */
  source?: { file?: string; line: number; column?: number };
  /** The governance policy's reason for asking. */
  reason?: string;
  /** When the run started waiting (ms since the epoch). */
  since: number;
}

/** A page of pending approvals; pass `marker` back for the next one while `hasNextPage`. */
export interface ApprovalList {
  approvals: PendingApproval[];
  hasNextPage: boolean;
  marker: string | null;
}

/** A schedule as the server shows it: its fields, state, next fire times, recent runs and skipped slots. */
export type Schedule = ScheduleView;
/** One thing that happened to a slot: a run started (and its outcome), or a skip and why. */
export type ScheduleOutcome = CoreScheduleOutcome;
/** The fields of a schedule to change (`PATCH /schedules/{id}`). */
export type ScheduleChanges = ScheduleInput;
/** A schedule to create: its flow, its spec (`cron` + `timezone` or `every` + `offset`) and policies. */
export type CreateScheduleOptions = ScheduleChanges & { flowId: string; scheduleId?: string; paused?: boolean; note?: string | null };
/** A page of schedules. */
export interface ScheduleList {
  schedules: Schedule[];
  /** Pass as `after` for the next page; null on the last. */
  next: string | null;
}
/** What a trigger or a backfill did. */
export interface ScheduleFired {
  schedule: Schedule;
  outcomes: ScheduleOutcome[];
}
