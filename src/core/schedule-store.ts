/**
 * The persistence contract of schedules (`Store.schedules`): records kept whole, with the few
 * fields the engine looks them up by (id, flow, when due, who holds the claim). Every method is
 * one atomic operation; the memory, SQLite and PostgreSQL stores pass schedule-store.conformance.ts.
 */
import type { ScheduleRecord } from './schedule.js';

/** A schedule to create: everything but what the store sets. */
export type NewSchedule = Omit<ScheduleRecord, 'version'>;

/**
 * A schedule as {@link ScheduleStore.claimDueSchedules} hands it out. `claimAbandoned` (set only
 * when true, never stored) says an earlier claim on it ran out unreleased: the engine that held it
 * stopped or failed mid-look, and may have started runs for its slots without saving the schedule
 * — possibly under ids an older flowrun derived (DerivedRunIds.legacyForScheduleSlot).
 */
export type ClaimedSchedule = ScheduleRecord & { claimAbandoned?: true };

/** Where a claim stopped: the due time and id of the last schedule it returned. */
export interface ClaimPosition {
  nextFireAt: number;
  scheduleId: string;
}

/** A page of schedules, in id order. */
export interface SchedulePage {
  schedules: ScheduleRecord[];
  /** The id to pass as `after` for the next page; null on the last page. */
  next: string | null;
}

/** Schedules as the store keeps them. */
export interface ScheduleStore {
  /** Creates a schedule (version 1). Throws ConflictError (CONFLICT) when the id exists. */
  createSchedule(schedule: NewSchedule): Promise<ScheduleRecord>;
  /** A schedule by id; null when there is none. */
  getSchedule(scheduleId: string): Promise<ScheduleRecord | null>;
  /** Schedules in id order after `after`, optionally of one flow; at most `limit`. */
  listSchedules(input: { flowId?: string; after?: string; limit: number }): Promise<SchedulePage>;
  /**
   * Replaces a schedule whose stored version is `expectedVersion`; the stored version becomes
   * `expectedVersion + 1` and is handed back. With `releaseClaim` the claim (see
   * {@link claimDueSchedules}) is dropped in the same write. Throws ConflictError (CONFLICT) when
   * the version moved on — another engine or a request saved first — and NotFoundError
   * (SCHEDULE_NOT_FOUND) when it was deleted: the caller computed from an old record.
   */
  saveSchedule(input: { schedule: ScheduleRecord; expectedVersion: number; releaseClaim?: boolean }): Promise<ScheduleRecord>;
  /**
   * Saves several schedules as {@link saveSchedule} does with `releaseClaim`, in one atomic write
   * (a burst of fired schedules costs one commit, not one each); resolves with the ids of those
   * saved. One whose stored version is no longer `expectedVersion`, or that was deleted, is left as
   * it is and not in the answer: the caller computed it from an old record and reads it again.
   */
  saveSchedules(input: { saves: { schedule: ScheduleRecord; expectedVersion: number }[] }): Promise<string[]>;
  /** Deletes a schedule; false when there was none. Runs it started stay. */
  deleteSchedule(scheduleId: string): Promise<boolean>;
  /**
   * Claims up to `limit` schedules due at `now` (`nextFireAt <= now`) that no claim holds (or
   * whose claim ran out), soonest due first, for `owner` until `claimUntil`, in one statement over
   * the `nextFireAt` index: a poll costs the same however many schedules are stored. A claim
   * keeps other engines from doing the same work at once; it is not what makes a slot fire once
   * (the run id derived from the slot is). It changes no version. A schedule whose earlier claim
   * ran out without a save releasing it comes marked `claimAbandoned`. With `after` (the last
   * schedule a previous claim of the same poll returned), only schedules after it in that order are
   * looked at: a poll claiming a burst in several statements does not walk the rows it claimed already.
   */
  claimDueSchedules(input: { owner: string; now: number; claimUntil: number; limit: number; after?: ClaimPosition }): Promise<ClaimedSchedule[]>;
  /** The earliest `nextFireAt` of any schedule (claimed or not), read off the same index; null when none will fire. Pollers sleep until then. */
  nextDueAt(): Promise<number | null>;
}
