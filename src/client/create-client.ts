/**
 * The typed client of a flowrun server (seed 003's run operations, in camelCase): start, list,
 * get, update, cancel, logs, wait, watch and batch operations on runs, plus flows, events and
 * approvals. Every failure is a FlowError: the server's own error rebuilt from its code (test
 * `err.code`, or {@link isRunNotFoundError}), NETWORK_ERROR when no answer came, CANCELED when
 * the caller's signal aborted, INVALID_INPUT naming the field for options refused before sending.
 *
 * @example
 * const client = createClient({ baseUrl: 'http://127.0.0.1:8080', token: process.env.FLOWRUN_TOKEN });
 * const run = await client.runFlow({ flowId: 'orders/process', input: { order }, label: 'nightly' });
 * const ended = await client.waitForRun(run.runId, { pollIntervalMs: 500, timeoutMs: 60_000 });
 * for await (const r of client.runs({ status: 'FAILED' })) console.log(r.runId, r.runError?.code);
 */
import { CanceledError, TimeoutError } from '../core/errors.js';
import type {
  FlowSourceText,
  ApprovalList,
  BatchResult,
  BatchRunFlowsOptions,
  BatchRunResult,
  BatchRunsOptions,
  ClientOptions,
  DecisionOptions,
  FlowDefinition,
  FlowSummary,
  FlowVersionRecord,
  ListRunsOptions,
  LiveRunEvent,
  LogEntry,
  PublishEventOptions,
  PublishedEventResult,
  RunFlowOptions,
  TypedRunFlowOptions,
  RunList,
  RunLogPage,
  Run,
  WaitForRunOptions,
  WatchRunOptions,
  CreateScheduleOptions,
  Schedule,
  ScheduleChanges,
  ScheduleFired,
  ScheduleList,
} from './client-types.js';
import type { ActionName, ActionOutput, DefaultActionName } from '../core/flow-types.js';
import { errorFromBody } from './client-errors.js';
import { HttpTransport, invalid, segment } from './http-transport.js';
import { listRunsQuery } from './list-runs-query.js';
import { watchRunStream } from './watch-run-stream.js';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);

/** Creates a client of the flowrun server at `baseUrl`. Nothing is sent until an operation is called. */
export function createClient(options: ClientOptions): FlowClient {
  return new FlowClient(options);
}

/** A client of one flowrun server; see {@link createClient}. Safe to share: it keeps no per-call state. */
export class FlowClient {
  readonly #http: HttpTransport;

  constructor(options: ClientOptions) {
    this.#http = new HttpTransport(options);
  }

  /** The server's base URL, without a trailing slash. */
  get baseUrl(): string {
    return this.#http.baseUrl;
  }

  /** Whether the server answers: `{ok: true}`. */
  async health(): Promise<{ ok: boolean }> {
    return this.#http.json({ method: 'GET', path: '/health' });
  }

  // ---- runs ----

