/**
 * Which runs this engine executes, and when: the local queue of runs to claim, the poller that
 * claims ready runs from the store (and sweeps the outbox of emitted events), timers for short
 * waits (retry backoff), the lease heartbeat,
 * and the count of runs in flight against `maxConcurrentRuns`. Everything it decides is also in
 * the store (a run's `readyAt` and lease), so losing this process loses no scheduled work: another
 * engine's poller claims it once the lease runs out. Slots are shared fairly (fair-shares.ts): a
 * run whose tree or owner has its share waits in the queue or the store while others go first;
 * the queue is served round-robin by owner and tree (fair-queue.ts), and so are the turns of the
 * event loop executing runs take for their steps (turn-gate.ts).
 */
import type { Clock, TimerHandle } from '../../clock.js';
import { ConflictError } from '../../errors.js';
import type { RunRecord } from '../../run.js';
import type { ClaimedRun, RunLease, Store } from '../../store.js';
import { LeaseKeeper, leaseLost } from './lease-keeper.js';
import { FairShares, type RunParty } from './fair-shares.js';
import { FairQueue } from './fair-queue.js';
import { TurnGate } from './turn-gate.js';
import { PollLog } from './poll-log.js';
import type { RunExecutor } from './run-executor.js';
import type { PendingCreation } from './run-creation.js';
import type { FlushableRun } from '../engine-core.js';
import type { Logger } from '../types.js';

/** Options of a {@link RunScheduler}. */
export interface RunSchedulerOptions {
  store: Store;
  clock: Clock;
  logger: Logger | undefined;
  workerId: string;
  leaseMs: number;
  pollIntervalMs: number;
  maxConcurrentRuns: number;
  /** Claim ready runs from the store periodically (off: only runs started or woken here execute). */
  poll: boolean;
  /** Builds the executor of a claimed run (loading its flow); rejects when the run cannot be executed here. */
  createExecutor: (run: RunRecord, lease: RunLease, creation?: PendingCreation) => Promise<RunExecutor>;
  /** Resumes an INACTIVE run claimed because its timer is due; the record to execute under the claim, or null. */
  resumeDue?: (claimed: ClaimedRun) => Promise<RunRecord | null>;
  /** Publishes emitted events left in the store's outbox (events/event-outbox.ts); called at every poll interval. */
  sweepOutbox?: () => Promise<unknown>;
  /** This engine lost its lease on a run it executed (observers). */
  leaseLost?: (runId: string) => void;
}

/** Turns one owner's executors are given per turn of the event loop; the rest wait for the next (turn-gate.ts). */
const TURNS_PER_SLICE = 64;

/** Runs `callback` after pending I/O: setImmediate where there is one (Node, Bun), without a timer's clamp. */
function afterIo(callback: () => void): void {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (immediate) immediate(callback);
  else globalThis.setTimeout(callback, 0);
}

/** Waits longer than this live only in the store, where the poller finds them when due. */
const LOCAL_WAKE_MAX_MS = 60_000;

