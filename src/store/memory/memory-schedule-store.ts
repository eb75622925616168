/**
 * Schedules in memory: copies of the records by id, and a claim beside each. Due schedules are
 * found by a scan (the memory store is for tests and short-lived use; the row stores keep an index).
 */
import { ConflictError, NotFoundError } from '../../core/errors.js';
import { cloneJson } from '../../core/json.js';
import type { ScheduleRecord } from '../../core/schedule.js';
import type { ClaimedSchedule, ClaimPosition, NewSchedule, SchedulePage, ScheduleStore } from '../../core/schedule-store.js';

interface Entry {
  record: ScheduleRecord;
  claimOwner: string | null;
  claimUntil: number;
}

/** A {@link ScheduleStore} in one process's memory. */
export class MemoryScheduleStore implements ScheduleStore {
  readonly #entries = new Map<string, Entry>();
  readonly #assertOpen: () => void;

  constructor(assertOpen: () => void) {
    this.#assertOpen = assertOpen;
  }

  async createSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    this.#assertOpen();
    if (this.#entries.has(schedule.scheduleId)) throw new ConflictError(`schedule "${schedule.scheduleId}" already exists`, { details: { scheduleId: schedule.scheduleId } });
    const record: ScheduleRecord = { ...cloneJson(schedule), version: 1 };
    this.#entries.set(schedule.scheduleId, { record, claimOwner: null, claimUntil: 0 });
    return cloneJson(record);
  }

  async getSchedule(scheduleId: string): Promise<ScheduleRecord | null> {
    this.#assertOpen();
    const entry = this.#entries.get(scheduleId);
    return entry ? cloneJson(entry.record) : null;
  }

  async listSchedules(input: { flowId?: string; after?: string; limit: number }): Promise<SchedulePage> {
    this.#assertOpen();
    const limit = Math.max(1, Math.floor(input.limit));
    const ids = [...this.#entries.keys()].filter((id) => (input.after === undefined || id > input.after) && (input.flowId === undefined || this.#entries.get(id)!.record.flowId === input.flowId)).sort();
    const page = ids.slice(0, limit).map((id) => cloneJson(this.#entries.get(id)!.record));
    return { schedules: page, next: ids.length > limit ? page.at(-1)!.scheduleId : null };
  }

  async saveSchedule(input: { schedule: ScheduleRecord; expectedVersion: number; releaseClaim?: boolean }): Promise<ScheduleRecord> {
    this.#assertOpen();
    const { scheduleId } = input.schedule;
    const entry = this.#entries.get(scheduleId);
    if (!entry) throw new NotFoundError('SCHEDULE_NOT_FOUND', `schedule "${scheduleId}" does not exist`, { details: { scheduleId } });
    if (entry.record.version !== input.expectedVersion) throw new ConflictError(`schedule "${scheduleId}" changed (version ${entry.record.version}, expected ${input.expectedVersion})`, { details: { scheduleId } });
    entry.record = { ...cloneJson(input.schedule), version: input.expectedVersion + 1 };
    if (input.releaseClaim) {
      entry.claimOwner = null;
      entry.claimUntil = 0;
    }
    return cloneJson(entry.record);
  }

  async saveSchedules(input: { saves: { schedule: ScheduleRecord; expectedVersion: number }[] }): Promise<string[]> {
    this.#assertOpen();
    const saved: string[] = [];
    for (const { schedule, expectedVersion } of input.saves) {
      const entry = this.#entries.get(schedule.scheduleId);
      if (!entry || entry.record.version !== expectedVersion) continue;
      entry.record = { ...cloneJson(schedule), version: expectedVersion + 1 };
      entry.claimOwner = null;
      entry.claimUntil = 0;
      saved.push(schedule.scheduleId);
    }
    return saved;
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    this.#assertOpen();
    return this.#entries.delete(scheduleId);
  }

  async nextDueAt(): Promise<number | null> {
    this.#assertOpen();
    let next: number | null = null;
    for (const { record } of this.#entries.values()) if (record.nextFireAt !== null && (next === null || record.nextFireAt < next)) next = record.nextFireAt;
    return next;
  }

  async claimDueSchedules(input: { owner: string; now: number; claimUntil: number; limit: number; after?: ClaimPosition }): Promise<ClaimedSchedule[]> {
    this.#assertOpen();
    const { after } = input;
    const isAfter = (r: ScheduleRecord): boolean => !after || r.nextFireAt! > after.nextFireAt || (r.nextFireAt === after.nextFireAt && r.scheduleId > after.scheduleId);
    const due = [...this.#entries.values()]
      .filter((e) => e.record.nextFireAt !== null && e.record.nextFireAt <= input.now && (e.claimOwner === null || e.claimUntil <= input.now) && isAfter(e.record))
      .sort((a, b) => a.record.nextFireAt! - b.record.nextFireAt! || (a.record.scheduleId < b.record.scheduleId ? -1 : 1))
      .slice(0, Math.max(0, Math.floor(input.limit)));
    return due.map((entry): ClaimedSchedule => {
      const abandoned = entry.claimOwner !== null;
      entry.claimOwner = input.owner;
      entry.claimUntil = input.claimUntil;
      return abandoned ? { ...cloneJson(entry.record), claimAbandoned: true } : cloneJson(entry.record);
    });
  }
}
