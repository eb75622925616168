/**
 * The engine: deploys flows, starts runs, executes them (in this process, under leases taken in
 * the store), and answers questions about them. Several engines may share one store; each run is
 * executed by one of them at a time.
 */
import type { Clock, IdSource, TimerHandle } from '../clock.js';
import { FlowError, NotFoundError } from '../errors.js';
import { type FlowDefinition, type FlowVersionRecord, type SubflowDefinition } from '../model.js';
import type { NewRun, RunEventBody, RunRecord } from '../run.js';
import type { FlowSummary, RunFilter, RunPage, Store, StoreChange } from '../store.js';
import { assertValidFlow } from '../validate-flow.js';
import { startEvents, type BuildRunInput, type EngineCore, type LiveRunRef } from './engine-core.js';
import { LiveEvents, type LiveListener } from './live-events.js';
import { RunExecutor } from './run-executor.js';
import { buildNewRun, checkStartOptions } from './build-run.js';
import { RunWaiters } from './run-waiters.js';
import { runActionOn } from './run-action.js';
import { LeaseKeeper } from './lease-keeper.js';
import { cancelRunTree, type CancelDeps } from './cancel-run.js';
import { RetentionSweeper, type RetentionPolicy } from './retention.js';
import { FlowCache } from './flow-cache.js';
import { StoreChanges, watchRunEvents } from './run-watcher.js';
import type { ExecutionResult, LiveRunEvent, LogPage, Logger, Module, RunActionOptions, RuntimeConfig, StartRunOptions } from './types.js';

/** Options of {@link Engine}. Time and ids are injected (see `createEngine` for defaults). */
export interface EngineOptions {
  stores: Store;
  clock: Clock;
  ids: IdSource;
  runtimeConfig?: RuntimeConfig;
  /** Modules, merged over `runtimeConfig.modules`. */
  modules?: Record<string, Module>;
  /** Name of this engine in leases. Default: a new id. */
  workerId?: string;
  /** How long a claim lasts without a heartbeat (default 30,000 ms). */
  leaseMs?: number;
  /** How often to look for runs to resume (other processes' expired leases, due timers). Default 1,000 ms. */
  pollIntervalMs?: number;
  /** Runs executed at once by this engine (default 256). */
  maxConcurrentRuns?: number;
  /** Look for claimable runs in the background (default true). */
  poll?: boolean;
  /** Delete ended runs older than `retention.days`, in batches, in the background. */
  retention?: RetentionPolicy;
}

/** The flowrun engine. Create it with `createEngine`. */
export class Engine implements EngineCore {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly logger: Logger | undefined;
  readonly modules: Readonly<Record<string, Module>>;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly maxDepth: number;
  readonly maxHistoryPerRun: number;
  readonly workerId: string;
  readonly #leaseMs: number;
  readonly #pollIntervalMs: number;
  readonly #maxConcurrent: number;
  readonly #live: LiveEvents;
  readonly #flows: FlowCache;
  readonly #executing = new Map<string, RunExecutor>();
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #waiters: RunWaiters;
  readonly #timers = new Set<TimerHandle>();
  readonly #flushing = new Set<RunExecutor>();
  readonly #storeChanges: StoreChanges;
  readonly #leases: LeaseKeeper;
  readonly #retention: RetentionSweeper | null;
  readonly #localWakeMaxMs = 60_000;
  #polling = false;
  /** Runs created with a lease for this engine that are not executing yet. */
  #starting = 0;
  #pollSoon = false;
  #pollTimer: TimerHandle | null = null;
  #closed = false;
  #idle: Promise<void> = Promise.resolve();
  #idleResolve: (() => void) | null = null;