  /**
   * Starts a run and returns its record (status ACTIVE, or its final state with `wait`). A retry
   * with the same `requestId` or `idempotencyKey` cannot start a second run: the first is a
   * CONFLICT, the second returns the run already started.
   */
  async runFlow<F = FlowDefinition, A extends ActionName<F> = DefaultActionName<F> & ActionName<F>>(options: TypedRunFlowOptions<F, A>): Promise<Run<ActionOutput<F, A>>> {
    const untyped = options as RunFlowOptions;
    // With an idempotency key a second send answers the run the first one started.
    const idempotent = typeof untyped?.idempotencyKey === 'string';
    return (await this.#http.json<{ run: Run<ActionOutput<F, A>> }>({ method: 'POST', path: '/runs', body: runBody(untyped, 'runFlow'), idempotent, untimed: untyped.wait === true })).run;
  }

  /** One page of the runs the caller may see. */
  async listRuns(options: ListRunsOptions = {}): Promise<RunList> {
    return this.#http.json<RunList>({ method: 'GET', path: '/runs', query: listRunsQuery(options) });
  }

  /**
   * Every run matching `options`, page after page (`limit` is the page size), fetched lazily as
   * the loop goes: stopping early sends no more requests.
   */
  async *runs(options: ListRunsOptions = {}): AsyncGenerator<Run> {
    let marker = options.marker ?? undefined;
    const { offset: _offset, ...rest } = options;
    for (let first = true; ; first = false) {
      // `offset` applies once; later pages continue from the marker and need no `total`.
      const page = await this.listRuns(first ? options : { ...rest, markerOnly: true, ...(marker ? { marker } : {}) });
      yield* page.runs;
      if (!page.hasNextPage || !page.marker || page.marker === marker) return;
      marker = page.marker;
    }
  }

  /** Every run matching `options`, all pages read into one array. */
  async listAllRuns(options: ListRunsOptions = {}): Promise<Run[]> {
    const all: Run[] = [];
    for await (const run of this.runs(options)) all.push(run);
    return all;
  }

  /** A run by id (with `includeFlowDefinition`, the definition it executes). Throws RUN_NOT_FOUND for an unknown run and for one the caller may not see. */
  async getRun(runId: string, options: { includeFlowDefinition?: boolean } = {}): Promise<Run> {
    const query = options.includeFlowDefinition ? { include: 'flowDefinition' } : undefined;
    return (await this.#http.json<{ run: Run }>({ method: 'GET', path: `/runs/${segment(runId, 'runId')}`, context: { runId }, ...(query ? { query } : {}) })).run;
  }

  /** Changes a run's label and/or tags (managers and owners); returns the updated run. */
  async updateRun(runId: string, changes: { label?: string | null; tags?: string[] }): Promise<Run> {
    if (typeof changes !== 'object' || changes === null) invalid('changes', 'must be {label?, tags?}');
    const body = { ...(changes.label !== undefined ? { label: changes.label } : {}), ...(changes.tags !== undefined ? { tags: changes.tags } : {}) };
    return (await this.#http.json<{ run: Run }>({ method: 'PATCH', path: `/runs/${segment(runId, 'runId')}`, body, context: { runId }, idempotent: true })).run;
  }

  /**
   * Cancels a run and its synchronous children (managers and owners); returns the run. Canceling an
   * ended run changes nothing. With `tree: true`, every run it started is canceled too, launches
   * included, and a root's tree starts no run any more — even an ended root's launched runs stop.
   */
  async cancelRun(runId: string, options: { tree?: boolean } = {}): Promise<Run> {
    if (typeof options !== 'object' || options === null || (options.tree !== undefined && typeof options.tree !== 'boolean')) invalid('options.tree', 'must be a boolean');
    const body = options.tree ? { tree: true } : {};
    return (await this.#http.json<{ run: Run }>({ method: 'POST', path: `/runs/${segment(runId, 'runId')}/cancel`, body, context: { runId }, idempotent: true })).run;
  }

  /** One page of a run's log entries, oldest first. */
  async getRunLogs(runId: string, options: { limit?: number; offset?: number } = {}): Promise<RunLogPage> {
    return this.#http.json<RunLogPage>({
      method: 'GET',
      path: `/runs/${segment(runId, 'runId')}/logs`,
      query: { limit: count(options.limit, 'limit', 1), offset: count(options.offset, 'offset', 0) },
      context: { runId },
    });
  }

  /** Every log entry of a run, `pageSize` per request (default 100), fetched as the loop goes. */
  async *runLogs(runId: string, options: { pageSize?: number } = {}): AsyncGenerator<LogEntry> {
    const limit = count(options.pageSize, 'pageSize', 1) ?? 100;
    let offset = 0;
    for (;;) {
      const page = await this.getRunLogs(runId, { limit, offset });
      yield* page.entries;
      offset += page.entries.length;
      if (page.entries.length === 0 || offset >= page.total) return;
    }
  }

  /** Every log entry of a run in one array. */
  async listAllRunLogs(runId: string, options: { pageSize?: number } = {}): Promise<LogEntry[]> {
    const all: LogEntry[] = [];
    for await (const entry of this.runLogs(runId, options)) all.push(entry);
    return all;
  }

  /** A page of the child runs a run started (calls and launches), oldest first; `marker` from the previous page. */
  async listRunChildren(runId: string, options: { limit?: number; marker?: string; childCounts?: boolean } = {}): Promise<RunList> {
    const query = { limit: count(options.limit, 'limit', 1), marker: options.marker, ...(options.childCounts ? { childCounts: 'true' } : {}) };
    return this.#http.json<RunList>({ method: 'GET', path: `/runs/${segment(runId, 'runId')}/children`, query, context: { runId } });
  }

  /** Every child run a run started (calls and launches), oldest first, all pages. */
  async getRunChildren(runId: string): Promise<Run[]> {
    const all: Run[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.listRunChildren(runId, { limit: 1000, ...(marker !== undefined ? { marker } : {}) });
      all.push(...page.runs);
      if (!page.hasNextPage || page.marker === null) return all;
      marker = page.marker;
    }
  }

  /**
   * A run's persisted events after `afterSeq` (status, log, item, ledger, output), oldest first;
   * with `kinds`, only those (`['ledger']`: the control-flow ledger, `file:line` in `from.source`).
   */
  async getRunEvents(runId: string, options: { afterSeq?: number; limit?: number; kinds?: LiveRunEvent['kind'][] } = {}): Promise<LiveRunEvent[]> {
    const kinds = options.kinds === undefined ? undefined : options.kinds.join(',');
    const query = { afterSeq: count(options.afterSeq, 'afterSeq', 0), limit: count(options.limit, 'limit', 1), ...(kinds ? { kinds } : {}) };
    return (await this.#http.json<{ events: LiveRunEvent[] }>({ method: 'GET', path: `/runs/${segment(runId, 'runId')}/events`, query, context: { runId } })).events;
  }

  /**
   * Polls the run every `pollIntervalMs` (default 1,000) until it ends, and returns its final
   * record — SUCCEEDED, FAILED or CANCELED alike; the run's own error is in `runError`. Rejects
   * with TIMEOUT after `timeoutMs` and CANCELED when `signal` aborts (the run goes on either
   * way), and with the error of a poll that failed (RUN_NOT_FOUND, NETWORK_ERROR, …).
   */
  async waitForRun<O>(run: Run<O>, options?: WaitForRunOptions): Promise<Run<O>>;
  async waitForRun<F = FlowDefinition, A extends ActionName<F> = DefaultActionName<F> & ActionName<F>>(runId: string, options?: WaitForRunOptions): Promise<Run<ActionOutput<F, A>>>;
  async waitForRun(runOrId: string | Run, options: WaitForRunOptions = {}): Promise<Run> {
    const runId = typeof runOrId === 'object' && runOrId !== null ? runOrId.runId : runOrId;
    const pollIntervalMs = count(options.pollIntervalMs, 'pollIntervalMs', 1) ?? 1_000;
    const timeoutMs = count(options.timeoutMs, 'timeoutMs', 0);
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    const { signal } = options;
    for (;;) {
      if (signal?.aborted) throw new CanceledError(`waiting for run ${runId} was aborted`, { runId, cause: signal.reason });
      const run = await this.#http.json<{ run: Run }>({ method: 'GET', path: `/runs/${segment(runId, 'runId')}`, context: { runId }, ...(signal ? { signal } : {}) });
      if (TERMINAL.has(run.run.status)) return run.run;
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`run ${runId} did not end within ${timeoutMs} ms`, { runId });
      if (!(await pause(Math.min(pollIntervalMs, left), signal))) throw new CanceledError(`waiting for run ${runId} was aborted`, { runId, cause: signal?.reason });
    }
  }

  /**
   * The run's live events over Server-Sent Events — status changes, log entries, items (transient
   * ones included), ledger entries, output snapshots — ending after the terminal status. A dropped
   * connection is resumed from the last event seen, with no loss and no duplicate. A run that is
   * not recorded yet (a job is starting it with this requestId) is waited for by the server, up to
   * its `maxWatchWaitMs` budget (default 5 s); then the watch throws RUN_NOT_FOUND, as it does for
   * a run the caller may not read.
   *
   * @example
   * for await (const event of client.watchRun(run.runId)) if (event.kind === 'log') console.log(event.entry.description);
   */
  watchRun(runId: string, options: WatchRunOptions = {}): AsyncGenerator<LiveRunEvent> {
    return watchRunStream(this.#http, runId, options);
  }

  /** Starts many runs, at most `concurrency` at once on the server; one result per item, in input order. */
  async batchRunFlows(options: BatchRunFlowsOptions): Promise<BatchResult[]> {
    if (!Array.isArray(options?.runs)) invalid('runs', 'must be an array of runFlow options');
    const runs = options.runs.map((run, i) => runBody(run, `runs[${i}]`));
    return this.#batch('/runs/batch/start', { runs, ...concurrency(options.concurrency) });
  }

  /** Reads many runs; one result per id, in input order (`{error}` RUN_NOT_FOUND for unknown or invisible ones). */
  async batchGetRuns(options: BatchRunsOptions): Promise<BatchRunResult[]> {
    const runIds = runIdList(options);
    return withRunIds(await this.#batch('/runs/batch/get', { runIds, ...concurrency(options.concurrency) }), runIds);
  }

  /** Cancels many runs; one result per id, in input order. */
  async batchCancelRuns(options: BatchRunsOptions): Promise<BatchRunResult[]> {
    const runIds = runIdList(options);
    return withRunIds(await this.#batch('/runs/batch/cancel', { runIds, ...concurrency(options.concurrency) }), runIds);
  }

  async #batch(path: string, body: Record<string, unknown>): Promise<BatchResult[]> {
    const { results } = await this.#http.json<{ results: { run?: Run; error?: { code: string; message?: string; details?: Record<string, unknown> } }[] }>({
      method: 'POST',
      path,
      body,
      // Reading and canceling again change nothing more; starting again would start more runs.
      idempotent: path !== '/runs/batch/start',
    });
    return results.map((result): BatchResult => (result.error ? { error: errorFromBody(result.error) } : { run: result.run! }));
  }

  // ---- approvals ----

  /** Approves the approval step `stepId` of a waiting run; returns the run. */
  async approve(runId: string, options: DecisionOptions): Promise<Run> {
    return this.#decide(runId, 'approve', options);
  }

  /** Rejects the approval step `stepId` of a waiting run; returns the run. */
  async reject(runId: string, options: DecisionOptions): Promise<Run> {
    return this.#decide(runId, 'reject', options);
  }

  /**
   * A page of the runs waiting for an approval you may decide (you may manage them), oldest first:
   * each with the step to name in {@link approve} / {@link reject}, the policy's reason and since
   * when it waits. Runs you may not decide are left out without a trace.
   */
  async listApprovals(options: { limit?: number; marker?: string } = {}): Promise<ApprovalList> {
    const query = { limit: count(options.limit, 'limit', 1), marker: options.marker };
    return this.#http.json<ApprovalList>({ method: 'GET', path: '/approvals', query });
  }

  async #decide(runId: string, decision: 'approve' | 'reject', options: DecisionOptions): Promise<Run> {
    if (typeof options?.stepId !== 'string' || options.stepId === '') invalid('stepId', 'must be the id of the approval step');
    const body = { stepId: options.stepId, ...(options.comment !== undefined ? { comment: options.comment } : {}) };
    return (await this.#http.json<{ run: Run }>({ method: 'POST', path: `/runs/${segment(runId, 'runId')}/${decision}`, body, context: { runId } })).run;
  }

  // ---- flows and events ----

  /**
   * Deploys a flow definition as its next version (published with `publish: true`). `warnings`
   * (when there are any) lists what is probably wrong but was deployed, such as calls of flows not
   * deployed yet; a call that does not fit the flow it calls is refused (INVALID_DEFINITION).
   * `source`: the `.flow` text the definition was compiled from, kept with the version and
   * answered by {@link getFlow} (at most 256 KiB; not compiled again by the server).
   */
  async deployFlow(definition: FlowDefinition, options: { publish?: boolean; source?: FlowSourceText } = {}): Promise<{ id: string; version: number; warnings?: { path: string; message: string }[] }> {
    if (typeof definition !== 'object' || definition === null) invalid('definition', 'must be a flow definition object');
    const extra = { ...(options.publish !== undefined ? { publish: options.publish } : {}), ...(options.source !== undefined ? { source: options.source } : {}) };
    return this.#http.json({ method: 'POST', path: '/flows', body: { definition, ...extra } });
  }

  /** Makes `version` the published version of a flow. */
  async publishFlow(flowId: string, version: number): Promise<{ id: string; version: number }> {
    if (!Number.isInteger(version) || version < 1) invalid('version', `must be a version number (1, 2, …), got ${JSON.stringify(version)}`);
    return this.#http.json({ method: 'POST', path: `/flows/${segment(flowId, 'flowId')}/publish`, body: { version } });
  }

  /** The flows the caller may see, with their latest and published versions. */
  async listFlows(): Promise<FlowSummary[]> {
    return (await this.#http.json<{ flows: FlowSummary[] }>({ method: 'GET', path: '/flows' })).flows;
  }

  /** One version of a flow: a number, `LATEST_PUBLISHED` or `LATEST`; default the published one, else the latest. */
  async getFlow(flowId: string, options: { version?: number | 'LATEST_PUBLISHED' | 'LATEST' } = {}): Promise<FlowVersionRecord> {
    return (await this.#http.json<{ flow: FlowVersionRecord }>({ method: 'GET', path: `/flows/${segment(flowId, 'flowId')}`, query: { version: options.version } })).flow;
  }

  /**
   * Publishes an event: every flow subscribed to `name` starts once per event id, and runs waiting
   * for it resume. Returns the event's id, the runs started, the runs resumed and the subscribers
   * skipped with why (an older server that does not report the last two answers empty lists).
   */
  async publishEvent(options: PublishEventOptions): Promise<PublishedEventResult> {
    if (typeof options?.name !== 'string' || options.name === '') invalid('name', 'must be the event name');
    const body = { name: options.name, ...(options.payload !== undefined ? { payload: options.payload } : {}), ...(options.eventId !== undefined ? { eventId: options.eventId } : {}) };
    const answer = await this.#http.json<Partial<PublishedEventResult> & { eventId: string; runIds: string[] }>({ method: 'POST', path: '/events', body });
    return { ...answer, resumedRunIds: answer.resumedRunIds ?? [], skipped: answer.skipped ?? [] };
  }

  /** Creates a schedule of a flow's action (`POST /schedules`); its runs start as the caller or its `runAs`. */
  async createSchedule(schedule: CreateScheduleOptions): Promise<Schedule> {
    if (typeof schedule?.flowId !== 'string' || schedule.flowId === '') invalid('flowId', 'must be the id of the flow to schedule');
    return (await this.#http.json<{ schedule: Schedule }>({ method: 'POST', path: '/schedules', body: schedule })).schedule;
  }

  /** A page of the schedules the caller may manage, in id order (`after`: the previous page's `next`). */
  async listSchedules(options: { flowId?: string; after?: string; limit?: number } = {}): Promise<ScheduleList> {
    return this.#http.json<ScheduleList>({ method: 'GET', path: '/schedules', query: { flowId: options.flowId, after: options.after, limit: count(options.limit, 'limit', 1) } });
  }

  /** A schedule with its next `next` fire times (default 5), recent runs and skipped slots. SCHEDULE_NOT_FOUND, also for one the caller may not manage. */
  async getSchedule(scheduleId: string, options: { next?: number } = {}): Promise<Schedule> {
    return (await this.#http.json<{ schedule: Schedule }>({ method: 'GET', path: `/schedules/${segment(scheduleId, 'scheduleId')}`, query: { next: count(options.next, 'next', 0) } })).schedule;
  }

  /** Changes a schedule's fields; those not given stay. */
  async updateSchedule(scheduleId: string, changes: ScheduleChanges): Promise<Schedule> {
    return (await this.#http.json<{ schedule: Schedule }>({ method: 'PATCH', path: `/schedules/${segment(scheduleId, 'scheduleId')}`, body: changes })).schedule;
  }

  /** Pauses a schedule with a note. */
  async pauseSchedule(scheduleId: string, options: { note?: string } = {}): Promise<Schedule> {
    return (await this.#http.json<{ schedule: Schedule }>({ method: 'POST', path: `/schedules/${segment(scheduleId, 'scheduleId')}/pause`, body: { note: options.note ?? null } })).schedule;
  }

  /** Resumes a paused schedule from now. */
  async resumeSchedule(scheduleId: string): Promise<Schedule> {
    return (await this.#http.json<{ schedule: Schedule }>({ method: 'POST', path: `/schedules/${segment(scheduleId, 'scheduleId')}/resume` })).schedule;
  }

  /** Starts a run of the schedule now, through its overlap policy. */
  triggerSchedule(scheduleId: string): Promise<ScheduleFired> {
    return this.#http.json<ScheduleFired>({ method: 'POST', path: `/schedules/${segment(scheduleId, 'scheduleId')}/trigger` });
  }

  /** Fires the schedule's slots in [`from`, `to`] (ms or ISO 8601), through its overlap policy; slots that ran start nothing new. */
  backfillSchedule(scheduleId: string, range: { from: number | string; to: number | string }): Promise<ScheduleFired> {
    return this.#http.json<ScheduleFired>({ method: 'POST', path: `/schedules/${segment(scheduleId, 'scheduleId')}/backfill`, body: { from: range.from, to: range.to } });
  }

  /** Deletes a schedule; the runs it started stay. */
  async deleteSchedule(scheduleId: string): Promise<void> {
    await this.#http.json({ method: 'DELETE', path: `/schedules/${segment(scheduleId, 'scheduleId')}` });
  }
}

/** The body of a start request, checked: the fields the server takes, nothing else. */
function runBody(given: RunFlowOptions, path: string): Record<string, unknown> {
  if (typeof given !== 'object' || given === null) invalid(path, 'must be {flowId, input?, …}');
  // A definition given as `flow` names the flow by its id; nothing else of it is sent.
  const options = given.flowId === undefined && typeof given.flow?.id === 'string' ? { ...given, flowId: given.flow.id } : given;
  if (typeof options.flowId !== 'string' || options.flowId === '') invalid(`${path === 'runFlow' ? '' : `${path}.`}flowId`, `must be a flow id, got ${JSON.stringify(options.flowId)}`);
  const body: Record<string, unknown> = {};
  for (const key of START_FIELDS) if (options[key] !== undefined) body[key] = options[key];
  return body;
}

const START_FIELDS = [
  'flowId',
  'action',
  'version',
  'input',
  'label',
  'tags',
  'runMonitoringBy',
  'runMonitoringGroups',
  'runManagingBy',
  'runManagingGroups',
  'runAs',
  'requestId',
  'idempotencyKey',
  'wait',
] as const satisfies readonly (keyof RunFlowOptions)[];

function runIdList(options: BatchRunsOptions): string[] {
  if (!Array.isArray(options?.runIds)) invalid('runIds', 'must be an array of run ids');
  options.runIds.forEach((id, i) => segment(id, `runIds[${i}]`));
  return options.runIds;
}

function withRunIds(results: BatchResult[], runIds: string[]): BatchRunResult[] {
  return results.map((result, i) => ({ ...result, runId: runIds[i]! }));
}

function concurrency(value: number | undefined): { concurrency?: number } {
  const checked = count(value, 'concurrency', 1);
  return checked === undefined ? {} : { concurrency: checked };
}

/** A whole number ≥ `min`, or undefined when not given. */
function count(value: number | undefined, field: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min) invalid(field, `must be a whole number ≥ ${min}, got ${JSON.stringify(value)}`);
  return value;
}

/** Waits `ms`; false when `signal` aborted first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
