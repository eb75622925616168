/**
 * The memory store's reading of a {@link RunFilter}: the same rules the SQL stores write as
 * conditions (bounds inclusive-from, exclusive-to; an end-time bound only matches ended runs).
 */
import type { RunRecord, RunStatus } from '../../core/run.js';
import type { RunFilter } from '../../core/store.js';

/** True when the run matches every filter field but the page ones (`statuses`: the filter's, as a set, or null for any). */
export function matchesRunFilter(run: Omit<RunRecord, 'state'>, filter: RunFilter, statuses: ReadonlySet<RunStatus> | null): boolean {
  if (filter.flowId !== undefined && run.flowId !== filter.flowId) return false;
  if (statuses && !statuses.has(run.status)) return false;
  if (filter.startTimeFrom !== undefined && run.startTime < filter.startTimeFrom) return false;
  if (filter.startTimeTo !== undefined && run.startTime >= filter.startTimeTo) return false;
  if (filter.endTimeFrom !== undefined && (run.endTime === null || run.endTime < filter.endTimeFrom)) return false;
  if (filter.endTimeTo !== undefined && (run.endTime === null || run.endTime >= filter.endTimeTo)) return false;
  if (filter.label !== undefined && !(run.label ?? '').includes(filter.label)) return false;
  if (filter.tags && !filter.tags.every((t) => run.tags.includes(t))) return false;
  if (filter.parentRunId !== undefined && run.parentRunId !== filter.parentRunId) return false;
  if (filter.rootsOnly === true && run.parentRunId !== null) return false;
  if (filter.rootRunId !== undefined && run.rootRunId !== filter.rootRunId) return false;
  return true;
}

/** The statuses of a filter as a set; null when it names none. */
export function filterStatuses(filter: RunFilter): Set<RunStatus> | null {
  return filter.status === undefined ? null : new Set(Array.isArray(filter.status) ? filter.status : [filter.status]);
}