  constructor(options: EngineOptions) {
    this.store = options.stores;
    this.clock = options.clock;
    this.ids = options.ids;
    const config = options.runtimeConfig ?? {};
    this.logger = config.logger;
    this.modules = { ...config.modules, ...options.modules };
    this.settings = Object.freeze({ ...config.settings });
    this.maxDepth = config.maxDepth ?? 100;
    this.maxHistoryPerRun = config.maxHistoryPerRun ?? 10_000;
    this.workerId = options.workerId ?? `engine-${this.ids.newId()}`;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.#maxConcurrent = options.maxConcurrentRuns ?? 256;
    this.#live = new LiveEvents(this.logger);
    this.#flows = new FlowCache({ store: this.store, clock: this.clock });
    this.#storeChanges = new StoreChanges(this.store, this.logger);
    this.#leases = new LeaseKeeper({ store: this.store, clock: this.clock, owner: this.workerId, leaseMs: this.#leaseMs, executing: this.#executing, ...(this.logger ? { logger: this.logger } : {}) });
    this.#waiters = new RunWaiters({ store: this.store, clock: this.clock, pollIntervalMs: this.#pollIntervalMs });
    this.#retention = options.retention ? new RetentionSweeper({ store: this.store, clock: this.clock, policy: options.retention, ...(this.logger ? { logger: this.logger } : {}) }) : null;
    this.#retention?.start();
    this.#polling = options.poll !== false;
    if (options.poll !== false) {
      this.#schedulePoll(0);
      // Another process's commits (a woken parent, an expired lease) are claimed sooner than the next poll.
      // Not for transient changes, nor for runs this engine executes (mostly its own commits).
      this.#onStoreChange((change) => change.transient || this.#executing.has(change.runId) || this.#pollNow());
    }
  }

  /**
   * Validates and stores a flow definition as a new immutable version (deploying the same
   * definition as the latest version returns that version). With `publish`, it becomes
   * `LATEST_PUBLISHED`. Throws ValidationError (INVALID_DEFINITION) listing every problem.
   */
  async deployFlow(definition: FlowDefinition, options: { deployedBy?: string; publish?: boolean } = {}): Promise<{ id: string; version: number }> {
    const record = await this.#flows.save(assertValidFlow(definition), options.deployedBy ?? 'anonymous');
    if (options.publish) await this.store.publishFlowVersion({ flowId: record.flowId, version: record.version });
    return { id: record.flowId, version: record.version };
  }

  /** Makes a deployed version the published one (`LATEST_PUBLISHED`). */
  async publishFlow(flowId: string, version: number): Promise<{ id: string; version: number }> {
    const record = await this.store.publishFlowVersion({ flowId, version });
    return { id: record.flowId, version: record.version };
  }

