/**
 * The engine side of firing: a poll on the engine's clock claims the schedules that are due (one
 * store statement, whatever the number stored), fires them in batches (schedule-batch.ts: runs
 * created ready, schedules saved over the versions read, claims released, then the runs handed to
 * the engine to execute). The background poll wakes a little before a due time and claims what
 * falls due then, with its runs' ids, so that at the slot only deciding, building and creating the
 * runs remain (`LOOKAHEAD_MS`). A slot's run is started as the schedule's owner or its service account,
 * under the permission model and the run budgets, with an id derived from the slot: engines racing
 * for a slot create one run between them. Triggers, backfills and the leftovers of a batch fire one
 * schedule at a time (`fireAndSave`).
 */
import type { Budgets } from '../../budgets.js';
import type { Clock, TimerHandle } from '../../clock.js';
import { ConflictError, NotFoundError, toFlowError } from '../../errors.js';
import type { FlowVersionRecord } from '../../model.js';
import type { NewRun, RunEventBody, RunRecord } from '../../run.js';
import type { ScheduleRecord } from '../../schedule.js';
import type { ClaimPosition } from '../../schedule-store.js';
import type { Store } from '../../store.js';
import type { AccessControl } from '../access/authorize.js';
import type { BuildRunInput, CreatedRun } from '../engine-core.js';
import type { DerivedRunIds } from '../start/derived-run-ids.js';
import type { Logger } from '../types.js';
import { fireDue, type FiringDeps, type SlotStart } from './schedule-firing.js';
import { firedEvent, saveLooks, scheduleTag, startBatch, type BatchLook, type PollShared } from './schedule-batch.js';
import { inRunIdOrder, PollRunIds, scheduleScope } from './poll-run-ids.js';

/** What firing schedules needs of the engine. */
export interface ScheduleEngineDeps {
  store: Store;
  clock: Clock;
  logger: Logger | undefined;
  workerId: string;
  access: AccessControl;
  runIds: DerivedRunIds;
  /** The flow version in effect: published, else latest. Throws FLOW_NOT_FOUND. */
  loadFlow(flowId: string): Promise<FlowVersionRecord>;
  buildRun(input: BuildRunInput): NewRun;
  createAndExecute(run: NewRun, events: RunEventBody[]): Promise<unknown>;
  /** These runs were created at `at`, unleased: announce them and set them going through the engines' claims (or, when this engine does not poll, its queue). */
  runsCreated(created: CreatedRun[], at: number): void;
  /** This engine claims no run from the store until `until` settles (RunScheduler.holdClaims). */
  holdClaims(until: Promise<unknown>): void;
  /** The engine's budgets, read at each use. */
  budgets: () => Budgets;
  cancelRunTree(runId: string, reason: string): Promise<void>;
  /** How often to look for due schedules (the engine's poll interval). */
  pollIntervalMs: number;
}

/** Schedules claimed per store statement. */
const CLAIM_BATCH = 1000;
/**
 * Schedules claimed before any is fired, then fired in the order of their runs' ids (poll-run-ids.ts):
 * a burst this size appends to the stores' run-id indexes. Bounded, so a poll holds this many
 * records at most; a bigger burst is claimed and fired in rounds.
 */
const POLL_ROUND = 20_000;
/** Batches under way at once: the next is decided while the store writes the one before. */
const BATCHES_IN_FLIGHT = 2;
/**
 * Schedules fired per batch: their runs are created, then they are saved, each set at once (the
 * store's group commits take them in a few transactions). Small enough that a run is created soon
 * after the look that decided it, and that the first runs are executing while later ones are decided.
 */
const FIRING_BATCH = 250;
/** Schedules decided at once within a batch (their reads, run ids and permission checks overlap). */
const FIRING_CONCURRENCY = 64;
/** How long a claim keeps other engines off a schedule this engine is firing. */
const CLAIM_MS = 30_000;
/**
 * How long before a due time the background poll claims the schedules due then and derives their
 * slots' run ids (at most the poll interval): a burst of 10,000 takes a few hundred ms to claim
 * and order, which would otherwise all come before its first run starts. Nothing is decided or
 * created before the slot: a schedule changed in this time (a request saves over the claim) is
 * fired from the claimed record and then saved again from the stored one, like a change that
 * comes while its slot fires; a pause this close to a slot may let that slot fire.
 */
const LOOKAHEAD_MS = 1_000;

