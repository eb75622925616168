/**
 * The run reads of the SQLite store: keyset-paginated listing over the indexes of migrations.ts,
 * and a run's events, log entries and items. Reads see the last committed state (WAL readers
 * never wait for the writer) and return freshly parsed objects.
 */
import type { Item, LogEntry, RunEvent, RunRecord, RunStatus } from '../../core/run.js';
import type { RunFilter, RunPage } from '../../core/store.js';
import { encodeRunMarker, runListing } from '../run-marker.js';
import { eventFromRow, itemFromBody, readableRunFromRow, type EventRow, type RunRow } from './run-rows.js';
import type { SqliteConnection } from './sqlite-connection.js';
import { withSlotsOfRows } from './run-writes.js';
import { withRunInputsOfRows } from './run-inputs.js';


/**
 * Lists one page of runs (`Store.listRuns`), keyset-paginated. Each equality filter (flow, status, parent, root) has an index on
 * (filter, start_time, run_id) and each order one on (key, run_id), so a page is an index range
 * scan; several statuses are one such range each, merged. Tags are looked up through their own
 * index and the matching runs sorted. The label substring is checked on the rows of whichever
 * range the other filters select: it filters, it does not seek.
 */
export function listRuns(conn: SqliteConnection, filter: RunFilter): RunPage {
  const { orderBy, dir, order, limit, after } = runListing(filter);
  const statuses: RunStatus[] | null = filter.status === undefined ? null : Array.isArray(filter.status) ? filter.status : [filter.status];
  if (statuses?.length === 0) return { runs: [], hasNextPage: false, marker: null };

  // end_sort is end_time, or Number.MAX_SAFE_INTEGER while the run has not ended.
  const key = orderBy === 'endTime' ? 'end_sort' : 'start_time';
  const { where, params } = filterConditions(filter);
  const add = (sql: string, ...values: unknown[]): void => {
    where.push(sql);
    params.push(...values);
  };
  if (after) {
    // The first term bounds the index range; the second excludes the marker's own key group up to its run.
    const [cmp, cmpEq] = dir === 'asc' ? ['>', '>='] : ['<', '<='];
    add(`${key} ${cmpEq} ? AND (${key} ${cmp} ? OR run_id ${cmp} ?)`, after.key, after.key, after.runId);
  }
  const sqlDir = dir === 'asc' ? 'ASC' : 'DESC';
  const orderLimit = `ORDER BY ${key} ${sqlDir}, run_id ${sqlDir} LIMIT ?`;
  const select = (conditions: string[]): string => `SELECT * FROM flowrun_runs ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''} ${orderLimit}`;
  let rows: RunRow[];
  if (statuses === null) {
    rows = conn.all<RunRow>(select(where), [...params, limit + 1]);
  } else if (statuses.length === 1) {
    rows = conn.all<RunRow>(select(['status = ?', ...where]), [statuses[0], ...params, limit + 1]);
  } else {
    // `status IN (…)` would sort every matching run; one ordered, limited range per status
    // merged by SQLite reads at most (limit + 1) rows of each.
    const distinct = [...new Set(statuses)];
    const arms = distinct.map(() => `SELECT * FROM (${select(['status = ?', ...where])})`);
    rows = conn.all<RunRow>(`${arms.join(' UNION ALL ')} ${orderLimit}`, [...distinct.flatMap((status) => [status, ...params, limit + 1]), limit + 1]);
  }
  const hasNextPage = rows.length > limit;
  // A row whose data cannot be read is listed marked (`dataError`), never failing the page.
  const page = withSlotsOfRows(conn, withRunInputsOfRows(conn, rows.slice(0, limit))).map(readableRunFromRow);
  const last = page.at(-1);
  const keyOf = (run: { startTime: number; endTime: number | null }): number => (orderBy === 'endTime' ? (run.endTime ?? Number.MAX_SAFE_INTEGER) : run.startTime);
  return {
    runs: page,
    hasNextPage,
    marker: hasNextPage && last ? encodeRunMarker({ key: keyOf(last), runId: last.runId, order }) : null,
  };
}

/**
 * The conditions of every RunFilter field but status and the page (`listRuns` adds those):
 * parameterized SQL on columns from a fixed list.
 */
export function filterConditions(filter: RunFilter): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, ...values: unknown[]): void => {
    where.push(sql);
    params.push(...values);
  };
  if (filter.flowId !== undefined) add('flow_id = ?', filter.flowId);
  if (filter.startTimeFrom !== undefined) add('start_time >= ?', filter.startTimeFrom);
  if (filter.startTimeTo !== undefined) add('start_time < ?', filter.startTimeTo);
  // Written on end_sort (equal to end_time once set) so the end-time index serves them.
  if (filter.endTimeFrom !== undefined) add('end_time IS NOT NULL AND end_sort >= ?', filter.endTimeFrom);
  if (filter.endTimeTo !== undefined) add('end_time IS NOT NULL AND end_sort < ?', filter.endTimeTo);
  if (filter.label !== undefined) add(`instr(coalesce(label, ''), ?) > 0`, filter.label);
  for (const tag of new Set(filter.tags ?? [])) add('run_id IN (SELECT run_id FROM flowrun_run_tags WHERE tag = ?)', tag);
  if (filter.parentRunId !== undefined) add('parent_run_id = ?', filter.parentRunId);
  if (filter.rootsOnly === true) add('parent_run_id IS NULL');
  if (filter.rootRunId !== undefined) add('root_run_id = ?', filter.rootRunId);
  return { where, params };
}

