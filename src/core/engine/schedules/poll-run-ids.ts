/**
 * The run ids of one poll's slots, derived once each, and the order a poll fires its schedules in:
 * by the run id of each schedule's first due slot. A slot's id begins with the slot's time
 * (DerivedRunIds.forScheduleSlot), so when a burst's runs are created in that order each batch's
 * ids sort after the batch before: the stores append to their run-id indexes (a few pages per
 * batch) instead of writing one page per run, whatever order the schedules were claimed in.
 */
import type { ScheduleRecord } from '../../schedule.js';
import { nextSlotAfter } from '../../schedule-slots.js';
import type { DerivedRunIds } from '../start/derived-run-ids.js';
import { slotCursor } from './schedule-firing.js';

/** The ids of one poll's slots, each derived once (the order asks for the first slot's, the batch for every slot's). */
export class PollRunIds {
  readonly #runIds: DerivedRunIds;
  /** By schedule id (unique in the store, so one scope each), then kind and slot. */
  readonly #ids = new Map<string, Map<string, Promise<string>>>();

  constructor(runIds: DerivedRunIds) {
    this.#runIds = runIds;
  }

  /** The run id of `slot` of `schedule` (DerivedRunIds.forScheduleSlot, scoped by owner or `definition`). */
  forSlot(schedule: Pick<ScheduleRecord, 'scheduleId' | 'owner' | 'origin'>, slot: number, kind: 'slot' | 'trigger'): Promise<string> {
    let ofSchedule = this.#ids.get(schedule.scheduleId);
    if (!ofSchedule) this.#ids.set(schedule.scheduleId, (ofSchedule = new Map()));
    const key = `${kind}${slot}`;
    let id = ofSchedule.get(key);
    if (!id) ofSchedule.set(key, (id = this.#runIds.forScheduleSlot(scheduleScope(schedule), schedule.scheduleId, slot, kind)));
    return id;
  }

  /** The id the slot had before ids began with the slot's time (an older engine's). */
  legacyForSlot(schedule: Pick<ScheduleRecord, 'scheduleId' | 'owner' | 'origin'>, slot: number, kind: 'slot' | 'trigger'): Promise<string> {
    return this.#runIds.legacyForScheduleSlot(scheduleScope(schedule), schedule.scheduleId, slot, kind);
  }
}

/** Whose names a schedule's id is unique among: its owner's, or (declared by a flow definition) every definition's. */
export function scheduleScope(schedule: Pick<ScheduleRecord, 'owner' | 'origin'>): string {
  return schedule.origin === 'definition' ? 'definition' : schedule.owner;
}

/**
 * `schedules` sorted by the run id of the slot each fires first (a buffered slot, else the next
 * slot after the last one handled); a schedule with no slot left goes first, as it starts no run.
 */
export async function inRunIdOrder(ids: PollRunIds, schedules: ScheduleRecord[]): Promise<ScheduleRecord[]> {
  const keyed = await Promise.all(
    schedules.map(async (schedule) => {
      const slot = schedule.state.buffered[0] ?? nextSlotAfter(schedule.spec, slotCursor(schedule, schedule.state));
      return { schedule, key: slot === null ? '' : await ids.forSlot(schedule, slot, 'slot') };
    }),
  );
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.schedule);
}