/** Claims and fires due schedules on the engine clock. */
export class SchedulePoller {
  readonly #deps: ScheduleEngineDeps;
  #timer: TimerHandle | null = null;
  /** When the planned poll should have its schedules claimed by: its due time less the lookahead. */
  #timerAt = 0;
  #ticking: Promise<void> | null = null;
  /** Set while the poll under way holds schedules claimed ahead and waits for their due time. */
  #waitingForSlot: { wake: () => void } | null = null;
  /** Resolves when the poll under way starts waiting for its slot (whenIdle need not wait on). */
  #startedWaiting: { promise: Promise<void>; resolve: () => void } | null = null;
  #running: Promise<number> | null = null;
  #closed = false;
  /** Store statements the last poll made to claim (the bench's "store reads per poll"). */
  lastPollClaims = 0;

  constructor(deps: ScheduleEngineDeps) {
    this.#deps = deps;
  }

  /**
   * Starts polling: at the earliest due time the store knows, and at least every `pollIntervalMs`
   * (a schedule another process creates, or one a claim held), with timers that do not keep the
   * process alive. With `dueAt`, the timer runs `delayMs` early, to claim what is due at `dueAt`.
   */
  start(delayMs = this.#deps.pollIntervalMs, dueAt?: number): void {
    if (this.#closed || this.#timer) return;
    this.#timerAt = this.#deps.clock.now() + delayMs;
    this.#timer = this.#deps.clock.setTimeout(() => void (this.#ticking = this.#tick(dueAt)), delayMs, { keepAlive: false });
  }

  /**
   * Resolves when the background poll under way (if any) has fired what was due and set its next
   * timer, or holds schedules claimed ahead of a due time not reached yet (nothing is due).
   */
  async whenIdle(): Promise<void> {
    while (this.#ticking && !this.#waitingForSlot) {
      const ticking = this.#ticking;
      await Promise.race([ticking, this.#startedWaiting?.promise ?? ticking]);
      if (this.#ticking === ticking && !this.#waitingForSlot) this.#ticking = null;
    }
  }

  /** A schedule of this engine became due at `at` (created, changed, resumed): poll then if that is sooner than planned. */
  wake(at: number | null): void {
    if (at === null || this.#timer === null) return;
    const now = this.#deps.clock.now();
    const early = Math.max(0, at - now - this.#lookaheadMs());
    if (now + early >= this.#timerAt) return;
    this.#timer.cancel();
    this.#timer = null;
    this.start(early, at > now ? at : undefined);
  }

  #lookaheadMs(): number {
    return Math.min(LOOKAHEAD_MS, this.#deps.pollIntervalMs);
  }

  async #tick(dueAt: number | undefined): Promise<void> {
    this.#timer = null;
    let startedWaiting = (): void => {};
    this.#startedWaiting = { promise: new Promise<void>((resolve) => (startedWaiting = resolve)), resolve: () => startedWaiting() };
    let delay = this.#deps.pollIntervalMs;
    let nextDueAt: number | undefined;
    try {
      await (this.#running ?? (this.#running = this.#poll(dueAt).finally(() => (this.#running = null))));
      const next = await this.#deps.store.schedules.nextDueAt();
      const now = this.#deps.clock.now();
      // A due time already past is claimed elsewhere (or failed here): the poll interval, not a spin.
      if (next !== null && next > now) {
        const early = Math.max(0, next - now - this.#lookaheadMs());
        if (early < delay) [delay, nextDueAt] = [early, next];
      }
    } catch (error) {
      this.#deps.logger?.warn({ err: error }, 'schedule poll failed; next poll retries');
    }
    if (!this.#closed) this.start(delay, nextDueAt);
  }

  /**
   * Claims every schedule due now and fires it; resolves with how many were fired. A poll already
   * under way is joined, not doubled. Safe beside any number of engines over the same store.
   */
  pollOnce(): Promise<number> {
    // The background poll waiting for a due time fires what it claimed then; what is due now is claimed beside it.
    if (this.#running && this.#waitingForSlot) return this.#poll();
    if (!this.#running) this.#running = this.#poll().finally(() => (this.#running = null));
    return this.#running;
  }

  /** With `dueAt` (the background poll, woken ahead of it): the first round claims what is due then and waits for it before firing. */
  async #poll(dueAt?: number): Promise<number> {
    let fired = 0;
    let claims = 0;
    // Whether an owner may start a flow is asked once per poll: a revoked grant counts from the next one.
    const abandoned = new Set<string>();
    const poll: PollShared = { permitted: new Map(), ids: new PollRunIds(this.#deps.runIds), abandoned };
    const batchDeps = { ...this.#deps, concurrency: FIRING_CONCURRENCY, fireAlone: (schedule: ScheduleRecord) => this.fireAndSave(schedule, { releaseClaim: true }) };
    const created: CreatedRun[] = [];
    let held: (() => void) | null = null;
    try {
      for (let more = true, round = 0; more && !this.#closed; round++) {
        const due: ScheduleRecord[] = [];
        // Claimed ahead: what is due at `dueAt` (a claim that runs out before then counts as run out).
        const ahead = round === 0 && dueAt !== undefined && dueAt > this.#deps.clock.now() ? dueAt : null;
        for (let after: ClaimPosition | undefined; ; ) {
          const now = ahead ?? this.#deps.clock.now();
          // After the last one claimed: the rows this round claimed already are not walked again.
          const claimed = await this.#deps.store.schedules.claimDueSchedules({ owner: this.#deps.workerId, now, claimUntil: now + CLAIM_MS, limit: CLAIM_BATCH, ...(after ? { after } : {}) });
          claims++;
          const last = claimed.at(-1);
          if (last) after = { nextFireAt: last.nextFireAt!, scheduleId: last.scheduleId };
          for (const { claimAbandoned, ...schedule } of claimed) {
            if (claimAbandoned) abandoned.add(schedule.scheduleId);
            due.push(schedule);
          }
          // A full claim may leave more due: claim again, reading only due rows.
          more = claimed.length === CLAIM_BATCH;
          if (!more || due.length >= POLL_ROUND || this.#closed) break;
        }
        if (due.length === 0) break;
        const ordered = await inRunIdOrder(poll.ids, due);
        if (ahead !== null && !(await this.#waitUntil(ahead))) {
          await this.#releaseClaims(due);
          break;
        }
        // Starting the due slots' runs comes first: this engine claims runs to execute once they are all created.
        if (!held) this.#deps.holdClaims(new Promise<void>((resolve) => (held = resolve)));
        // Runs are created in the order of their ids (appending to the stores' indexes), then the
        // schedules saved in the order of theirs (the order their rows are stored and indexed in).
        const looks: BatchLook[] = [];
        await inBatches(ordered, () => this.#closed, async (batch) => {
          const started = await startBatch(batchDeps, batch, poll);
          looks.push(...started.looks);
          created.push(...started.created);
          fired += batch.length;
        });
        looks.sort((a, b) => (a.schedule.scheduleId < b.schedule.scheduleId ? -1 : 1));
        await inBatches(looks, () => false, (batch) => saveLooks(batchDeps, batch));
      }
    } finally {
      // Ready in the store from their creation on (another engine may have claimed some): set going here.
      if (created.length > 0) this.#deps.runsCreated(created, this.#deps.clock.now());
      (held as (() => void) | null)?.();
    }
    this.lastPollClaims = claims;
    return fired;
  }

  /**
   * Fires what is due (or asked) in `schedule` and saves the result over the version it was read
   * at. Another save first (a request, another engine): read again and fire from there — a few
   * times, as each engine racing for the record may save once before this one does.
   */
  async fireAndSave(schedule: ScheduleRecord, options: { releaseClaim?: boolean; asked?: { kind: 'trigger' | 'backfill'; slots: number[] } } = {}): Promise<ScheduleRecord> {
    let current = schedule;
    for (let attempt = 0; ; attempt++) {
      const next = await fireDue(this.firingDeps(), current, options.asked);
      try {
        return await this.#deps.store.schedules.saveSchedule({ schedule: next, expectedVersion: current.version, ...(options.releaseClaim ? { releaseClaim: true } : {}) });
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= 4) throw error;
        const fresh = await this.#deps.store.schedules.getSchedule(current.scheduleId);
        if (!fresh) throw new NotFoundError('SCHEDULE_NOT_FOUND', `schedule "${current.scheduleId}" does not exist`);
        current = fresh;
      }
    }
  }

  /** The firing dependencies at the clock's now. */
  firingDeps(): FiringDeps {
    return {
      now: this.#deps.clock.now(),
      recheckMs: this.#deps.pollIntervalMs,
      getRun: (runId) => this.#deps.store.getRun(runId),
      start: (schedule, slot, previousTime, kind) => this.#start(schedule, slot, previousTime, kind),
      cancel: (runId, reason) => this.#deps.cancelRunTree(runId, reason),
    };
  }

  async #start(schedule: ScheduleRecord, slot: number, previousTime: number | null, kind: 'slot' | 'trigger'): Promise<SlotStart> {
    const deps = this.#deps;
    // Gone flow or action: thrown, so the schedule pauses itself saying why.
    const flow = await deps.loadFlow(schedule.flowId);
    if (!Object.hasOwn(flow.definition.actions, schedule.actionName)) {
      throw new NotFoundError('ACTION_NOT_FOUND', `flow "${flow.flowId}" v${flow.version} has no action "${schedule.actionName}"`);
    }
    const scope = scheduleScope(schedule);
    // A slot fired alone may have been started by an older engine, under the id it derived then (poll-run-ids.ts).
    const legacyId = await deps.runIds.legacyForScheduleSlot(scope, schedule.scheduleId, slot, kind);
    if (isScheduleRun(await deps.store.getRun(legacyId))) return { runId: legacyId };
    const runId = await deps.runIds.forScheduleSlot(scope, schedule.scheduleId, slot, kind);
    try {
      // The owner's rights (or the service account's), checked at every slot: a revoked grant counts at once.
      await deps.access.assertCanStart({ by: schedule.owner === '' ? null : schedule.owner, flow, runAs: schedule.runAs });
      const run = deps.buildRun({
        flow,
        actionName: schedule.actionName,
        input: schedule.input,
        source: 'schedule',
        requestId: runId,
        createdBy: schedule.owner === '' ? 'anonymous' : schedule.owner,
        runAs: schedule.runAs,
        // Runs list by schedule through this tag (GET /runs?scheduleId=…).
        tags: [scheduleTag(schedule.scheduleId)],
        schedule: { id: schedule.scheduleId, scheduledTime: slot, previousTime },
      });
      await deps.createAndExecute(run, [firedEvent(run, schedule, slot, previousTime, kind)]);
      return { runId };
    } catch (error) {
      // Started by an earlier look (this engine or another) that did not get to save: the slot has its run.
      if (error instanceof ConflictError && error.code === 'CONFLICT' && isScheduleRun(await deps.store.getRun(runId))) return { runId };
      const failure = toFlowError(error);
      if (failure.code === 'STORE_ERROR' || failure.code === 'ENGINE_CLOSED') throw failure;
      deps.logger?.warn({ err: failure, scheduleId: schedule.scheduleId, slot }, `schedule slot not started: ${failure.code}`);
      return { refused: failure };
    }
  }

  /**
   * Stops polling; a poll under way finishes the schedule it is firing. One waiting for a due time
   * hands back what it claimed ahead: the promise resolves once it has (nothing else is awaited).
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
    const waiting = this.#waitingForSlot;
    if (!waiting) return Promise.resolve();
    waiting.wake();
    return (this.#running ?? Promise.resolve()).then(
      () => {},
      () => {},
    );
  }

  /** Waits on the engine clock until `at`; false when the poller closed meanwhile. */
  async #waitUntil(at: number): Promise<boolean> {
    const delayMs = at - this.#deps.clock.now();
    if (delayMs > 0 && !this.#closed) {
      await new Promise<void>((resolve) => {
        const timer = this.#deps.clock.setTimeout(resolve, delayMs, { keepAlive: false });
        this.#waitingForSlot = { wake: () => (timer.cancel(), resolve()) };
        this.#startedWaiting?.resolve();
      });
      this.#waitingForSlot = null;
    }
    return !this.#closed;
  }

  /** Hands back schedules claimed ahead and not fired (the poller closed): saved as they are, claims released, so another engine fires them at their time. */
  async #releaseClaims(schedules: ScheduleRecord[]): Promise<void> {
    await this.#deps.store.schedules.saveSchedules({ saves: schedules.map((schedule) => ({ schedule, expectedVersion: schedule.version })) }).catch((error: unknown) => {
      this.#deps.logger?.warn({ err: error, schedules: schedules.length }, 'schedules claimed ahead not released; their claims run out');
    });
  }
}


function isScheduleRun(run: RunRecord | null): boolean {
  return run !== null && run.source === 'schedule';
}

/**
 * Calls `fire` on `items` {@link FIRING_BATCH} at a time, {@link BATCHES_IN_FLIGHT} batches under
 * way at once (the next is prepared while the store writes the one before), none begun once
 * `isClosed`; resolves once every batch begun has settled, rejecting with the first failure.
 */
async function inBatches<T>(items: T[], isClosed: () => boolean, fire: (batch: T[]) => Promise<void>): Promise<void> {
  const inFlight: Promise<void>[] = [];
  let failure: { error: unknown } | null = null;
  for (let from = 0; from < items.length && !isClosed() && !failure; from += FIRING_BATCH) {
    inFlight.push(fire(items.slice(from, from + FIRING_BATCH)).catch((error: unknown) => void (failure ??= { error })));
    if (inFlight.length >= BATCHES_IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  if (failure) throw (failure as { error: unknown }).error;
}
