/**
 * Schedules in PostgreSQL (`schedules`, migration 18): each record whole as JSON text in `body`,
 * beside the columns it is found by. The claim is one UPDATE over the partial due index with
 * `FOR UPDATE SKIP LOCKED`, so engines polling at once take different schedules and none waits.
 */
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { ScheduleRecord } from '../../core/schedule.js';
import type { ClaimedSchedule, ClaimPosition, NewSchedule, SchedulePage, ScheduleStore } from '../../core/schedule-store.js';
import type { PgAccess } from './pg-principal-store.js';

interface ScheduleRow {
  body: string;
  version: number;
}

const fromRow = (row: ScheduleRow): ScheduleRecord => ({ ...(JSON.parse(row.body) as Omit<ScheduleRecord, 'version'>), version: row.version });
const bodyOf = (schedule: NewSchedule | ScheduleRecord): string => {
  const { version: _version, ...body } = schedule as ScheduleRecord;
  return JSON.stringify(body);
};

/** A {@link ScheduleStore} in the schema of a PostgresStore. */
export class PgScheduleStore implements ScheduleStore {
  readonly #db: Pick<PgAccess, 'read' | 'statement'>;

  /** `db` reaches the migrated schema; `assertOpen` throws once the store was closed. */
  constructor(db: PgAccess, assertOpen: () => void) {
    this.#db = {
      read: (fn) => (assertOpen(), db.read(fn)),
      statement: (fn) => (assertOpen(), db.statement(fn)),
    };
  }

  async createSchedule(schedule: NewSchedule): Promise<ScheduleRecord> {
    const body = bodyOf(schedule);
    const inserted = await this.#db.statement((sql) =>
      sql.query('INSERT INTO schedules (schedule_id, flow_id, next_fire_at, version, body) VALUES ($1, $2, $3, 1, $4) ON CONFLICT (schedule_id) DO NOTHING', [schedule.scheduleId, schedule.flowId, schedule.nextFireAt, body]),
    );
    if (inserted.rowCount === 0) throw new ConflictError(`schedule "${schedule.scheduleId}" already exists`, { details: { scheduleId: schedule.scheduleId } });
    return { ...(JSON.parse(body) as NewSchedule), version: 1 };
  }

  async getSchedule(scheduleId: string): Promise<ScheduleRecord | null> {
    const result = await this.#db.read((sql) => sql.query<ScheduleRow>('SELECT body, version FROM schedules WHERE schedule_id = $1', [scheduleId]));
    return result.rows[0] ? fromRow(result.rows[0]) : null;
  }

  async listSchedules(input: { flowId?: string; after?: string; limit: number }): Promise<SchedulePage> {
    const limit = Math.max(1, Math.floor(input.limit));
    const params: unknown[] = [];
    const where: string[] = [];
    if (input.flowId !== undefined) where.push(`flow_id = $${params.push(input.flowId)}`);
    if (input.after !== undefined) where.push(`schedule_id > $${params.push(input.after)}`);
    const text = `SELECT body, version FROM schedules ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY schedule_id COLLATE "C" LIMIT $${params.push(limit + 1)}`;
    const rows = (await this.#db.read((sql) => sql.query<ScheduleRow>(text, params))).rows;
    const schedules = rows.slice(0, limit).map(fromRow);
    return { schedules, next: rows.length > limit ? schedules.at(-1)!.scheduleId : null };
  }

  async saveSchedule(input: { schedule: ScheduleRecord; expectedVersion: number; releaseClaim?: boolean }): Promise<ScheduleRecord> {
    const { schedule, expectedVersion } = input;
    const body = bodyOf(schedule);
    const claim = input.releaseClaim ? ', claim_owner = NULL, claim_until = 0' : '';
    const result = await this.#db.statement((sql) =>
      sql.query<{ version: number; found: boolean }>(
        `WITH updated AS (UPDATE schedules SET flow_id = $1, next_fire_at = $2, version = $3, body = $4${claim} WHERE schedule_id = $5 AND version = $6 RETURNING version)
         SELECT (SELECT version FROM updated) AS version, (SELECT version FROM schedules WHERE schedule_id = $5) AS found`,
        [schedule.flowId, schedule.nextFireAt, expectedVersion + 1, body, schedule.scheduleId, expectedVersion],
      ),
    );
    const row = result.rows[0]!;
    if (row.version === null) {
      if (row.found === null) throw new NotFoundError('SCHEDULE_NOT_FOUND', `schedule "${schedule.scheduleId}" does not exist`, { details: { scheduleId: schedule.scheduleId } });
      throw new ConflictError(`schedule "${schedule.scheduleId}" changed (expected version ${expectedVersion})`, { details: { scheduleId: schedule.scheduleId } });
    }
    return { ...(JSON.parse(body) as NewSchedule), version: expectedVersion + 1 };
  }

  async saveSchedules(input: { saves: { schedule: ScheduleRecord; expectedVersion: number }[] }): Promise<string[]> {
    if (input.saves.length === 0) return [];
    // One statement for the whole set: its rows as one JSON array, matched by id and version.
    const rows = input.saves.map(({ schedule, expectedVersion }) => ({ id: schedule.scheduleId, flow: schedule.flowId, due: schedule.nextFireAt, version: expectedVersion, body: bodyOf(schedule) }));
    const result = await this.#db.statement((sql) =>
      sql.query<{ schedule_id: string }>(
        `UPDATE schedules AS s SET flow_id = x.flow, next_fire_at = x.due, version = x.version + 1, body = x.body, claim_owner = NULL, claim_until = 0
          FROM json_to_recordset($1::json) AS x(id text, flow text, due bigint, version integer, body text)
          WHERE s.schedule_id = x.id AND s.version = x.version
          RETURNING s.schedule_id`,
        [JSON.stringify(rows)],
      ),
    );
    return result.rows.map((row) => row.schedule_id);
  }

  async deleteSchedule(scheduleId: string): Promise<boolean> {
    const result = await this.#db.statement((sql) => sql.query('DELETE FROM schedules WHERE schedule_id = $1', [scheduleId]));
    return (result.rowCount ?? 0) > 0;
  }

  async nextDueAt(): Promise<number | null> {
    const result = await this.#db.read((sql) => sql.query<{ next: number | null }>('SELECT MIN(next_fire_at) AS next FROM schedules WHERE next_fire_at IS NOT NULL'));
    return result.rows[0]?.next ?? null;
  }

  async claimDueSchedules(input: { owner: string; now: number; claimUntil: number; limit: number; after?: ClaimPosition }): Promise<ClaimedSchedule[]> {
    const limit = Math.max(0, Math.floor(input.limit));
    if (limit === 0) return [];
    const result = await this.#db.statement((sql) =>
      sql.query<ScheduleRow & { next_fire_at: number; schedule_id: string; abandoned: boolean }>(
        `WITH picked AS (SELECT schedule_id, claim_until FROM schedules WHERE next_fire_at <= $3 AND claim_until <= $3${input.after ? ' AND (next_fire_at, schedule_id) > ($5, $6)' : ''}
           ORDER BY next_fire_at, schedule_id LIMIT $4 FOR UPDATE SKIP LOCKED)
         UPDATE schedules AS s SET claim_owner = $1, claim_until = $2 FROM picked WHERE s.schedule_id = picked.schedule_id
          RETURNING s.schedule_id, s.next_fire_at, s.body, s.version, picked.claim_until > 0 AS abandoned`,
        [input.owner, input.claimUntil, input.now, limit, ...(input.after ? [input.after.nextFireAt, input.after.scheduleId] : [])],
      ),
    );
    const rows = result.rows.sort((a, b) => a.next_fire_at - b.next_fire_at || (a.schedule_id < b.schedule_id ? -1 : 1));
    return rows.map((row): ClaimedSchedule => (row.abandoned ? { ...fromRow(row), claimAbandoned: true } : fromRow(row)));
  }
}
