/**
 * The engine: deploys flows, starts runs, executes them (in this process, under leases taken in
 * the store), and answers questions about them. Several engines may share one store; each run is
 * executed by one of them at a time.
 *
 * The engine's rooms, each a folder whose main file says what lives there and what it may import:
 * start/ (check, resolve, authorize, build a run), execution/ (executor, scheduler, leases, cancel,
 * retention), steps/ (what each step type does), calls/ (subflows, child runs, launches, return
 * mappings), governance/ (policy and approvals), events/ (publish, outbox, suspended runs resumed),
 * live/ (live events, watchers, waiters, streamed outputs), schedules/ (schedules fired on the engine clock) and access/ (permissions, principals).
 * Beside this file: engine-core.ts (the engine as executors and steps see it), types.ts (public
 * options and results) and run-action.ts (seed 002's runAction on top of the public API). This
 * file composes them and is the only one that imports every room.
 */
import { resolveBudgets, type Budgets } from '../budgets.js';
import type { Clock, IdSource } from '../clock.js';
import { FlowError, NotFoundError, ValidationError, type ConflictError } from '../errors.js';
import { type FlowDefinition, type FlowVersionRecord, type SubflowDefinition } from '../model.js';
import type { NewRun, RunEventBody, RunRecord } from '../run.js';
import type { EmittedEvent, FlowSummary, RecordedRun, RunFilter, Store } from '../store.js';
import { checkMaxNestingDepth, nestingIssue } from '../json-depth.js';
import { sealJson } from '../seal-json.js';
import { sealInput } from '../sealed-text.js';
import { type BuildRunInput, type CreatedRun, type EngineCore, type FlushableRun, type LiveRunRef } from './engine-core.js';
import { LiveEvents, type LiveListener } from './live/live-events.js';
import { RunExecutor } from './execution/run-executor.js';
import { buildNewRun } from './start/build-run.js';
import { RunStarts } from './execution/run-starts.js';
import { prepareStart } from './start/start-run.js';
import { deployFlowVersion, type DeployedFlow, type DeployOptions } from './start/deploy-flow.js';
import { RunWaiters } from './live/run-waiters.js';
import { runActionOn } from './run-action.js';
import { toModules } from './define-module.js';
import { RunScheduler } from './execution/run-scheduler.js';
import { cancelRunTree, type CancelDeps } from './execution/cancel-run.js';
import { RetentionSweeper } from './execution/retention.js';
import { FlowCache } from './start/flow-cache.js';
import { LaunchPacer } from './calls/launch-pacer.js';
import { DerivedRunIds } from './start/derived-run-ids.js';
import { EmitOutbox } from './events/event-outbox.js';
import { RunWatching } from './live/run-watching.js';
import { OutputStreams } from './live/output-streams.js';
import { CommittedFanout } from './live/committed-fanout.js';
import { EngineSchedules } from './schedules/engine-schedules.js';
import { AccessControl, principalIdOf, type AccessOptions, type ListingOptions, type PrincipalRef, type RunList } from './access/authorize.js';
import { EnginePrincipals } from './access/engine-principals.js';
import type { ModelResolver } from './steps/model-resolver.js';
import type { GovernancePolicy } from './governance/governance-policy.js';
import { decideApproval, type ApprovalDeps, type ApprovalOptions } from './governance/approvals.js';
import { listPendingApprovals, type ListApprovalsOptions, type PendingApprovalPage } from './governance/pending-approvals.js';
import { publishEvent, type PublishEventOptions, type PublishedEvent } from './events/event-publisher.js';
import { resumeDue, type ResumeDeps } from './events/suspensions.js';
import type { Tracing } from '../tracing.js';
import { EngineObservers, runEndOf } from './engine-observer.js';
import type { ExecutionResult, LiveRunEvent, LogPage, Logger, Module, RunActionOptions, StartRunOptions, TypedRunOptions } from './types.js';
import type { ActionName, ActionOutput, DefaultActionName } from '../flow-types.js';
import type { EngineOptions } from './engine-options.js';

export type { EngineOptions } from './engine-options.js';

