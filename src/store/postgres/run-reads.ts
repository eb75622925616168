/**
 * The SQL that reads what a run left behind — events, log entries, items — with the memory
 * store's paging semantics (including its treatment of odd numbers such as fractional limits).
 */
import type { Item, LogEntry, RunEvent } from '../../core/run.js';
import { eventFromRow, type EventRow } from './run-rows.js';
import type { Sql } from './run-writes.js';

/** Events of a run after `afterSeq`, in seq order, at most `limit`, only of `kinds` when given; [] for an unknown run. */
export async function readRunEvents(sql: Sql, runId: string, options: { afterSeq?: number; limit?: number; kinds?: RunEvent['kind'][] }): Promise<RunEvent[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  // The memory store stops once it holds `limit` events: nothing for 0 or less, ceil(limit) otherwise.
  if (!(limit > 0)) return [];
  const values: unknown[] = [runId, options.afterSeq ?? 0, Number.isFinite(limit) ? Math.ceil(limit) : null];
  if (options.kinds) values.push(options.kinds);
  const found = await sql.query<EventRow>(
    `SELECT run_id, seq, time, body FROM run_events
      WHERE run_id = $1::text AND seq > $2::float8${options.kinds ? ' AND kind = ANY($4::text[])' : ''}
      ORDER BY seq LIMIT $3::bigint`,
    values,
  );
  return found.rows.map(eventFromRow);
}

/**
 * Log entries of a run by position, with their total, in one round trip. Positions follow
 * `Array.prototype.slice(offset, offset + limit)` over all log entries, as in the memory store.
 */
export async function readRunLogs(sql: Sql, runId: string, options: { limit?: number; offset?: number }): Promise<{ entries: LogEntry[]; total: number }> {
  const offset = Math.max(0, options.offset ?? 0);
  const limit = Math.max(0, options.limit ?? 100);
  const start = toIntegerOrInfinity(offset);
  const end = toIntegerOrInfinity(offset + limit);
  const empty = !Number.isFinite(start) || end <= start;
  // Whole bodies, not body->'entry': json operators de-escape the strings they pass, and a
  // `\u0000` in any log line would make the read fail.
  const found = await sql.query<{ total: number; bodies: { entry: LogEntry }[] }>(
    `SELECT (SELECT count(*) FROM run_events WHERE run_id = $1::text AND kind = 'log') AS total,
            CASE WHEN $4::boolean THEN '[]'::json ELSE COALESCE((
              SELECT json_agg(s.body ORDER BY s.seq) FROM (
                SELECT seq, body FROM run_events WHERE run_id = $1::text AND kind = 'log'
                 ORDER BY seq OFFSET $2::bigint LIMIT $3::bigint) s), '[]'::json) END AS bodies`,
    [runId, empty ? 0 : start, empty || !Number.isFinite(end) ? null : end - start, empty],
  );
  const row = found.rows[0]!;
  return { entries: row.bodies.map((body) => body.entry), total: row.total };
}

/** Persisted items of a run in the order they first appeared, each in its latest state. */
export async function readRunItems(sql: Sql, runId: string): Promise<Item[]> {
  const found = await sql.query<{ body: Item }>(`SELECT body FROM run_items WHERE run_id = $1::text ORDER BY first_version, first_ord`, [runId]);
  return found.rows.map((row) => row.body);
}

/** Like the spec's ToIntegerOrInfinity (what slice does to its arguments): NaN → 0, otherwise truncated. */
function toIntegerOrInfinity(value: number): number {
  return Number.isNaN(value) ? 0 : Math.trunc(value);
}
