/**
 * Retention's SQL: ended runs deleted with everything they left behind (events, items, state
 * slots, the tree row of a root) in one statement, so a crash deletes a whole batch or nothing.
 */
import type { Sql } from './run-writes.js';

/**
 * Deletes up to `limit` (null: no limit) runs that ended before `endedBefore`, oldest first, and
 * returns how many. Rows another transaction holds are skipped, so several processes may run
 * retention at once.
 */
export async function deleteEndedRunsBefore(sql: Sql, endedBefore: number, limit: number | null): Promise<number> {
  const deleted = await sql.query<{ deleted: number }>(
    `WITH doomed AS (
       SELECT run_id FROM runs
        WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELED') AND end_time IS NOT NULL AND end_sort < $1::float8
        ORDER BY end_sort, run_id
        LIMIT $2::bigint
          FOR UPDATE SKIP LOCKED
     ), gone AS (
       DELETE FROM runs r USING doomed d WHERE r.run_id = d.run_id RETURNING r.run_id
     ), gone_events AS (
       DELETE FROM run_events e USING gone g WHERE e.run_id = g.run_id
     ), gone_items AS (
       DELETE FROM run_items i USING gone g WHERE i.run_id = g.run_id
     ), gone_slots AS (
       DELETE FROM run_state_slots s USING gone g WHERE s.run_id = g.run_id
     ), gone_trees AS (
       DELETE FROM run_trees t USING gone g WHERE t.tree_id = g.run_id
     )
     SELECT count(*)::integer AS deleted FROM gone`,
    [endedBefore, limit],
  );
  return deleted.rows[0]?.deleted ?? 0;
}