/** How long close waits for the emitted events it is publishing; one still in flight then is left to a sweep. */
const CLOSE_PUBLISH_WAIT_MS = 5_000;

/** The flowrun engine. Create it with `createEngine`. */
export class Engine implements EngineCore {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly logger: Logger | undefined;
  readonly observers: EngineObservers;
  readonly modules: Readonly<Record<string, Module>>;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly maxDepth: number;
  readonly maxNestingDepth: number;
  readonly maxHistoryPerRun: number;
  readonly budgets: Budgets;
  readonly modelResolver: ModelResolver | undefined;
  readonly governance: GovernancePolicy | undefined;
  readonly workerId: string;
  readonly tracing: Tracing | undefined;
  readonly principals: EnginePrincipals;
  readonly access: AccessControl;
  readonly launches: LaunchPacer;
  /** Run ids of idempotency keys and events, keyed with the store's secret (read once, cached). */
  readonly derivedRunIds: DerivedRunIds;
  readonly #live: LiveEvents;
  readonly #outbox: EmitOutbox;
  readonly #streams: OutputStreams;
  readonly #fanout: CommittedFanout;
  /** Schedules: records in the store, fired by whichever engine polls first (schedules/engine-schedules.ts). */
  readonly schedules: EngineSchedules;
  readonly #flows: FlowCache;
  readonly #waiters: RunWaiters;
  readonly #watching: RunWatching<PrincipalRef>;
  readonly #retention: RetentionSweeper | null;
  readonly #scheduler: RunScheduler;
  /** New runs set going here or for any engine (execution/run-starts.ts). */
  readonly #starts: RunStarts;
  readonly #leaseMs: number;
  #closed = false;
  readonly #stopObserving: (() => void) | undefined;