  /** A deployed flow version (default: published, else latest). Throws FLOW_NOT_FOUND. */
  async getFlow(flowId: string, version?: number | 'LATEST_PUBLISHED' | 'LATEST'): Promise<FlowVersionRecord> {
    return this.loadFlow(flowId, version);
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
   * Starts a run and returns its id at once; the run goes on in this engine. The run is recorded
   * before this resolves, so it survives a crash from then on. Rejects (and records nothing) on an
   * unknown flow or action (FLOW_NOT_FOUND / ACTION_NOT_FOUND), input that breaks the param schemas
   * (INVALID_INPUT), or a requestId already used (CONFLICT).
   */
  async startRun(options: StartRunOptions): Promise<{ requestId: string }> {
    this.#assertOpen();
    checkStartOptions(options);
    // An inline definition is validated, and the input bound against it, before anything is
    // stored: a rejected call leaves the store as it was.
    const inline = typeof options.flow === 'string' ? null : assertValidFlow(options.flow);
    const flow = inline ? { flowId: inline.id, version: 0, definition: inline, deployedBy: '', deployedAt: 0, published: false } : await this.loadFlow(options.flow as string, options.version);
    let run = this.buildRun({
      flow,
      actionName: options.actionName ?? 'main',
      input: options.input,
      source: options.source ?? 'http',
      ...(options.requestId !== undefined ? { requestId: options.requestId } : {}),
      createdBy: options.userId ?? 'anonymous',
      sessionId: options.sessionId ?? null,
      label: options.label ?? null,
      tags: options.tags ?? [],
      timeoutMs: options.timeoutMs ?? null,
      runAs: options.runAs ?? null,
      event: options.event,
      ...(options.monitors ? { monitors: options.monitors } : {}),
      ...(options.managers ? { managers: options.managers } : {}),
    });
    if (inline) run = { ...run, flowVersion: (await this.#flows.save(inline, options.userId ?? 'anonymous')).version };
    await this.#createAndExecute(run);
    return { requestId: run.runId };
  }

  /**
   * Starts a run and waits for it to end. Resolves with the result — `error` set when the run
   * failed or was canceled — and rejects only when the run cannot be started or recorded.
   * Aborting `signal` cancels the run.
   */
  runAction(options: RunActionOptions): Promise<ExecutionResult> {
    return runActionOn(this, options);
  }

  buildRun(input: BuildRunInput): NewRun {
    return buildNewRun(input, { now: this.clock.now(), newRunId: () => this.ids.newRunId() });
  }

  async #createAndExecute(run: NewRun): Promise<void> {
    const events = startEvents(run);
    const lease = this.leaseForNewRun();
    const created = await this.store.createRun({ run, events, ...(lease ? { lease } : {}) });
    this.publishCommitted(created.run, events);
    if (created.lease) this.#execute(created.run, created.lease);
    else this.dispatch(run.runId);
  }

  dispatch(runId: string): void {
    if (this.#closed || this.#queued.has(runId)) return;
    this.#queued.add(runId);
    this.#queue.push(runId);
    this.#drain();
  }

  leaseForNewRun(): { owner: string; expiresAt: number } | null {
    if (this.#closed || this.#executing.size + this.#starting >= this.#maxConcurrent) return null;
    return { owner: this.workerId, expiresAt: this.clock.now() + this.#leaseMs };
  }

  executeLeased(runId: string, lease: { owner: string; expiresAt: number }): void {
    this.#starting += 1;
    this.store
      .getRun(runId)
      .then((run) => {
        // Held with exactly this lease: ours to execute. Otherwise (someone else held it) a claim decides.
        if (run && run.status === 'ACTIVE' && run.leaseOwner === lease.owner && run.leaseExpiresAt === lease.expiresAt) {
          this.#execute(run, { runId, owner: lease.owner, fencingToken: run.fencingToken, expiresAt: lease.expiresAt });
        } else if (run && run.status === 'ACTIVE') this.dispatch(runId);
      })
      .catch((error: unknown) => this.logger?.warn({ err: error, runId }, 'a new run could not be started here; it is claimed when its lease runs out'))
      .finally(() => (this.#starting -= 1));
  }

  scheduleWake(runId: string, at: number): void {
    // Long waits live only in the store (readyAt), where the poller finds them when due: a
    // hundred thousand runs waiting for tomorrow hold no memory here. Short ones get a timer too,
    // so a retry 200 ms away does not wait for the next poll.
    if (at - this.clock.now() > this.#localWakeMaxMs && this.#polling) return;
    const timer = this.clock.setTimeout(() => {
      this.#timers.delete(timer);
      this.dispatch(runId);
    }, Math.max(0, at - this.clock.now()));
    this.#timers.add(timer);
  }

  scheduleFlush(executor: RunExecutor): void {
    if (this.#flushing.has(executor)) return;
    this.#flushing.add(executor);
    const timer = this.clock.setTimeout(() => {
      this.#timers.delete(timer);
      this.#flushing.delete(executor);
      executor.flush().catch((error: unknown) => this.logger?.debug({ err: error, runId: executor.runId }, 'flush skipped'));
    }, 10);
    this.#timers.add(timer);
  }

  #drain(): void {
    while (this.#queue.length > 0 && this.#executing.size < this.#maxConcurrent && !this.#closed) {
      const runId = this.#queue.shift()!;
      this.#queued.delete(runId);
      const now = this.clock.now();
      this.store
        .claimRun({ runId, owner: this.workerId, now, leaseExpiresAt: now + this.#leaseMs })
        .then((claimed) => {
          if (claimed) this.#execute(claimed.run, claimed.lease);
        })
        .catch((error: unknown) => this.logger?.error({ err: error, runId }, 'claim failed; the poller will retry'));
    }
  }

  #execute(run: RunRecord, lease: { runId: string; owner: string; fencingToken: number; expiresAt: number }): void {
    this.#markBusy();
    const start = async (): Promise<void> => {
      const flow = await this.loadFlow(run.flowId, run.flowVersion);
      const executor = new RunExecutor(this, run, lease, flow);
      this.#executing.set(run.runId, executor);
      this.#leases.start();
      try {
        await executor.execute();
      } finally {
        if (this.#executing.get(run.runId) === executor) this.#executing.delete(run.runId);
      }
    };
    start()
      .catch((error: unknown) => this.logger?.error({ err: error, runId: run.runId }, 'run could not be executed; it stays claimable'))
      .finally(() => {
        this.#markIdleIfDone();
        this.#drain();
      });
  }

  #schedulePoll(delayMs: number): void {
    if (this.#closed) return;
    this.#pollTimer = this.clock.setTimeout(
      () => {
        this.#pollOnce()
          .catch((error: unknown) => this.logger?.warn({ err: error }, 'poll failed'))
          .finally(() => this.#schedulePoll(this.#pollIntervalMs));
      },
      delayMs,
      { keepAlive: false },
    );
  }

  async #pollOnce(): Promise<void> {
    const free = this.#maxConcurrent - this.#executing.size;
    if (free <= 0 || this.#closed) return;
    const now = this.clock.now();
    const claimed = await this.store.claimRuns({ owner: this.workerId, limit: free, now, leaseExpiresAt: now + this.#leaseMs });
    for (const c of claimed) this.#execute(c.run, c.lease);
  }

  #markBusy(): void {
    if (this.#idleResolve === null) this.#idle = new Promise((resolve) => (this.#idleResolve = resolve));
  }

  #markIdleIfDone(): void {
    if (this.#executing.size > 0 || this.#queue.length > 0) return;
    this.#idleResolve?.();
    this.#idleResolve = null;
  }

  publishCommitted(run: LiveRunRef, events: RunEventBody[], transients: { afterIndex: number; body: RunEventBody }[] = []): void {
    this.#live.publishCommitted(run, events, transients, this.clock.now());
    // Watchers in other processes get transient changes through the store, when it can carry them (PostgreSQL).
    if (transients.length === 0 || !this.store.publishTransient) return;
    const first = run.lastSeq - events.length + 1;
    for (const t of transients) {
      this.store
        .publishTransient({ runId: run.runId, afterSeq: first + t.afterIndex - 1, origin: this.workerId, event: t.body })
        .catch((error: unknown) => this.logger?.debug({ err: error, runId: run.runId }, 'transient change not sent'));
    }
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
   * (transient ones made in this process included), ledger entries and output snapshots — and
   * ends after its terminal status. Works for runs executed by other processes over the same
   * store; reconnecting with the last `seq` seen loses and repeats nothing.
   */
  watchRun(runId: string, options: { afterSeq?: number; signal?: AbortSignal } = {}): AsyncGenerator<LiveRunEvent> {
    return watchRunEvents(
      {
        store: this.store,
        clock: this.clock,
        pollIntervalMs: this.#pollIntervalMs,
        onRun: (id, listener) => this.#live.onRun(id, listener),
        onStoreChange: (listener) => this.#onStoreChange(listener),
        origin: this.workerId,
      },
      runId,
      options,
    );
  }

  #onStoreChange(listener: (change: StoreChange) => void): () => void {
    return this.#closed ? () => undefined : this.#storeChanges.listen(listener);
  }

  /** Polls soon after a notification: at most once per 50 ms, however many arrive. */
  #pollNow(): void {
    if (this.#pollSoon || this.#closed) return;
    this.#pollSoon = true;
    this.clock.setTimeout(
      () => {
        this.#pollOnce()
          .catch((error: unknown) => this.logger?.warn({ err: error }, 'poll failed'))
          .finally(() => (this.#pollSoon = false));
      },
      50,
      { keepAlive: false },
    );
  }

  /** Listens to the live events of a run and its synchronous children. */
  onRunTreeEvent(rootRunId: string, listener: LiveListener): () => void {
    return this.#live.onTree(rootRunId, listener);
  }

  /** Listens to the live events of every run this engine executes (the CLI's progress view). */
  onAnyRunEvent(listener: LiveListener): () => void {
    return this.#live.onAll(listener);
  }

  runEnded(run: RunRecord, parentLease?: { owner: string; expiresAt: number }): void {
    this.#waiters.notify(run);
    if (!run.parentRunId || run.detached) return;
    if (parentLease) this.executeLeased(run.parentRunId, parentLease);
    else this.dispatch(run.parentRunId);
  }

  /**
   * Waits until the run ends and returns its record. Rejects with TIMEOUT after `timeoutMs`
   * (the run goes on), CANCELED when `signal` aborts, RUN_NOT_FOUND for an unknown id.
   */
  waitForRun(runId: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RunRecord> {
    return this.#waiters.wait(runId, options);
  }

  /** A run by id. Throws RUN_NOT_FOUND. */
  async getRun(runId: string): Promise<RunRecord> {
    const run = await this.store.getRun(runId);
    if (!run) throw new NotFoundError('RUN_NOT_FOUND', `run "${runId}" does not exist`, { runId });
    return run;
  }

  listRuns(filter: RunFilter = {}): Promise<RunPage> {
    return this.store.listRuns(filter);
  }

  /** Log entries of a run, oldest first, paginated by position. Throws RUN_NOT_FOUND. */
  async getRunLogs(runId: string, options: { limit?: number; offset?: number } = {}): Promise<LogPage> {
    await this.getRun(runId);
    return this.store.getRunLogs(runId, options);
  }

  /** Persisted events of a run (status, log, item, ledger, output) after `afterSeq`. */
  async getRunEvents(runId: string, options: { afterSeq?: number; limit?: number } = {}): Promise<LiveRunEvent[]> {
    await this.getRun(runId);
    return this.store.getRunEvents(runId, options);
  }

  /** The ledger of a run: every control-flow dispatch, in order. */
  async getRunLedger(runId: string): Promise<import('../run.js').LedgerEntry[]> {
    await this.getRun(runId);
    const events = await this.store.getRunEvents(runId, { kinds: ['ledger'] });
    return events.flatMap((e) => (e.kind === 'ledger' ? [e.entry] : []));
  }

  /** Changes a run's label and tags. */
  async updateRun(runId: string, changes: { label?: string | null; tags?: string[] }): Promise<RunRecord> {
    await this.getRun(runId);
    return this.store.updateRun({ runId, at: this.clock.now(), ...changes });
  }

  /**
   * Cancels a run: it ends CANCELED, its synchronous children are canceled too (depth-first),
   * its running modules see their `signal` abort, and a parent waiting on it is woken (its call
   * step fails with CANCELED). Launched runs go on. Canceling an ended run changes nothing.
   */
  async cancelRun(runId: string): Promise<RunRecord> {
    await this.cancelRunTree(runId, 'canceled by request');
    return this.getRun(runId);
  }

  cancelRunTree(runId: string, reason: string): Promise<void> {
    return cancelRunTree(this.#cancelDeps, runId, reason);
  }

  get #cancelDeps(): CancelDeps {
    return {
      store: this.store,
      clock: this.clock,
      abortLocal: (id, error) => this.#executing.get(id)?.abort(error),
      published: (run, events) => this.publishCommitted(run, events),
      ended: (run) => this.runEnded(run),
    };
  }

  /** Resolves when this engine has nothing running or queued (tests, graceful shutdown). */
  whenIdle(): Promise<void> {
    return this.#idle;
  }

  /**
   * Stops claiming and polling. Runs in flight finish their current step's transition or are
   * left for another engine to resume after their lease expires; nothing is lost.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pollTimer?.cancel();
    this.#leases.stop();
    this.#retention?.stop();
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    this.#queue.length = 0;
    this.#queued.clear();
    await this.#storeChanges.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new FlowError('ENGINE_CLOSED', 'the engine is closed');
  }
}


