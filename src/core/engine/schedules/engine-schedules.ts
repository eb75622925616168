/**
 * Schedules as the engine offers them (`engine.schedules`): create, read, list, update, pause,
 * resume, trigger, backfill and delete, under the permission model, plus the poll that fires them
 * and the schedules a flow definition declares, replaced when another version is published.
 *
 * Who may do what (DESIGN.md §6): creating a schedule needs the right to start its flow (and to
 * act as its `runAs`); its runs start as the creator, its owner, checked again at every slot.
 * A schedule is seen and managed by its owner, the flow's administrators and system
 * administrators; to anyone else it answers SCHEDULE_NOT_FOUND, like one that does not exist.
 *
 * The `engine/schedules/` room: this file, schedule-poller.ts (claims and fires on the engine
 * clock) and schedule-firing.ts (the policies). It may import core, the engine's contracts,
 * access/ and start/.
 */
import { limitExceeded } from '../../budgets.js';
import { checkValueBytes } from '../../json-size.js';
import { assertNestingWithin } from '../../json-depth.js';
import { bindActionInput } from '../../params.js';
import type { IdSource } from '../../clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../../errors.js';
import type { FlowVersionRecord } from '../../model.js';
import { canAdministerFlow, isSystemAdministrator } from '../../permissions.js';
import {
  MAX_BACKFILL_SLOTS,
  checkScheduleFields,
  definitionScheduleId,
  freshScheduleState,
  isScheduleName,
  withOutcomes,
  type ScheduleInput,
  type ScheduleFields,
  type ScheduleOutcome,
  type ScheduleRecord,
} from '../../schedule.js';
import { countSlots, nextSlots, slotsBetween } from '../../schedule-slots.js';
import type { SchedulePage } from '../../schedule-store.js';
import { principalIdOf, type AccessOptions, type PrincipalRef } from '../access/authorize.js';
import { nextLook, refreshOutcomes, slotCursor } from './schedule-firing.js';
import { SchedulePoller, type ScheduleEngineDeps } from './schedule-poller.js';

/** A schedule as the API shows it: the record, its next fire times, and its outcomes brought up to date. */
export interface ScheduleView extends ScheduleRecord {
  /** The next slots (at most `nextCount`, default 5), without jitter. */
  nextFireTimes: number[];
}

/** A page of schedules. */
export interface ScheduleViewPage {
  schedules: ScheduleView[];
  next: string | null;
}

/** Options of {@link EngineSchedules}. */
export interface EngineSchedulesDeps extends ScheduleEngineDeps {
  ids: IdSource;
  /** The engine's `maxNestingDepth`: a schedule's input nests no deeper. */
  maxNestingDepth: number;
}

const NOT_FOUND = (id: string) => new NotFoundError('SCHEDULE_NOT_FOUND', `schedule "${id}" does not exist`, { details: { scheduleId: id } });

/** How many store pages one `list` call reads at most while it looks for schedules its reader may see. */
const MAX_STORE_PAGES_PER_LIST = 10;

/** The engine's schedules. */
export class EngineSchedules {
  readonly #deps: EngineSchedulesDeps;
  readonly poller: SchedulePoller;

  constructor(deps: EngineSchedulesDeps) {
    this.#deps = deps;
    this.poller = new SchedulePoller(deps);
  }