  constructor(options: EngineOptions) {
    this.store = options.stores;
    this.clock = options.clock;
    this.ids = options.ids;
    const config = options.runtimeConfig ?? {};
    this.logger = config.logger;
    this.observers = new EngineObservers(options.observers);
    this.modules = toModules({ ...config.modules, ...options.modules });
    this.settings = Object.freeze({ ...config.settings });
    this.maxDepth = config.maxDepth ?? 100;
    this.maxNestingDepth = checkMaxNestingDepth(config.maxNestingDepth);
    this.maxHistoryPerRun = config.maxHistoryPerRun ?? 10_000;
    this.budgets = resolveBudgets(config.budgets);
    this.launches = new LaunchPacer({ launchesPerSecond: this.budgets.maxLaunchesPerSecond, clock: this.clock });
    this.modelResolver = config.modelResolver;
    this.governance = config.governance;
    this.workerId = options.workerId ?? `engine-${this.ids.newId()}`;
    this.tracing = options.tracing;
    this.#stopObserving = this.tracing ? this.store.observeCommits?.(this.tracing) : undefined;
    const pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.#live = new LiveEvents(this.logger);
    this.#streams = new OutputStreams({ store: this.store, clock: this.clock, loadFlow: (id, v) => this.loadFlow(id, v), publishTransient: (run, body) => this.publishTransient(run, body), logger: this.logger });
    this.#fanout = new CommittedFanout({ live: this.#live, streams: this.#streams, store: this.store, workerId: this.workerId, logger: this.logger, now: () => this.clock.now() });
    this.#flows = new FlowCache({ store: this.store, clock: this.clock });
    this.principals = new EnginePrincipals({ store: this.store.principals, clock: this.clock });
    this.derivedRunIds = new DerivedRunIds(() => this.store.getStoreSecret(), this.ids.hmacSha256?.bind(this.ids));
    this.access = new AccessControl({ store: this.store, loadFlow: (id, version) => this.loadFlow(id, version) });
    this.#outbox = new EmitOutbox({
      store: this.store,
      clock: this.clock,
      logger: this.logger,
      publishEvent: (name, payload, options) => this.publishEvent(name, payload, options),
      graceMs: options.leaseMs ?? 30_000,
    });
    this.#scheduler = new RunScheduler({
      store: this.store,
      clock: this.clock,
      logger: this.logger,
      workerId: this.workerId,
      leaseMs: (this.#leaseMs = options.leaseMs ?? 30_000),
      pollIntervalMs,
      maxConcurrentRuns: options.maxConcurrentRuns ?? 256,
      poll: options.poll !== false,
      createExecutor: async (run, lease, creation) => new RunExecutor(this, run, lease, await this.loadFlow(run.flowId, run.flowVersion), creation),
      resumeDue: (claimed) => resumeDue(this.#resumeDeps, claimed),
      sweepOutbox: () => this.#outbox.sweep(),
      leaseLost: (runId) => this.observers.leaseLost({ runId }),
    });
    const { store, clock, logger, budgets } = this;
    this.#starts = new RunStarts({ store, scheduler: this.#scheduler, observers: this.observers, maxRunsPerTree: budgets.maxRunsPerTree, publishCommitted: (run, events) => this.publishCommitted(run, events) });
    this.#watching = new RunWatching<PrincipalRef>({ store, clock, logger, pollIntervalMs, budgets, origin: this.workerId, onRun: (id, l) => this.#live.onRun(id, l), isReadable: (id, as) => this.access.isReadable(id, as), principalId: principalIdOf });
    this.#waiters = new RunWaiters({ store: this.store, clock: this.clock, pollIntervalMs, isRunningHere: (runId) => this.#scheduler.isRunningHere(runId) });
    const createAndExecute = (run: NewRun, events: RunEventBody[]) => this.#starts.createAndExecute(run, events);
    this.schedules = new EngineSchedules({ store, clock, logger, workerId: this.workerId, access: this.access, runIds: this.derivedRunIds, ids: this.ids, loadFlow: (id) => this.loadFlow(id), buildRun: (input) => this.buildRun(input), createAndExecute, runsCreated: (created, at) => this.runsCreated(created, at, { leaveUnleased: options.poll !== false }), holdClaims: (until) => this.#scheduler.holdClaims(until), cancelRunTree: (id, reason) => this.cancelRunTree(id, reason), pollIntervalMs, budgets: () => this.budgets, maxNestingDepth: this.maxNestingDepth });
    if (options.poll !== false && options.schedules !== false) this.schedules.poller.start();
    this.#retention = options.retention ? new RetentionSweeper({ store: this.store, clock: this.clock, policy: options.retention, ...(this.logger ? { logger: this.logger } : {}) }) : null;
    this.#retention?.start();
    if (options.poll !== false) {
      // Another process's commits (a woken parent, an expired lease) are claimed sooner than the next poll.
      // Not for transient changes, nor for runs this engine executes (mostly its own commits).
      this.#watching.onStoreChange((change) => change.transient || this.#scheduler.isRunningHere(change.runId) || this.#waiters.endedHere(change.runId) || this.#scheduler.pollNow());
    }
  }

  /**
   * Validates and stores a flow definition as a new immutable version (deploying the same
   * definition as the latest version returns that version). With `publish`, it becomes
   * `LATEST_PUBLISHED`. Throws ValidationError (INVALID_DEFINITION) listing every problem, calls
   * that do not fit the flows they call included (start/deploy-flow.ts); `warnings` lists calls
   * of flows not deployed yet, checked when they run.
   * `deployedBy` names the principal who deploys it: it administers the flow when the flow names
   * no administrators, its event subscriptions need its subscribe grants, and the runs they start
   * act as it. Without it the version is deployed by trusted in-process code (recorded as '',
   * administered by its named administrators only, subscribed to whatever it names).
   */
  async deployFlow(definition: FlowDefinition, options: DeployOptions = {}): Promise<DeployedFlow> {
    const deployed = await deployFlowVersion({ flows: this.#flows, store: this.store, access: this.access, maxNestingDepth: this.maxNestingDepth }, definition, options);
    await this.schedules.syncFlow(deployed.id); // the version in effect declares the flow's schedules
    return deployed;
  }

  /** Makes a deployed version the published one (`LATEST_PUBLISHED`). */
  async publishFlow(flowId: string, version: number): Promise<{ id: string; version: number }> {
    const record = await this.store.publishFlowVersion({ flowId, version }).finally(() => this.#flows.forget(flowId));
    await this.schedules.syncFlow(flowId);
    return { id: record.flowId, version: record.version };
  }

  /** A deployed flow version (default: published, else latest). Throws FLOW_NOT_FOUND, also when `as` may not see it. */
  async getFlow(flowId: string, version?: number | 'LATEST_PUBLISHED' | 'LATEST', options: AccessOptions = {}): Promise<FlowVersionRecord> {
    return this.access.viewableFlow(await this.loadFlow(flowId, version), options.as, version);
  }

  listFlows(): Promise<FlowSummary[]> {
    return this.store.listFlows();
  }

  loadFlow(flowId: string, version?: number | string): Promise<FlowVersionRecord> {
    return this.#flows.load(flowId, version);
  }

  subflowOf(flow: FlowVersionRecord, name: string): SubflowDefinition {
    const subflow = flow.definition.subflows?.[name];
    if (!subflow) throw new NotFoundError('SUBFLOW_NOT_FOUND', `flow "${flow.flowId}" has no subflow "${name}"`);
    return subflow;
  }

  /**
   * Starts a run and returns its id and its record as first recorded, without its state: ACTIVE, or
   * SUCCEEDED / FAILED when steps within the run ended it at once (run-creation.ts); it goes on here. The run is recorded before this resolves, so it
   * survives a crash from then on. Rejects (and records nothing) on an
   * unknown flow or action (FLOW_NOT_FOUND / ACTION_NOT_FOUND), input that breaks the param schemas
   * (INVALID_INPUT), a requestId already used (CONFLICT), or when `userId` may not start the flow
   * or act as `runAs` (PERMISSION_DENIED; see authorize.ts — without `userId` the caller is trusted).
   */
  async startRun<F extends FlowDefinition | string, A extends ActionName<F> = DefaultActionName<F> & ActionName<F>>(options: TypedRunOptions<StartRunOptions, F, A>): Promise<{ requestId: string; run: Omit<RunRecord, 'state'> }> {
    this.#assertOpen();
    const run = await prepareStart({ flows: this.#flows, access: this.access, maxNestingDepth: this.maxNestingDepth, buildRun: (input) => this.buildRun(input) }, options as StartRunOptions);
    const { state: _state, ...created } = await this.#starts.createAndExecute(run);
    return { requestId: run.runId, run: created };
  }

  /**
   * Starts a run and waits for it to end. Resolves with the result — `error` set when the run
   * failed or was canceled — and rejects only when the run cannot be started or recorded.
   * Aborting `signal` cancels the run.
   */
  runAction<F extends FlowDefinition | string, A extends ActionName<F> = DefaultActionName<F> & ActionName<F>>(options: TypedRunOptions<RunActionOptions, F, A>): Promise<ExecutionResult<ActionOutput<F, A>>> {
    return runActionOn(this, options as RunActionOptions) as Promise<ExecutionResult<ActionOutput<F, A>>>;
  }

  buildRun(input: BuildRunInput): NewRun {
    // One walk each before binding: nesting (deeper values break what walks them), copy, freeze, size.
    const limits = { maxDepth: this.maxNestingDepth, maxBytes: this.budgets.maxStateBytes };
    const sealed = { ...input, input: sealInput(input.input, { path: 'input', ...limits }), event: sealJson(input.event, { path: 'event', ...limits }) };
    return buildNewRun(sealed, { now: this.clock.now(), newRunId: () => this.ids.newRunId(), maxRunDurationMs: this.budgets.maxRunDurationMs, tracing: this.tracing });
  }

  /**
   * Publishes an event: starts the subscribed action or subflow of every deployed flow whose
   * `subscriptions` name it, once per publisher and `eventId` (event-publisher.ts); the runs' `source` is
   * `event` and `event` in their expressions is the payload. Publishing the same id again starts
   * nothing new and answers the same run ids. With `userId`, the permission model applies at
   * delivery (DESIGN.md §6): subscribers it may not start, or whose deployers may not subscribe to
   * the name, are skipped (logged, and listed in `skipped`); waiting runs it may neither manage nor
   * publish the name to stay waiting (logged); started runs act as their flow's deployer or `runAs`.
   */
  publishEvent(name: string, payload?: unknown, options: PublishEventOptions = {}): Promise<PublishedEvent> {
    this.#assertOpen();
    const tooDeep = nestingIssue(payload, { path: 'payload', maxDepth: this.maxNestingDepth });
    if (tooDeep) return Promise.reject(new ValidationError('INVALID_INPUT', [tooDeep], { details: { limit: this.maxNestingDepth } }));
    return publishEvent(
      { ...this.#resumeDeps, ids: this.ids, runIds: this.derivedRunIds, access: this.access, logger: this.logger, loadFlow: (id, v) => this.loadFlow(id, v), buildRun: (input) => this.buildRun(input), createAndExecute: (run, events) => this.#starts.createAndExecute(run, events) },
      name,
      payload,
      options,
    );
  }

  dispatch(runId: string): void {
    this.#scheduler.dispatch(runId);
  }

  leaseForNewRun(run: Pick<NewRun, 'runId' | 'treeId' | 'runOwner'>): { owner: string; expiresAt: number } | null {
    return this.#scheduler.leaseForNewRun(run);
  }

  runsToCreate(runs: NewRun[]): CreatedRun[] {
    return this.#starts.toCreate(runs);
  }

  runsCreated(created: CreatedRun[], at: number, options: { leaveUnleased?: boolean } = {}): void {
    this.#starts.created(created, at, options);
  }

  takeTurn(run: Pick<RunRecord, 'treeId' | 'runOwner'>, stepSeq: number): Promise<boolean> | null {
    return this.#scheduler.takeTurn(run, stepSeq);
  }

  confirmLease(runId: string, executor: { abort(reason: ConflictError): void }): boolean | Promise<boolean> {
    return this.#scheduler.confirmLease(runId, executor);
  }

  executeLeased(runId: string, lease: { owner: string; expiresAt: number }, created?: RunRecord): void {
    this.#scheduler.executeLeased(runId, lease, created);
  }

  scheduleWake(runId: string, at: number, options?: { suspended?: boolean }): void {
    this.#scheduler.scheduleWake(runId, at, options);
  }

  emitted(run: Pick<RunRecord, 'runId' | 'treeId' | 'runAs' | 'createdBy'>, emits: readonly EmittedEvent[]): void {
    this.#outbox.publish(emits.map((emit) => ({ ...emit, runId: run.runId, treeId: run.treeId, publishedBy: run.runAs ?? run.createdBy })));
  }

  scheduleFlush(executor: FlushableRun): void {
    this.#scheduler.scheduleFlush(executor);
  }

  publishCommitted(run: LiveRunRef, events: RunEventBody[], transients: { afterIndex: number; body: RunEventBody }[] = []): void {
    this.#fanout.publish(run, events, transients);
  }

  publishTransient(run: LiveRunRef, event: RunEventBody): void {
    this.publishCommitted(run, [], [{ afterIndex: 0, body: event }]);
  }

  /** Listens to one run's live events (committed ones, and transient items); returns the unsubscribe function. */
  onRunEvent(runId: string, listener: LiveListener): () => void {
    return this.#live.onRun(runId, listener);
  }

  /**
   * Yields the run's events after `afterSeq` as they happen — status changes, log entries, items
   * (transient ones included, from this process or another over a store that carries them),
   * ledger entries and output snapshots — and ends after its terminal status. Works for runs
   * executed by other processes over the same store; reconnecting with the last `seq` seen loses
   * and repeats nothing. A run not recorded yet is waited for up to the `maxWatchWaitMs` budget,
   * then RUN_NOT_FOUND — after the same wait for a run `as` may not read (live/run-watcher.ts).
   * `onAttached` is called once the run is found and watched.
   */
  watchRun(runId: string, options: { afterSeq?: number; signal?: AbortSignal; onAttached?: () => void } & AccessOptions = {}): AsyncGenerator<LiveRunEvent> {
    return this.#watching.watch(runId, options);
  }

  /** Listens to the live events of a run and its synchronous children. */
  onRunTreeEvent(rootRunId: string, listener: LiveListener): () => void {
    return this.#live.onTree(rootRunId, listener);
  }

  /** Listens to the live events of every run this engine executes (the CLI's progress view). */
  onAnyRunEvent(listener: LiveListener): () => void {
    return this.#live.onAll(listener);
  }

  endedRun(runId: string): RunRecord | undefined {
    return this.#waiters.endedRun(runId);
  }

  runEnded(ended: RunRecord & Pick<RecordedRun, 'wokenRuns'>, parentLease?: { owner: string; expiresAt: number }): void {
    // A run that woke nothing (most) is kept as recorded: no rest copy without `wokenRuns` (~0.6 µs, bench/engine-micro.ts).
    const wokenRuns = ended.wokenRuns;
    let run: RunRecord = ended;
    if (wokenRuns !== undefined) {
      run = Object.assign({}, ended);
      delete (run as Partial<typeof ended>).wokenRuns;
    }
    this.#waiters.notify(run);
    if (!this.observers.isEmpty) this.observers.runEnded(runEndOf(run));
    if (!run.parentRunId || run.detached) return;
    const parent = wokenRuns?.find((woken) => woken.runId === run.parentRunId);
    if (parentLease) this.#scheduler.executeLeased(run.parentRunId, parentLease, undefined, parent);
    else this.#scheduler.dispatch(run.parentRunId, run); // a synchronous child's parent is of its tree and owner
  }

  /**
   * Waits until the run ends and returns its record. Rejects with TIMEOUT after `timeoutMs`
   * (the run goes on), CANCELED when `signal` aborts, RUN_NOT_FOUND for an unknown id.
   */
  waitForRun(runId: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RunRecord> {
    return this.#waiters.wait(runId, options);
  }

  /** A run by id. Throws RUN_NOT_FOUND, also when `as` may not read it (every read below takes `as`; listRuns then skips such runs). */
  getRun(runId: string, options: AccessOptions = {}): Promise<RunRecord> {
    return this.access.readableRun(runId, options.as);
  }

  /** A page of the runs `as` may read, optionally after `offset` of them and with their `total` (access/authorize.ts). */
  listRuns(filter: RunFilter = {}, options: ListingOptions = {}): Promise<RunList> {
    return this.access.listRuns(filter, options.as, options);
  }

  /** Log entries of a run, oldest first, paginated by position. Throws RUN_NOT_FOUND. */
  async getRunLogs(runId: string, options: { limit?: number; offset?: number } & AccessOptions = {}): Promise<LogPage> {
    await this.getRun(runId, options);
    return this.store.getRunLogs(runId, options);
  }

  /** Persisted events of a run (status, log, item, ledger, output) after `afterSeq`. */
  async getRunEvents(runId: string, options: { afterSeq?: number; limit?: number; kinds?: RunEventBody['kind'][] } & AccessOptions = {}): Promise<LiveRunEvent[]> {
    await this.getRun(runId, options);
    return this.store.getRunEvents(runId, options);
  }

  /** The ledger of a run: every control-flow dispatch, in order. */
  async getRunLedger(runId: string, options: AccessOptions = {}): Promise<import('../run.js').LedgerEntry[]> {
    await this.getRun(runId, options);
    const events = await this.store.getRunEvents(runId, { kinds: ['ledger'] });
    return events.flatMap((e) => (e.kind === 'ledger' ? [e.entry] : []));
  }

  /** Changes a run's label and tags. With `as`: RUN_NOT_FOUND when it may not read the run, PERMISSION_DENIED when it may not manage it. */
  async updateRun(runId: string, changes: { label?: string | null; tags?: string[] }, options: AccessOptions = {}): Promise<RunRecord> {
    await this.access.manageableRun(runId, options.as);
    this.#waiters.forget(runId);
    return this.store.updateRun({ runId, at: this.clock.now(), ...changes });
  }

  /**
   * Cancels a run: it ends CANCELED, its synchronous children are canceled too (depth-first),
   * its running modules see their `signal` abort, and a parent waiting on it is woken (its call
   * step fails with CANCELED). Launched runs go on. Canceling an ended run changes nothing.
   * With `tree: true`, every run it started is canceled too, launches (and theirs) included,
   * whoever owns them, and — when it is the root of its run tree — the tree is marked first so
   * that no run can be started in it any more, even by a launch racing the cancel
   * (execution/cancel-run.ts); its launched runs are walked even when the run itself has ended.
   * With `as`, refused like {@link updateRun}: managing the run is enough to cancel its tree.
   */
  async cancelRun(runId: string, options: AccessOptions & { tree?: boolean } = {}): Promise<RunRecord> {
    await this.access.assertCanManage(runId, options.as);
    await this.cancelRunTree(runId, 'canceled by request', { tree: options.tree === true });
    return this.getRun(runId);
  }

  /**
   * Approves the step a run waits at for governance (see approvals.ts): the run becomes ACTIVE
   * and the step runs, in whichever engine claims it. Durable and exclusive across processes;
   * CONFLICT when the run does not wait for approval of `stepId`. With `as`, refused like {@link cancelRun}.
   * `engine.approve(runId, 'charge')` is short for `{stepId: 'charge'}`.
   */
  approve(runId: string, options: ApprovalOptions | string): Promise<RunRecord> {
    return decideApproval(this.#approvalDeps, runId, 'approved', typeof options === 'string' ? { stepId: options } : options);
  }

  /** Rejects the step a run waits at: it fails with GOVERNANCE_REJECTED (catchable). As {@link approve} otherwise. */
  reject(runId: string, options: ApprovalOptions | string): Promise<RunRecord> {
    return decideApproval(this.#approvalDeps, runId, 'rejected', typeof options === 'string' ? { stepId: options } : options);
  }

  /** The runs waiting for an approval that `as` may decide, a page at a time (governance/pending-approvals.ts). */
  listApprovals(options: ListApprovalsOptions = {}): Promise<PendingApprovalPage> {
    return listPendingApprovals({ store: this.store, access: this.access, loadFlow: (id, v) => this.loadFlow(id, v) }, options);
  }

  get #approvalDeps(): ApprovalDeps {
    return { ...this.#resumeDeps, access: this.access };
  }

  get #resumeDeps(): ResumeDeps {
    const deps = { store: this.store, clock: this.clock, workerId: this.workerId, leaseMs: this.#leaseMs };
    return { ...deps, published: (run, events) => this.publishCommitted(run, events), dispatch: (runId) => this.dispatch(runId) };
  }

  cancelRunTree(runId: string, reason: string, options: { tree?: boolean } = {}): Promise<void> {
    return cancelRunTree(this.#cancelDeps, runId, reason, options);
  }

  get #cancelDeps(): CancelDeps {
    const abortLocal = (id: string, error: FlowError): void => this.#scheduler.executing.get(id)?.abort(error);
    return { store: this.store, clock: this.clock, abortLocal, published: (run, events) => this.publishCommitted(run, events), ended: (run) => this.runEnded(run) };
  }

  /** Runs this engine executes now, each under a lease it holds (metrics). */
  get runsExecuting(): number {
    return this.#scheduler.executing.size;
  }

  /** Resolves when this engine has nothing running or queued (tests, graceful shutdown). */
  whenIdle(): Promise<void> {
    return this.#scheduler.whenIdle();
  }

  /**
   * Stops claiming and polling. Runs in flight finish their current step's transition or are
   * left for another engine to resume after their lease expires; nothing is lost. Emitted events
   * this engine is publishing are published and leave the store's outbox first. With `drainMs`
   * (a worker's SIGTERM), it first drains: runs executing here give their lease back at their next
   * step, and those still in a step after `drainMs` are stopped and handed back at once (run-scheduler.ts).
   */
  async close(options: { drainMs?: number } = {}): Promise<void> {
    this.#closed = true;
    if (options.drainMs !== undefined) await this.#scheduler.drain(options.drainMs);
    this.#scheduler.close();
    // Events this engine began publishing leave the outbox now, not at another process's sweep.
    await this.#outbox.settled(CLOSE_PUBLISH_WAIT_MS);
    await this.schedules.poller.close();
    this.#retention?.stop();
    this.#stopObserving?.();
    await this.#watching.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new FlowError('ENGINE_CLOSED', 'the engine is closed');
  }
}