/** The engine's scheduler of run executions. */
export class RunScheduler {
  /** Runs executing in this engine, by id. */
  readonly executing = new Map<string, RunExecutor>();
  /** The fencing token of each executing run's lease. */
  readonly #tokens = new Map<string, number>();
  readonly #options: RunSchedulerOptions;
  /** Runs between {@link execute} and their executor's registration (loading their flow). */
  readonly #launching = new Set<string>();
  /** Claims of queued runs in flight (between the queue and execute): not idle either. */
  #claiming = 0;
  /** Runs to claim, with whose they are when known (a run whose tree or owner is full waits here), in turns by owner and tree. */
  readonly #queue = new FairQueue<{ runId: string; party?: RunParty }>();
  readonly #turns: TurnGate;
  readonly #shares: FairShares;
  readonly #queued = new Set<string>();
  readonly #timers = new Set<TimerHandle>();
  readonly #flushing = new Set<FlushableRun>();
  readonly #leases: LeaseKeeper;
  /** Runs created with a lease for this engine that are not executing yet. */
  #starting = 0;
  #pollSoon = false;
  /** The last poll claimed as many runs as it had room for: more are probably ready. */
  #backlog = false;
  /** The last fair claim found no run ready but those of trees and owners at their share. */
  #othersIdle = false;
  #pollTimer: TimerHandle | null = null;
  /** An outbox sweep is under way. */
  #sweeping = false;
  /** The store unavailable and back, runs resumed: logged once each, not once per poll or run. */
  readonly #pollLog: PollLog;
  #closed = false;
  /** Set by {@link drain}: nothing more is claimed, and runs executing give their lease back at their next step. */
  #draining = false;
  /** Claims held back by {@link holdClaims} (how many holds are on). */
  #held = 0;
  #idle: Promise<void> = Promise.resolve();
  #idleResolve: (() => void) | null = null;

  constructor(options: RunSchedulerOptions) {
    this.#options = options;
    const { store, clock, workerId, leaseMs, logger } = options;
    this.#shares = new FairShares({ maxConcurrentRuns: options.maxConcurrentRuns, clock });
    this.#turns = new TurnGate({ turnsPerSlice: TURNS_PER_SLICE, defer: afterIo });
    this.#pollLog = new PollLog(logger, workerId);
    this.#leases = new LeaseKeeper({ store, clock, owner: workerId, leaseMs, executing: this.executing, ...(logger ? { logger } : {}), ...(options.leaseLost ? { leaseLost: options.leaseLost } : {}) });
    if (options.poll) this.#schedulePoll(0);
  }

  /** True while the run executes here, or is about to (queued, or its flow loading). */
  isRunningHere(runId: string): boolean {
    return this.executing.has(runId) || this.#queued.has(runId) || this.#launching.has(runId);
  }