  /**
   * Creates a schedule of `input.flowId`'s action. Throws INVALID_INPUT naming each bad field
   * (an invalid cron, an unknown time zone, …), FLOW_NOT_FOUND / ACTION_NOT_FOUND, PERMISSION_DENIED
   * when `as` may not start the flow or act as `runAs`, CONFLICT when `scheduleId` is taken.
   * Its first slot is the first after now (or after `startAt`).
   */
  async create(input: ScheduleInput & { scheduleId?: string; paused?: boolean; note?: string | null }, options: AccessOptions = {}): Promise<ScheduleView> {
    if (input.scheduleId !== undefined && !isScheduleName(input.scheduleId)) {
      throw new ValidationError('INVALID_INPUT', [{ path: 'scheduleId', message: `must be 1-128 letters, digits, "_", ".", ":" or "-", got ${JSON.stringify(input.scheduleId)}` }]);
    }
    if (typeof input.flowId !== 'string') throw new ValidationError('INVALID_INPUT', [{ path: 'flowId', message: 'is required: the flow whose action the schedule starts' }]);
    const fields = checkScheduleFields(input);
    await this.#checkStartable(fields, options.as);
    const owner = options.as === undefined ? '' : principalIdOf(options.as);
    if (owner !== '') await this.#assertUnderBudget(owner);
    const now = this.#deps.clock.now();
    const paused = input.paused === true;
    const base = { scheduleId: input.scheduleId ?? this.#deps.ids.newId(), ...fields, owner, origin: 'api' as const, definitionVersion: null, paused, note: input.note ?? null, state: freshScheduleState(), createdAt: now, updatedAt: now };
    const created = await this.#deps.store.schedules.createSchedule({ ...base, nextFireAt: nextLook(base, base.state, this.#now()) });
    this.poller.wake(created.nextFireAt);
    return this.#view(created);
  }

  /**
   * Checks what every slot's start would check, once, before anything is stored: the flow and its
   * action exist, `as` may start it (as `runAs`), and the input is one the action accepts — nested
   * no deeper than `maxNestingDepth`, within `maxValueBytes`, and binding to its params. A bad
   * input is INVALID_INPUT naming the field, not a failed run at every slot.
   */
  async #checkStartable(fields: ScheduleFields, as: PrincipalRef | undefined): Promise<void> {
    const flow = await this.#deps.loadFlow(fields.flowId);
    const action = Object.hasOwn(flow.definition.actions, fields.actionName) ? flow.definition.actions[fields.actionName]! : null;
    if (!action) throw new NotFoundError('ACTION_NOT_FOUND', `flow "${flow.flowId}" has no action "${fields.actionName}"`);
    await this.#deps.access.assertCanStart({ by: as ?? null, flow, runAs: fields.runAs, hidden: { version: undefined } });
    assertNestingWithin(fields.input, { path: 'input', maxDepth: this.#deps.maxNestingDepth });
    checkValueBytes(fields.input, this.#deps.budgets().maxValueBytes, "the schedule's input");
    const bound = bindActionInput(action, fields.input, flow.definition.classes);
    if (!bound.ok) throw new ValidationError('INVALID_INPUT', bound.issues);
  }

  /**
   * Throws LIMIT_EXCEEDED (`maxSchedulesPerPrincipal`) when `owner` already owns that many
   * schedules made over the API. Counted by reading the schedules a page at a time: creating one is
   * rare, and the count needs no index of its own.
   */
  async #assertUnderBudget(owner: string): Promise<void> {
    const max = this.#deps.budgets().maxSchedulesPerPrincipal;
    let owned = 0;
    let after: string | undefined;
    do {
      const page = await this.#deps.store.schedules.listSchedules({ limit: 1_000, ...(after !== undefined ? { after } : {}) });
      for (const s of page.schedules) if (s.origin === 'api' && s.owner === owner) owned += 1;
      after = page.next ?? undefined;
    } while (after !== undefined && owned < max);
    if (owned >= max) throw limitExceeded('maxSchedulesPerPrincipal', max, owned + 1, `${owner} already owns ${owned} schedules (budget maxSchedulesPerPrincipal is ${max}): delete one first`);
  }

  /** A schedule with its next fire times and its runs' outcomes. Throws SCHEDULE_NOT_FOUND, also when `as` may not see it. */
  async get(scheduleId: string, options: AccessOptions & { nextCount?: number } = {}): Promise<ScheduleView> {
    return this.#view(await this.#visible(scheduleId, options.as), options.nextCount);
  }

  /**
   * The schedules `as` may see, in id order, a page at a time (`after`: the previous page's `next`).
   * A page holds `limit` schedules unless the store ends first or `as` may see few of those read:
   * the store is read at most 10 store pages deep per call, so a reader
   * who sees little among many schedules gets a short (even empty) page with a `next` to go on from,
   * never a request that reads the whole store.
   */
  async list(filter: { flowId?: string; after?: string; limit?: number } = {}, options: AccessOptions = {}): Promise<ScheduleViewPage> {
    const limit = Math.min(Math.max(1, filter.limit ?? 50), 500);
    const visible: ScheduleView[] = [];
    let after = filter.after;
    for (let read = 0; read < MAX_STORE_PAGES_PER_LIST; read += 1) {
      const page: SchedulePage = await this.#deps.store.schedules.listSchedules({ limit, ...(filter.flowId !== undefined ? { flowId: filter.flowId } : {}), ...(after !== undefined ? { after } : {}) });
      for (const [i, schedule] of page.schedules.entries()) {
        if (!(await this.#mayManage(schedule, options.as))) continue;
        visible.push(await this.#view(schedule));
        if (visible.length === limit) return { schedules: visible, next: i < page.schedules.length - 1 || page.next !== null ? schedule.scheduleId : null };
      }
      if (page.next === null) return { schedules: visible, next: null };
      after = page.next;
    }
    return { schedules: visible, next: after ?? null };
  }

  /**
   * Changes a schedule's fields (what is not given stays). A new spec starts from now: slots of
   * the new spec before now do not fire. A schedule a flow definition declares is changed by
   * publishing a new version: CONFLICT here.
   */
  async update(scheduleId: string, changes: ScheduleInput, options: AccessOptions = {}): Promise<ScheduleView> {
    return this.#change(scheduleId, options.as, async (schedule, now) => {
      if (schedule.origin === 'definition') throw new ConflictError(`schedule "${scheduleId}" is declared by flow "${schedule.flowId}" v${schedule.definitionVersion}: publish a new version to change it`, { details: { scheduleId } });
      const fields = checkScheduleFields(changes, { base: schedule });
      if (fields.flowId !== schedule.flowId || fields.actionName !== schedule.actionName || fields.runAs !== schedule.runAs || changes.input !== undefined) await this.#checkStartable(fields, options.as);
      const specChanged = JSON.stringify(fields.spec) !== JSON.stringify(schedule.spec);
      const state = specChanged ? { ...schedule.state, lastSlot: Math.max(schedule.state.lastSlot ?? schedule.createdAt, now) } : schedule.state;
      return { ...schedule, ...fields, state };
    });
  }

  /** Pauses a schedule with a note: no slot fires until it is resumed (those in between are skipped, recorded). */
  pause(scheduleId: string, note: string | null = null, options: AccessOptions = {}): Promise<ScheduleView> {
    return this.#change(scheduleId, options.as, async (schedule) => ({ ...schedule, paused: true, note: note ?? 'paused' }));
  }

  /**
   * Resumes a paused schedule from now: the slots it missed while paused are recorded as skipped
   * (one range), not fired; the count of consecutive failures starts again.
   */
  resume(scheduleId: string, options: AccessOptions = {}): Promise<ScheduleView> {
    return this.#change(scheduleId, options.as, async (schedule, now) => {
      if (!schedule.paused) return schedule;
      const from = slotCursor(schedule, schedule.state);
      const until = schedule.endAt === null ? now : Math.min(now, schedule.endAt);
      const missed = until > from ? countSlots(schedule.spec, from, until, 1_000_000) : 0;
      const skipped: ScheduleOutcome[] = missed > 0 ? [{ slot: slotsBetween(schedule.spec, from, until, 1).slots[0]!, count: missed, status: 'skipped', reason: `paused: ${missed} slot(s) while the schedule was paused`, at: now }] : [];
      return { ...schedule, paused: false, note: null, state: { ...withOutcomes(schedule.state, skipped), lastSlot: Math.max(from, until), consecutiveFailures: 0 } };
    });
  }

  /** Starts a run now, through the overlap policy (skipped while the last run goes on, under `skip`); resolves with the schedule and what happened. */
  async trigger(scheduleId: string, options: AccessOptions = {}): Promise<{ schedule: ScheduleView; outcomes: ScheduleOutcome[] }> {
    const schedule = await this.#visible(scheduleId, options.as);
    const saved = await this.poller.fireAndSave(schedule, { asked: { kind: 'trigger', slots: [this.#deps.clock.now()] } });
    return { schedule: await this.#view(saved), outcomes: newOutcomes(schedule, saved) };
  }

  /**
   * Fires the slots in [`from`, `to`] through the overlap policy: slots that already ran meet
   * their runs (same derived ids) and start nothing new. INVALID_INPUT for a range of more than
   * {@link MAX_BACKFILL_SLOTS} slots.
   */
  async backfill(scheduleId: string, range: { from: number; to: number }, options: AccessOptions = {}): Promise<{ schedule: ScheduleView; outcomes: ScheduleOutcome[] }> {
    if (!(Number.isFinite(range.from) && Number.isFinite(range.to) && range.to >= range.from)) throw new ValidationError('INVALID_INPUT', [{ path: 'to', message: 'must be a time at or after "from"' }]);
    const schedule = await this.#visible(scheduleId, options.as);
    const { slots, more } = slotsBetween(schedule.spec, range.from - 1, range.to, MAX_BACKFILL_SLOTS);
    if (more) throw new ValidationError('INVALID_INPUT', [{ path: 'to', message: `the range holds more than ${MAX_BACKFILL_SLOTS} slots; backfill it in parts` }]);
    const saved = await this.poller.fireAndSave(schedule, { asked: { kind: 'backfill', slots } });
    return { schedule: await this.#view(saved), outcomes: newOutcomes(schedule, saved) };
  }

  /** Deletes a schedule; the runs it started stay. CONFLICT for one a flow definition declares. */
  async delete(scheduleId: string, options: AccessOptions = {}): Promise<void> {
    const schedule = await this.#visible(scheduleId, options.as);
    if (schedule.origin === 'definition') throw new ConflictError(`schedule "${scheduleId}" is declared by flow "${schedule.flowId}": publish a version without it to remove it`, { details: { scheduleId } });
    if (!(await this.#deps.store.schedules.deleteSchedule(scheduleId))) throw NOT_FOUND(scheduleId);
  }

  /** Makes the flow's schedules those of its version in effect (published, else latest): after a deploy or a publish. */
  async syncFlow(flowId: string): Promise<void> {
    await this.syncDefinition(await this.#deps.loadFlow(flowId));
  }

  /**
   * Makes the schedules of `flow` (the version now in effect) those its definition declares: new
   * ones created, changed ones updated in place — same id, same state, so the slot in progress at
   * the switch keeps its run id and fires once — and those it no longer names deleted.
   */
  async syncDefinition(flow: FlowVersionRecord): Promise<void> {
    const store = this.#deps.store.schedules;
    const declared = new Map((flow.definition.schedules ?? []).map((d) => [definitionScheduleId(flow.flowId, d.name), d]));
    const now = this.#deps.clock.now();
    for (let after: string | undefined, page: SchedulePage; ; after = page.next!) {
      page = await store.listSchedules({ flowId: flow.flowId, limit: 200, ...(after !== undefined ? { after } : {}) });
      for (const schedule of page.schedules) if (schedule.origin === 'definition' && !declared.has(schedule.scheduleId)) await store.deleteSchedule(schedule.scheduleId);
      if (page.next === null) break;
    }
    for (const [scheduleId, { name: _name, action, ...input }] of declared) {
      const fields = checkScheduleFields({ ...input, flowId: flow.flowId, ...(action !== undefined ? { actionName: action } : {}) }, { code: 'INVALID_DEFINITION' });
      // An engine firing the schedule may save between the read and the write: read again.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.#syncOne(flow, scheduleId, fields, now);
          break;
        } catch (error) {
          if (!(error instanceof ConflictError) || attempt >= 4) throw error;
        }
      }
    }
  }

  async #syncOne(flow: FlowVersionRecord, scheduleId: string, fields: ScheduleFields, now: number): Promise<void> {
    const store = this.#deps.store.schedules;
    const existing = await store.getSchedule(scheduleId);
    const owner = flow.deployedBy;
    if (!existing) {
      const base = { scheduleId, ...fields, owner, origin: 'definition' as const, definitionVersion: flow.version, paused: false, note: null, state: freshScheduleState(), createdAt: now, updatedAt: now };
      const nextFireAt = nextLook(base, base.state, this.#now());
      await store.createSchedule({ ...base, nextFireAt }).catch((error: unknown) => {
        if (!(error instanceof ConflictError)) throw error; // another engine published the same version at once
      });
      this.poller.wake(nextFireAt);
      return;
    }
    const specChanged = JSON.stringify(fields.spec) !== JSON.stringify(existing.spec);
    const state = specChanged ? { ...existing.state, lastSlot: Math.max(existing.state.lastSlot ?? existing.createdAt, now) } : existing.state;
    const next = { ...existing, ...fields, owner, origin: 'definition' as const, definitionVersion: flow.version, state, updatedAt: now };
    await store.saveSchedule({ schedule: { ...next, nextFireAt: nextLook(next, state, this.#now()) }, expectedVersion: existing.version, releaseClaim: true });
  }

  /** Fires every schedule due now (the background poll does this every poll interval); resolves with how many it looked at. */
  pollOnce(): Promise<number> {
    return this.poller.pollOnce();
  }

  async #change(scheduleId: string, as: PrincipalRef | undefined, change: (schedule: ScheduleRecord, now: number) => Promise<ScheduleRecord>): Promise<ScheduleView> {
    for (let attempt = 0; ; attempt++) {
      const schedule = await this.#visible(scheduleId, as);
      const now = this.#deps.clock.now();
      const changed = await change(schedule, now);
      const next = { ...changed, updatedAt: now, nextFireAt: nextLook(changed, changed.state, this.#now()) };
      try {
        const saved = await this.#deps.store.schedules.saveSchedule({ schedule: next, expectedVersion: schedule.version, releaseClaim: true });
        this.poller.wake(saved.nextFireAt);
        return this.#view(saved);
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= 2) throw error;
      }
    }
  }

  async #visible(scheduleId: string, as: PrincipalRef | undefined): Promise<ScheduleRecord> {
    const schedule = await this.#deps.store.schedules.getSchedule(scheduleId);
    if (!schedule || !(await this.#mayManage(schedule, as))) throw NOT_FOUND(scheduleId);
    return schedule;
  }

  async #mayManage(schedule: ScheduleRecord, as: PrincipalRef | undefined): Promise<boolean> {
    if (as === undefined || principalIdOf(as) === schedule.owner) return true;
    const principal = await this.#deps.access.principal(as);
    const flow = await this.#deps.loadFlow(schedule.flowId).catch(() => null);
    // A schedule whose flow is gone: its owner and system administrators only.
    return flow ? canAdministerFlow(principal, { deployedBy: flow.deployedBy, roles: flow.definition.roles }) : isSystemAdministrator(principal);
  }

  async #view(schedule: ScheduleRecord, nextCount = 5): Promise<ScheduleView> {
    const state = await refreshOutcomes({ getRun: (id) => this.#deps.store.getRun(id) }, schedule.state);
    const from = Math.max(slotCursor(schedule, state), this.#deps.clock.now());
    const count = Math.min(Math.max(0, nextCount), 100);
    const upcoming = schedule.paused || state.completed ? [] : nextSlots(schedule.spec, from, count, schedule.endAt);
    const left = schedule.maxRuns === null ? upcoming : upcoming.slice(0, Math.max(0, schedule.maxRuns - state.runCount));
    return { ...schedule, state, nextFireTimes: left };
  }

  #now(): { now: number; recheckMs: number } {
    return { now: this.#deps.clock.now(), recheckMs: this.#deps.pollIntervalMs };
  }
}

/** The outcomes `after` holds that `before` did not (what one trigger or backfill did). */
function newOutcomes(before: ScheduleRecord, after: ScheduleRecord): ScheduleOutcome[] {
  const key = (o: ScheduleOutcome): string => `${o.slot}:${o.at}:${o.kind ?? ''}:${o.runId ?? o.status}`;
  const seen = new Set([...before.state.recent, ...before.state.skipped].map(key));
  return [...after.state.recent, ...after.state.skipped].filter((o) => !seen.has(key(o)) && o.at === after.updatedAt);
}
