/**
 * The engine side of firing: a poll on the engine's clock claims the schedules that are due (one
 * store statement, whatever the number stored), fires each (schedule-firing.ts) and saves it over
 * the version it read, releasing the claim. A slot's run is started as the schedule's owner or its
 * service account, under the permission model and the run budgets, with an id derived from the
 * slot: engines racing for a slot create one run between them.
 */
import type { Clock, TimerHandle } from '../../clock.js';
import { ConflictError, NotFoundError, toFlowError } from '../../errors.js';
import type { FlowVersionRecord } from '../../model.js';
import type { NewRun, RunEventBody, RunRecord } from '../../run.js';
import type { ScheduleRecord } from '../../schedule.js';
import type { Store } from '../../store.js';
import type { AccessControl } from '../access/authorize.js';
import type { BuildRunInput } from '../engine-core.js';
import type { DerivedRunIds } from '../start/derived-run-ids.js';
import type { Logger } from '../types.js';
import { fireDue, type FiringDeps, type SlotStart } from './schedule-firing.js';

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
  cancelRunTree(runId: string, reason: string): Promise<void>;
  /** How often to look for due schedules (the engine's poll interval). */
  pollIntervalMs: number;
}

/** Schedules claimed per store statement. */
const CLAIM_BATCH = 1000;
/** Schedules fired at once by one poll. */
const FIRING_CONCURRENCY = 256;
/** How long a claim keeps other engines off a schedule this engine is firing. */
const CLAIM_MS = 30_000;

/** Claims and fires due schedules on the engine clock. */
export class SchedulePoller {
  readonly #deps: ScheduleEngineDeps;
  #timer: TimerHandle | null = null;
  #timerAt = 0;
  #ticking: Promise<void> | null = null;
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
   * process alive.
   */
  start(delayMs = this.#deps.pollIntervalMs): void {
    if (this.#closed || this.#timer) return;
    this.#timerAt = this.#deps.clock.now() + delayMs;
    this.#timer = this.#deps.clock.setTimeout(() => void (this.#ticking = this.#tick()), delayMs, { keepAlive: false });
  }

  /** Resolves when the background poll under way (if any) has fired what was due and set its next timer. */
  async whenIdle(): Promise<void> {
    while (this.#ticking) {
      const ticking = this.#ticking;
      await ticking;
      if (this.#ticking === ticking) this.#ticking = null;
    }
  }

  /** A schedule of this engine became due at `at` (created, changed, resumed): poll then if that is sooner than planned. */
  wake(at: number | null): void {
    if (at === null || this.#timer === null || at >= this.#timerAt) return;
    this.#timer.cancel();
    this.#timer = null;
    this.start(Math.max(0, at - this.#deps.clock.now()));
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    let delay = this.#deps.pollIntervalMs;
    try {
      await this.pollOnce();
      const next = await this.#deps.store.schedules.nextDueAt();
      const now = this.#deps.clock.now();
      // A due time already past is claimed elsewhere (or failed here): the poll interval, not a spin.
      if (next !== null && next > now) delay = Math.min(delay, next - now);
    } catch (error) {
      this.#deps.logger?.warn({ err: error }, 'schedule poll failed; next poll retries');
    }
    if (!this.#closed) this.start(delay);
  }

  /**
   * Claims every schedule due now and fires it; resolves with how many were fired. A poll already
   * under way is joined, not doubled. Safe beside any number of engines over the same store.
   */
  pollOnce(): Promise<number> {
    if (!this.#running) this.#running = this.#poll().finally(() => (this.#running = null));
    return this.#running;
  }

  async #poll(): Promise<number> {
    let fired = 0;
    let claims = 0;
    for (;;) {
      const now = this.#deps.clock.now();
      const due = await this.#deps.store.schedules.claimDueSchedules({ owner: this.#deps.workerId, now, claimUntil: now + CLAIM_MS, limit: CLAIM_BATCH });
      claims++;
      // Several schedules at once, so their writes share the store's group commits.
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < due.length && !this.#closed) {
          const schedule = due[next++]!;
          await this.fireAndSave(schedule, { releaseClaim: true }).catch((error: unknown) => this.#deps.logger?.warn({ err: error, scheduleId: schedule.scheduleId }, 'schedule not fired; a later poll retries'));
          fired++;
        }
      };
      await Promise.all(Array.from({ length: Math.min(FIRING_CONCURRENCY, due.length) }, worker));
      // A full batch may leave more due: claim again, reading only due rows.
      if (due.length < CLAIM_BATCH || this.#closed) break;
    }
    this.lastPollClaims = claims;
    return fired;
  }

  /**
   * Fires what is due (or asked) in `schedule` and saves the result over the version it was read
   * at. Another save first (a request, another engine): read again and fire from there, once.
   */
  async fireAndSave(schedule: ScheduleRecord, options: { releaseClaim?: boolean; asked?: { kind: 'trigger' | 'backfill'; slots: number[] } } = {}): Promise<ScheduleRecord> {
    let current = schedule;
    for (let attempt = 0; ; attempt++) {
      const next = await fireDue(this.firingDeps(), current, options.asked);
      try {
        return await this.#deps.store.schedules.saveSchedule({ schedule: next, expectedVersion: current.version, ...(options.releaseClaim ? { releaseClaim: true } : {}) });
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt > 0) throw error;
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
    const scope = schedule.origin === 'definition' ? 'definition' : schedule.owner;
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
      const fired: RunEventBody = {
        kind: 'log',
        entry: { time: run.startTime, code: 'ScheduleFired', description: `schedule ${schedule.scheduleId} started ${schedule.actionName} for ${new Date(slot).toISOString()}`, details: { scheduleId: schedule.scheduleId, scheduledTime: slot, previousTime, ...(kind === 'trigger' ? { triggered: true } : {}) } },
      };
      await deps.createAndExecute(run, [fired]);
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

  /** Stops polling; a poll under way finishes the schedule it is firing. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
  }
}

/** The tag a schedule's runs carry: `schedule:<id>`. */
export function scheduleTag(scheduleId: string): string {
  return `schedule:${scheduleId}`;
}

function isScheduleRun(run: RunRecord | null): boolean {
  return run !== null && run.source === 'schedule';
}