/**
 * Counts the runs matching the filter (`Store.countRuns`; page fields ignored), at most `max`:
 * the count stops at `max`, so its cost is bounded whatever the table holds. Counted per status
 * (one index range each) and summed.
 */
export function countRuns(conn: SqliteConnection, filter: RunFilter, max: number): number {
  const statuses: (RunStatus | null)[] = filter.status === undefined ? [null] : [...new Set(Array.isArray(filter.status) ? filter.status : [filter.status])];
  const { where, params } = filterConditions(filter);
  let total = 0;
  for (const status of statuses) {
    if (total >= max) break;
    const conditions = status === null ? where : ['status = ?', ...where];
    const sql = `SELECT count(*) AS n FROM (SELECT 1 FROM flowrun_runs ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''} LIMIT ?)`;
    total += conn.get<{ n: number }>(sql, [...(status === null ? [] : [status]), ...params, max - total])!.n;
  }
  return total;
}

/**
 * Reads up to `limit` runs waiting for `event` after run id `after` (`Store.listEventWaiters`): a
 * range of the partial index over `waiting_event` (migration 8), which holds only runs waiting
 * for an event, so the read does not grow with runs waiting on timers or on other names.
 */
export function listEventWaiters(conn: SqliteConnection, input: { event: string; after?: string; limit: number }): RunRecord[] {
  const limit = Math.floor(input.limit);
  if (!(limit > 0)) return [];
  // Named, like the claims' index: without ANALYZE statistics the planner may pick the status index.
  const rows = conn.all<RunRow>(
    `SELECT * FROM flowrun_runs INDEXED BY flowrun_runs_waiting_event
      WHERE waiting_event = ? AND run_id > ? AND status = 'INACTIVE' ORDER BY waiting_event, run_id LIMIT ?`,
    [input.event, input.after ?? '', limit],
  );
  return withSlotsOfRows(conn, withRunInputsOfRows(conn, rows)).map(readableRunFromRow);
}

/** Reads a run's events after `afterSeq` in order (`Store.getRunEvents`): a range scan of its primary key. */
export function getRunEvents(conn: SqliteConnection, runId: string, options: { afterSeq?: number; limit?: number; kinds?: RunEvent['kind'][] }): RunEvent[] {
  const limit = options.limit === undefined ? -1 : Math.ceil(options.limit);
  if (options.limit !== undefined && !(limit > 0)) return [];
  const kinds = options.kinds ? [...new Set(options.kinds)] : null;
  if (kinds?.length === 0) return [];
  const kindSql = kinds ? ` AND kind IN (${kinds.map(() => '?').join(', ')})` : '';
  const rows = conn.all<EventRow>(`SELECT run_id, seq, time, body FROM flowrun_run_events WHERE run_id = ? AND seq > ?${kindSql} ORDER BY seq LIMIT ?`, [
    runId,
    options.afterSeq ?? 0,
    ...(kinds ?? []),
    limit,
  ]);
  return rows.map(eventFromRow);
}

/** Reads a page of a run's log entries and their total (`Store.getRunLogs`), both from one snapshot. */
export function getRunLogs(conn: SqliteConnection, runId: string, options: { limit?: number; offset?: number }): { entries: LogEntry[]; total: number } {
  const offset = Math.max(0, Math.trunc(options.offset ?? 0));
  const limit = Math.max(0, Math.trunc(options.limit ?? 100));
  return conn.snapshot(() => {
    const total = conn.get<{ total: number }>(`SELECT count(*) AS total FROM flowrun_run_events WHERE run_id = ? AND kind = 'log'`, [runId])!.total;
    const rows =
      limit === 0
        ? []
        : conn.all<{ body: string }>(`SELECT body FROM flowrun_run_events WHERE run_id = ? AND kind = 'log' ORDER BY seq LIMIT ? OFFSET ?`, [runId, limit, offset]);
    return { entries: rows.map((row) => (JSON.parse(row.body) as { entry: LogEntry }).entry), total };
  });
}

/** Reads a run's persisted items in the order they were first recorded (`Store.getRunItems`). */
export function getRunItems(conn: SqliteConnection, runId: string): Item[] {
  return conn.all<{ body: string }>('SELECT body FROM flowrun_run_items WHERE run_id = ? ORDER BY position', [runId]).map((row) => itemFromBody(row.body));
}