  /** Claims the run and executes it in this process if it can be claimed now; with `party`, once its tree and owner have room. */
  dispatch(runId: string, party?: RunParty): void {
    // An engine that executes nothing (an API process) leaves every run to the workers' claims.
    if (this.#closed || this.#draining || this.#options.maxConcurrentRuns === 0 || this.#queued.has(runId)) return;
    this.#queued.add(runId);
    this.#queue.push(party ? { runId, party } : { runId }, party);
    this.#drain();
  }

  /**
   * A lease for run `runId` of `party`, about to be created or woken by a transition, when this
   * engine has a free slot within the party's shares; the slot is reserved until the lease runs out.
   */
  leaseForNewRun(run: RunParty & { runId: string }): { owner: string; expiresAt: number } | null {
    if (this.#closed || this.#draining || this.executing.size + this.#starting >= this.#options.maxConcurrentRuns || this.#shares.isFull(run)) return null;
    const expiresAt = this.#options.clock.now() + this.#options.leaseMs;
    this.#shares.hold(run.runId, { treeId: run.treeId, runOwner: run.runOwner }, expiresAt);
    return { owner: this.#options.workerId, expiresAt };
  }

  /** A run leased by {@link leaseForNewRun} will not execute here after all (its creation failed). */
  forgetLease(runId: string): void {
    this.#shares.release(runId, { onlyReserved: true });
  }

  /** Executes a run that a committed transition leased to this engine (created — its record given — or woken). */
  executeLeased(runId: string, lease: { owner: string; expiresAt: number }, created?: RunRecord, woken?: RunRecord): void {
    // A run the transition created is known exactly (it is the record the store was given); a
    // woken one is as the store returned it with the transition, or must be read: its state is
    // whatever its last executor recorded.
    if (created) return this.execute(created, { runId, owner: lease.owner, fencingToken: created.fencingToken, expiresAt: lease.expiresAt });
    const start = (run: RunRecord | null): void => {
      // Held with exactly this lease: ours to execute. Otherwise (someone else held it) a claim decides.
      if (run && run.status === 'ACTIVE' && run.leaseOwner === lease.owner && run.leaseExpiresAt === lease.expiresAt) {
        this.execute(run, { runId, owner: lease.owner, fencingToken: run.fencingToken, expiresAt: lease.expiresAt });
      } else if (run && run.status === 'ACTIVE') this.dispatch(runId);
    };
    if (woken) return start(woken);
    this.#starting += 1;
    this.#options.store
      .getRun(runId)
      .then(start)
      .catch((error: unknown) => this.#options.logger?.warn({ err: error, runId }, 'a new run could not be started here; it is claimed when its lease runs out'))
      .finally(() => (this.#starting -= 1));
  }

  /** Dispatches the run at time `at` (retry backoff); a `suspended` run (WAIT timer) is resumed by a claim of due suspensions. */
  scheduleWake(runId: string, at: number, options: { suspended?: boolean } = {}): void {
    const { clock } = this.#options;
    // Long waits live only in the store (readyAt), where the poller finds them when due: a
    // hundred thousand runs waiting for tomorrow hold no memory here. Short ones get a timer too,
    // so a retry 200 ms away does not wait for the next poll.
    if (at - clock.now() > LOCAL_WAKE_MAX_MS && this.#options.poll) return;
    const timer = clock.setTimeout(() => {
      this.#timers.delete(timer);
      if (options.suspended) this.#claimDue().catch((error: unknown) => this.#options.logger?.warn({ err: error, runId }, 'due waits not claimed; the poller retries'));
      else this.dispatch(runId);
    }, Math.max(0, at - clock.now()));
    this.#timers.add(timer);
  }

  /**
   * Claims no run from the store until `until` settles; runs executing go on, and a run created
   * with this engine's lease still executes at once. A burst of due schedules is started first
   * (schedule-poller.ts): each slot's run is created on time, then claimed and executed like any
   * ready run — here once the hold ends (the queue drains, a poll claims), or by another engine meanwhile.
   */
  holdClaims(until: Promise<unknown>): void {
    this.#held += 1;
    this.#markBusy(); // whenIdle waits for what the hold queues too
    const release = (): void => {
      this.#held -= 1;
      if (this.#held > 0) return;
      this.#drain();
      if (this.#options.poll) this.pollNow();
      this.#markIdleIfDone();
    };
    until.then(release, release);
  }

  /** Persists an executor's pending events soon (a running module emitted items or logs). */
  scheduleFlush(executor: FlushableRun): void {
    if (this.#flushing.has(executor)) return;
    this.#flushing.add(executor);
    const timer = this.#options.clock.setTimeout(() => {
      this.#timers.delete(timer);
      this.#flushing.delete(executor);
      executor.flush().catch((error: unknown) => this.#options.logger?.debug({ err: error, runId: executor.runId }, 'flush skipped'));
    }, 10);
    this.#timers.add(timer);
  }

  /**
   * Executes a run this engine holds the lease of. With `creation` the run is not stored yet:
   * it goes on in this turn, and counts as executing here once its first commit created it.
   */
  execute(run: RunRecord, lease: RunLease, creation?: PendingCreation): void {
    this.#markBusy();
    this.#launching.add(run.runId);
    this.#shares.hold(run.runId, { treeId: run.treeId, runOwner: run.runOwner });
    const start = async (): Promise<void> => {
      // Building the executor (its flow, its state measured) is a turn of the run's owner too: a
      // commit that created a fork tree's hundred runs does not build them all in one loop turn.
      if (!creation) await this.#turns.turn(run);
      // Two executors of one run here (claimed again after the first one's lease ran out, maybe while it was built): the later lease's goes on.
      const registered = (): boolean => {
        const other = this.executing.get(run.runId);
        this.#launching.delete(run.runId);
        if (other && (this.#tokens.get(run.runId) ?? 0) > lease.fencingToken) return false;
        other?.abort(leaseLost(run.runId, 'it is executed here under a later lease'));
        this.executing.set(run.runId, executor);
        this.#tokens.set(run.runId, lease.fencingToken);
        this.#leases.start();
        return true;
      };
      // A run not stored yet has no lease to renew: it is not executing here before it is created.
      const executor: RunExecutor = await this.#options.createExecutor(run, lease, creation && { ...creation, created: (created) => (registered(), creation.created(created)) }).catch((error: unknown) => {
        this.#launching.delete(run.runId);
        creation?.failed(error);
        throw error;
      });
      if (!creation && !registered()) return;
      try {
        await executor.execute();
      } finally {
        if (this.executing.get(run.runId) === executor) {
          this.executing.delete(run.runId);
          this.#tokens.delete(run.runId);
        }
        this.#launching.delete(run.runId);
      }
    };
    const release = (): void => {
      if (!this.executing.has(run.runId) && !this.#launching.has(run.runId)) this.#shares.release(run.runId);
    };
    start()
      .catch((error: unknown) => this.#options.logger?.error({ err: error, runId: run.runId }, 'run could not be executed; it stays claimable'))
      .finally(() => {
        release();
        this.#markIdleIfDone();
        this.#drain();
        // A freed slot is refilled soon rather than at the next poll interval (recovery, backlogs).
        if (this.#backlog && this.#options.poll) this.pollNow();
      });
  }

  /** Polls soon after a notification: at most once per 50 ms, however many arrive. */
  pollNow(): void {
    if (this.#pollSoon || this.#closed || this.#draining) return;
    this.#pollSoon = true;
    this.#options.clock.setTimeout(
      () => {
        this.#pollOnce({ refill: true })
          .catch((error: unknown) => this.#pollLog.storeFailed(error))
          .finally(() => (this.#pollSoon = false));
      },
      50,
      // Runs queued here are work this engine accepted: a process waiting on them stays alive.
      { keepAlive: this.#queue.size > 0 },
    );
  }

  /** Resolves when this engine has nothing running or queued (tests, graceful shutdown). */
  whenIdle(): Promise<void> {
    return this.#idle;
  }

  /**
   * Drains before a shutdown: claims nothing more, and every run executing here gives its lease
   * back at its next step boundary (committed ready, so any engine over the store claims it at
   * once). Waits up to `timeoutMs` for them; runs still inside a step then (a long module) are
   * stopped — their modules' signal aborts, they write nothing more — and their leases expire now,
   * so another engine resumes them at once from their last transition (that step runs again, with
   * the same idempotency key). Heartbeats go on meanwhile. Resolves with how many were stopped so.
   */
  async drain(timeoutMs: number): Promise<number> {
    const { store, clock, workerId, logger } = this.#options;
    this.#draining = true;
    this.#pollTimer?.cancel();
    this.#queue.clear();
    this.#queued.clear();
    const busy = this.executing.size + this.#launching.size;
    let timer: TimerHandle | null = null;
    const late = await Promise.race([
      (async () => {
        while (this.executing.size > 0 || this.#launching.size > 0) await this.whenIdle();
        return false;
      })(),
      new Promise<boolean>((resolve) => (timer = clock.setTimeout(() => resolve(true), Math.max(0, timeoutMs)))),
    ]);
    (timer as TimerHandle | null)?.cancel();
    const left = late ? [...this.executing.values()] : [];
    for (const executor of left) executor.abort(new ConflictError(`run ${executor.runId} was handed back by ${workerId}, which is shutting down`, { code: 'LEASE_LOST', runId: executor.runId }));
    if (left.length > 0) {
      await store.renewLeases({ owner: workerId, runIds: left.map((e) => e.runId), expiresAt: clock.now() }).catch((error: unknown) => logger?.warn({ err: error }, 'leases not handed back; they run out by themselves'));
    }
    if (busy > 0) logger?.info({ workerId, endedOrGaveBack: busy - left.length, handedBack: left.length, timeoutMs }, 'drained: the runs executing here ended or went back to the store for other engines');
    return left.length;
  }

  /** Stops claiming, polling and heartbeats; runs in flight are left to their leases. */
  close(): void {
    this.#closed = true;
    this.#pollTimer?.cancel();
    this.#leases.stop();
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    this.#queue.clear();
    this.#queued.clear();
  }

  #drain(): void {
    const { store, clock, workerId, leaseMs, maxConcurrentRuns, logger } = this.#options;
    while (this.#queue.size > 0 && this.executing.size < maxConcurrentRuns && !this.#closed && this.#held === 0) {
      // The next queued run in turn whose tree and owner have room; the others keep their place.
      const next = this.#queue.take((entry) => !entry.party || !this.#shares.isFull(entry.party), (owner) => !this.#shares.isOwnerFull(owner));
      if (!next) {
        // Every queued run's tree or owner is at its share: the next poll's last claim gives them
        // the slots nobody else wants (and keeps the process alive meanwhile: this is accepted work).
        if (this.#options.poll) this.pollNow();
        return;
      }
      const { runId, party } = next;
      this.#queued.delete(runId);
      const now = clock.now();
      if (party) this.#shares.hold(runId, party, now + leaseMs);
      this.#claiming += 1;
      store
        .claimRun({ runId, owner: workerId, now, leaseExpiresAt: now + leaseMs })
        .then((claimed) => {
          if (claimed) this.execute(claimed.run, claimed.lease);
          else this.#shares.release(runId, { onlyReserved: true });
        })
        .catch((error: unknown) => {
          this.#shares.release(runId, { onlyReserved: true });
          logger?.error({ err: error, runId }, 'claim failed; the poller will retry');
        })
        .finally(() => {
          this.#claiming -= 1;
          // A claim that took nothing (a poll claimed the run first) frees its reserved slot: the next queued run may have it.
          this.#drain();
          this.#markIdleIfDone();
        });
    }
  }

  #schedulePoll(delayMs: number): void {
    if (this.#closed || this.#draining) return;
    this.#pollTimer = this.#options.clock.setTimeout(
      () => {
        // Due WAIT timers are looked for at the poll interval only, not on every early refill poll.
        this.#pollOnce()
          .then(() => this.#claimDue())
          .then(
            () => this.#pollLog.storeAnswered(),
            (error: unknown) => this.#pollLog.storeFailed(error),
          )
          .finally(() => {
            this.#pollLog.flushResumed();
            this.#sweepOutbox();
            this.#schedulePoll(this.#options.pollIntervalMs);
          });
      },
      delayMs,
      { keepAlive: false },
    );
  }

  /**
   * Claims ready runs into the free slots, in rounds: each passes over the trees and owners at
   * their share and takes no more than keeps every other within it (FairShares.claimLimit), so
   * another user's run is claimed past a tree that fills the store with ready runs. When runs were
   * passed over and slots are still free, a last claim takes any ready run into them but the
   * shares' reserve (such runs give their slot back every 256 steps, see {@link givesBack}). A `refill` between two polls, after a fair
   * round found nobody else's run ready, is that last claim alone: one query per freed slot while a
   * single user keeps the engine busy; the next poll looks for others again.
   */
  async #pollOnce(options: { refill?: boolean } = {}): Promise<void> {
    const { store, clock, workerId, leaseMs, maxConcurrentRuns } = this.#options;
    if (!options.refill) this.#othersIdle = false;
    for (let fair = !(options.refill && this.#othersIdle); ; ) {
      const free = maxConcurrentRuns - this.executing.size - this.#launching.size;
      if (free <= 0 || this.#closed || this.#draining || this.#held > 0) return;
      const skip = this.#shares.skip();
      const limit = fair ? this.#shares.claimLimit(free) : free - this.#shares.reserve;
      if (limit <= 0) return;
      const now = clock.now();
      const claimed = await store.claimRuns({ owner: workerId, limit, now, leaseExpiresAt: now + leaseMs, ...(fair ? { skip } : {}) });
      this.#backlog = claimed.length === limit;
      for (const c of claimed) {
        if (c.run.state.stepSeq > 0) this.#pollLog.resumed();
        this.execute(c.run, c.lease);
      }
      if (claimed.length === limit) continue;
      if (!fair || !(skip.treeIds?.length || skip.runOwners?.length)) return;
      this.#othersIdle = true;
      fair = false;
    }
  }

  /** Whether the run executing here may call a module now, its lease renewed first if short (EngineCore.confirmLease). */
  confirmLease(runId: string, executor: { abort(reason: ConflictError): void }): boolean | Promise<boolean> {
    return this.#leases.confirm(runId, executor);
  }

  /** The turn of a run of `party` for its step after `stepSeq` steps (EngineCore.takeTurn). */
  takeTurn(party: RunParty, stepSeq: number): Promise<boolean> | null {
    if (this.#draining) return Promise.resolve(true); // give the lease back now: another engine goes on
    const turn = this.#turns.turn(party);
    if (stepSeq % 256 !== 255) return turn && turn.then(() => false);
    return (turn ?? new Promise<void>((resolve) => afterIo(resolve))).then(() => this.givesBack(party));
  }

  /**
   * True when a run of `party` executing here should give its slot back: its tree or owner holds
   * more than its share. Never without polling: only a claim would take the run up again.
   */
  givesBack(party: RunParty): boolean {
    if (!this.#options.poll || this.#closed || !this.#shares.isOver(party)) return false;
    // The slot it frees is refilled by a claim soon, fair rounds first: someone else's run, if any is ready.
    this.#backlog = true;
    this.#othersIdle = false;
    return true;
  }

  /**
   * Emitted events whose process died before publishing them are published by whichever engine
   * polls first. One sweep at a time, beside the polls: a slow publish never delays claiming runs.
   */
  #sweepOutbox(): void {
    const sweep = this.#options.sweepOutbox;
    if (this.#closed || !sweep || this.#sweeping) return;
    this.#sweeping = true;
    sweep()
      .catch((error: unknown) => this.#options.logger?.warn({ err: error }, 'outbox sweep failed; the next poll retries'))
      .finally(() => (this.#sweeping = false));
  }

  /** Claims INACTIVE runs whose timer is due, resumes each, and executes it under the same lease. */
  async #claimDue(): Promise<void> {
    const { store, clock, workerId, leaseMs, maxConcurrentRuns, resumeDue, logger } = this.#options;
    const free = maxConcurrentRuns - this.executing.size - this.#launching.size;
    if (!resumeDue || free <= 0 || this.#closed || this.#draining) return;
    const now = clock.now();
    const due = await store.claimRuns({ owner: workerId, limit: this.#shares.claimLimit(free), now, leaseExpiresAt: now + leaseMs, status: 'INACTIVE', skip: this.#shares.skip() });
    for (const c of due) {
      this.#markBusy();
      resumeDue(c)
        .then((run) => {
          if (run) this.execute(run, c.lease);
          else this.#markIdleIfDone();
        })
        .catch((error: unknown) => {
          logger?.warn({ err: error, runId: c.run.runId }, 'a due wait was not resumed; it is claimed again when its lease runs out');
          this.#markIdleIfDone();
        });
    }
  }

  #markBusy(): void {
    if (this.#idleResolve === null) this.#idle = new Promise((resolve) => (this.#idleResolve = resolve));
  }

  #markIdleIfDone(): void {
    // A run between its claim and its executor (#launching) is not idle either.
    if (this.executing.size > 0 || this.#launching.size > 0 || this.#claiming > 0 || this.#queue.size > 0 || this.#held > 0) return;
    this.#idleResolve?.();
    this.#idleResolve = null;
  }
}
