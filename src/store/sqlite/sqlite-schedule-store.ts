/**
 * Schedules in SQLite (`flowrun_schedules`, migration 14): each record whole as JSON in `body`,
 * beside the columns it is found by — the due time, indexed only while set (paused and completed
 * schedules cost the claim nothing), the claim, and the version every save checks.
 */
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { ScheduleRecord } from '../../core/schedule.js';
import type { ClaimedSchedule, ClaimPosition, NewSchedule, SchedulePage, ScheduleStore } from '../../core/schedule-store.js';
import type { SqliteConnection } from './sqlite-connection.js';

interface ScheduleRow {
  body: string;
  version: number;
}

/** How the schedule store reaches the database: the SqliteStore's queued writes and reads. */
export interface SqliteScheduleAccess {
  write<T>(operation: (connection: SqliteConnection) => T): Promise<T>;
  read<T>(query: (connection: SqliteConnection) => T): Promise<T>;
}

const fromRow = (row: ScheduleRow): ScheduleRecord => ({ ...(JSON.parse(row.body) as Omit<ScheduleRecord, 'version'>), version: row.version });
const bodyOf = (schedule: NewSchedule | ScheduleRecord): string => {
  const { version: _version, ...body } = schedule as ScheduleRecord;
  return JSON.stringify(body);
};

/** A {@link ScheduleStore} in the SqliteStore's file. */
export class SqliteScheduleStore implements ScheduleStore {
  readonly #db: SqliteScheduleAccess;

  constructor(db: SqliteScheduleAccess) {
    this.#db = db;
  }

  createSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    return this.#db.write((c) => {
      const inserted = c.run('INSERT OR IGNORE INTO flowrun_schedules (schedule_id, flow_id, next_fire_at, version, body) VALUES (?, ?, ?, 1, ?)', [
        schedule.scheduleId,
        schedule.flowId,
        schedule.nextFireAt,
        bodyOf(schedule),
      ]);
      if (inserted === 0) throw new ConflictError(`schedule "${schedule.scheduleId}" already exists`, { details: { scheduleId: schedule.scheduleId } });
      return { ...(JSON.parse(bodyOf(schedule)) as NewSchedule), version: 1 };
    });
  }

  getSchedule(scheduleId: string): Promise<ScheduleRecord | null> {
    return this.#db.read((c) => {
      const row = c.get<ScheduleRow>('SELECT body, version FROM flowrun_schedules WHERE schedule_id = ?', [scheduleId]);
      return row ? fromRow(row) : null;
    });
  }

  listSchedules(input: { flowId?: string; after?: string; limit: number }): Promise<SchedulePage> {
    const limit = Math.max(1, Math.floor(input.limit));
    return this.#db.read((c) => {
      const where = [input.flowId !== undefined ? 'flow_id = ?' : null, input.after !== undefined ? 'schedule_id > ?' : null].filter(Boolean);
      const params = [...(input.flowId !== undefined ? [input.flowId] : []), ...(input.after !== undefined ? [input.after] : []), limit + 1];
      const rows = c.all<ScheduleRow>(`SELECT body, version FROM flowrun_schedules ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY schedule_id LIMIT ?`, params);
      const schedules = rows.slice(0, limit).map(fromRow);
      return { schedules, next: rows.length > limit ? schedules.at(-1)!.scheduleId : null };
    });
  }

  saveSchedule(input: { schedule: ScheduleRecord; expectedVersion: number; releaseClaim?: boolean }): Promise<ScheduleRecord> {
    const { schedule, expectedVersion } = input;
    return this.#db.write((c) => {
      const changed = updateSchedule(c, schedule, expectedVersion, input.releaseClaim === true);
      if (changed === 0) throw staleSave(c.get<{ version: number }>('SELECT version FROM flowrun_schedules WHERE schedule_id = ?', [schedule.scheduleId])?.version, schedule.scheduleId, expectedVersion);
      return { ...(JSON.parse(bodyOf(schedule)) as NewSchedule), version: expectedVersion + 1 };
    });
  }

  saveSchedules(input: { saves: { schedule: ScheduleRecord; expectedVersion: number }[] }): Promise<string[]> {
    if (input.saves.length === 0) return Promise.resolve([]);
    return this.#db.write((c) => {
      const saved: string[] = [];
      for (const { schedule, expectedVersion } of input.saves) {
        if (updateSchedule(c, schedule, expectedVersion, true) > 0) saved.push(schedule.scheduleId);
      }
      return saved;
    });
  }

  deleteSchedule(scheduleId: string): Promise<boolean> {
    return this.#db.write((c) => c.run('DELETE FROM flowrun_schedules WHERE schedule_id = ?', [scheduleId]) > 0);
  }

  nextDueAt(): Promise<number | null> {
    return this.#db.read((c) => c.get<{ next: number | null }>('SELECT MIN(next_fire_at) AS next FROM flowrun_schedules WHERE next_fire_at IS NOT NULL')?.next ?? null);
  }

  claimDueSchedules(input: { owner: string; now: number; claimUntil: number; limit: number; after?: ClaimPosition }): Promise<ClaimedSchedule[]> {
    const limit = Math.max(0, Math.floor(input.limit));
    if (limit === 0) return Promise.resolve([]);
    return this.#db.write((c) => {
      // Two statements in one write (nothing else writes between them): RETURNING sees only the new
      // claim, and whether the one before it was released is read first.
      const after = input.after ? ' AND (next_fire_at, schedule_id) > (?, ?)' : '';
      const picked = c.all<{ schedule_id: string; claim_until: number }>(
        `SELECT schedule_id, claim_until FROM flowrun_schedules WHERE next_fire_at <= ? AND claim_until <= ?${after} ORDER BY next_fire_at, schedule_id LIMIT ?`,
        [input.now, input.now, ...(input.after ? [input.after.nextFireAt, input.after.scheduleId] : []), limit],
      );
      if (picked.length === 0) return [];
      const rows = c.all<ScheduleRow & { next_fire_at: number; schedule_id: string }>(
        `UPDATE flowrun_schedules SET claim_owner = ?, claim_until = ?
          WHERE schedule_id IN (SELECT value FROM json_each(?))
          RETURNING schedule_id, next_fire_at, body, version`,
        [input.owner, input.claimUntil, JSON.stringify(picked.map((p) => p.schedule_id))],
      );
      const abandoned = new Set(picked.filter((p) => p.claim_until > 0).map((p) => p.schedule_id));
      rows.sort((a, b) => a.next_fire_at - b.next_fire_at || (a.schedule_id < b.schedule_id ? -1 : 1));
      return rows.map((row): ClaimedSchedule => (abandoned.has(row.schedule_id) ? { ...fromRow(row), claimAbandoned: true } : fromRow(row)));
    });
  }
}

/** The error of a save computed from an old record: deleted since, or saved by someone else first. */
export function staleSave(version: number | undefined, scheduleId: string, expectedVersion: number): Error {
  if (version === undefined) return new NotFoundError('SCHEDULE_NOT_FOUND', `schedule "${scheduleId}" does not exist`, { details: { scheduleId } });
  return new ConflictError(`schedule "${scheduleId}" changed (version ${version}, expected ${expectedVersion})`, { details: { scheduleId } });
}

/** Writes `schedule` over version `expectedVersion` (releasing its claim when asked); the number of rows changed: 0 when it was saved or deleted since. */
function updateSchedule(c: SqliteConnection, schedule: ScheduleRecord, expectedVersion: number, releaseClaim: boolean): number {
  const claim = releaseClaim ? ', claim_owner = NULL, claim_until = 0' : '';
  return c.run(`UPDATE flowrun_schedules SET flow_id = ?, next_fire_at = ?, version = ?, body = ?${claim} WHERE schedule_id = ? AND version = ?`, [
    schedule.flowId,
    schedule.nextFireAt,
    expectedVersion + 1,
    bodyOf(schedule),
    schedule.scheduleId,
    expectedVersion,
  ]);
}
