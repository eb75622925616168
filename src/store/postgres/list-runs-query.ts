/**
 * The SQL of `listRuns`: every RunFilter field as a parameterized condition, the order as an
 * index-backed ORDER BY, and the page start as a keyset condition on (sort key, run_id), so a
 * page costs the same at the millionth run as at the first.
 */
import type { RunFilter } from '../../core/store.js';
import type { RunMarker } from '../run-marker.js';
import { RUN_COLUMNS, slotsColumn } from './run-rows.js';

/** A query text and its parameters. */
export interface SqlQuery {
  text: string;
  values: unknown[];
}

/**
 * Builds the page query: runs matching `filter`, after `after` (when paging), in the given
 * order, at most `fetch` rows. Column names come from a fixed list; user values are parameters.
 */
export function buildListRunsQuery(input: { filter: RunFilter; orderBy: 'startTime' | 'endTime'; dir: 'asc' | 'desc'; after: RunMarker | null; fetch: number }): SqlQuery {
  const { filter } = input;
  const values: unknown[] = [];
  const param = (value: unknown, cast: string): string => {
    values.push(value);
    return `$${values.length}::${cast}`;
  };
  const where = filterConditions(filter, param);
  const key = input.orderBy === 'endTime' ? 'end_sort' : 'start_time';
  if (input.after) {
    where.push(`(${key}, run_id) ${input.dir === 'asc' ? '>' : '<'} (${param(input.after.key, 'float8')}, ${param(input.after.runId, 'text')})`);
  }
  const dir = input.dir === 'asc' ? 'ASC' : 'DESC';
  return {
    text:
      `SELECT ${RUN_COLUMNS}, ${slotsColumn('runs')} FROM runs` +
      (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY ${key} ${dir}, run_id ${dir} LIMIT ${param(input.fetch, 'integer')}`,
    values,
  };
}

/**
 * Builds the count query of `countRuns`: runs matching `filter` (page fields ignored), counted
 * up to `max` rows so the cost is bounded whatever the table holds.
 */
export function buildCountRunsQuery(filter: RunFilter, max: number): SqlQuery {
  const values: unknown[] = [];
  const param = (value: unknown, cast: string): string => {
    values.push(value);
    return `$${values.length}::${cast}`;
  };
  const where = filterConditions(filter, param);
  const limit = param(max, 'bigint');
  return { text: `SELECT count(*) AS n FROM (SELECT 1 FROM runs${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} LIMIT ${limit}) AS matching`, values };
}

/** The conditions of every RunFilter field but the page ones; `param` adds a parameter and returns its placeholder. */
function filterConditions(filter: RunFilter, param: (value: unknown, cast: string) => string): string[] {
  const where: string[] = [];
  if (filter.flowId !== undefined) where.push(`flow_id = ${param(filter.flowId, 'text')}`);
  if (filter.status !== undefined) {
    const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
    // One status as an equality, so runs_status_start_idx also yields the order.
    where.push(statuses.length === 1 ? `status = ${param(statuses[0], 'text')}` : `status = ANY(${param(statuses, 'text[]')})`);
  }
  // NaN bounds compare false in JS, so the memory store applies them as "no bound" on
  // startTime and as "has ended" on endTime; the conditions below keep that.
  if (isBound(filter.startTimeFrom)) where.push(`start_time >= ${param(filter.startTimeFrom, 'float8')}`);
  if (isBound(filter.startTimeTo)) where.push(`start_time < ${param(filter.startTimeTo, 'float8')}`);
  if (filter.endTimeFrom !== undefined || filter.endTimeTo !== undefined) where.push('end_time IS NOT NULL');
  // end_sort equals end_time once a run ended; writing the bound on it lets runs_end_idx serve the range.
  if (isBound(filter.endTimeFrom)) where.push(`end_sort >= ${param(filter.endTimeFrom, 'float8')}`);
  if (isBound(filter.endTimeTo)) where.push(`end_sort < ${param(filter.endTimeTo, 'float8')}`);
  // An empty substring is in every label, null ones included (the memory store reads null as '').
  if (filter.label !== undefined && filter.label !== '') where.push(`label LIKE ${param(`%${escapeLike(filter.label)}%`, 'text')}`);
  if (filter.tags !== undefined && filter.tags.length > 0) where.push(`tags @> ${param(filter.tags, 'text[]')}`);
  if (filter.parentRunId !== undefined) where.push(`parent_run_id = ${param(filter.parentRunId, 'text')}`);
  if (filter.rootsOnly === true) where.push('parent_run_id IS NULL');
  if (filter.rootRunId !== undefined) where.push(`root_run_id = ${param(filter.rootRunId, 'text')}`);
  return where;
}

function isBound(value: number | undefined): value is number {
  return value !== undefined && !Number.isNaN(value);
}

/** Escapes LIKE's wildcards so the label is matched as a plain substring (backslash is LIKE's default escape). */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
