/**
 * `listRuns` options as the query string of `GET /runs`: time ranges become
 * `startTimeFrom`/`startTimeTo`/`endTimeFrom`/`endTimeTo` in epoch milliseconds, seed 003's
 * single times (`startTime: "2023-01-01"`) travel as `startTime`/`endTime` for the server to
 * read as days, statuses and tags comma-separated lists, seed 003's snake-case order names
 * their camelCase form.
 */
import type { ListRunsOptions, TimeRange, TimeValue } from './client-types.js';
import { invalid, type Query } from './http-transport.js';

const STATUSES = ['ACTIVE', 'INACTIVE', 'SUCCEEDED', 'FAILED', 'CANCELED'];
const ORDER_BY: Record<string, string> = { startTime: 'startTime', endTime: 'endTime', start_time: 'startTime', end_time: 'endTime' };

/** The query of one `GET /runs` request; throws INVALID_INPUT naming the option it cannot send. */
export function listRunsQuery(options: ListRunsOptions): Query {
  if (typeof options !== 'object' || options === null) invalid('', 'listRuns options must be an object');
  const query: Query = {};
  if (options.limit !== undefined) {
    if (!Number.isInteger(options.limit) || options.limit < 1) invalid('limit', `must be a whole number ≥ 1, got ${JSON.stringify(options.limit)}`);
    query.limit = options.limit;
  }
  if (options.marker) query.marker = options.marker;
  if (options.offset !== undefined) {
    if (!Number.isInteger(options.offset) || options.offset < 0) invalid('offset', `must be a whole number ≥ 0, got ${JSON.stringify(options.offset)}`);
    if (options.offset > 0) query.offset = options.offset;
  }
  if (options.markerOnly !== undefined) {
    if (typeof options.markerOnly !== 'boolean') invalid('markerOnly', `must be true or false, got ${JSON.stringify(options.markerOnly)}`);
    if (options.markerOnly) query.markerOnly = 'true';
  }
  if (options.flowId !== undefined) query.flowId = options.flowId;
  if (options.status !== undefined) {
    const statuses = Array.isArray(options.status) ? options.status : [options.status];
    for (const status of statuses) if (!STATUSES.includes(status)) invalid('status', `must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(status)}`);
    if (statuses.length > 0) query.status = statuses.join(',');
  }
  Object.assign(query, range(options.startTime, 'startTime'), range(options.endTime, 'endTime'));
  if (options.label !== undefined) query.label = options.label;
  if (options.tags !== undefined && options.tags.length > 0) {
    options.tags.forEach((tag, i) => {
      if (typeof tag !== 'string' || tag === '' || tag.includes(',')) invalid(`tags[${i}]`, `must be a non-empty tag without commas, got ${JSON.stringify(tag)}`);
    });
    query.tags = options.tags.join(',');
  }
  if (options.parentRunId !== undefined) query.parentRunId = options.parentRunId;
  if (options.scheduleId !== undefined) query.scheduleId = options.scheduleId;
  for (const flag of ['rootsOnly', 'childCounts'] as const) {
    if (options[flag] === undefined) continue;
    if (typeof options[flag] !== 'boolean') invalid(flag, `must be true or false, got ${JSON.stringify(options[flag])}`);
    if (options[flag]) query[flag] = 'true';
  }
  if (options.orderBy !== undefined) {
    const orderBy = ORDER_BY[options.orderBy];
    if (!orderBy) invalid('orderBy', `must be startTime or endTime, got ${JSON.stringify(options.orderBy)}`);
    query.orderBy = orderBy;
  }
  if (options.orderDir !== undefined) {
    if (options.orderDir !== 'asc' && options.orderDir !== 'desc') invalid('orderDir', `must be asc or desc, got ${JSON.stringify(options.orderDir)}`);
    query.orderDir = options.orderDir;
  }
  return query;
}

function range(value: TimeRange | TimeValue | undefined, field: 'startTime' | 'endTime'): Query {
  if (value === undefined) return {};
  if (typeof value === 'string') {
    if (value.trim() === '') invalid(field, 'must be a day (2023-01-01), an ISO 8601 time, epoch milliseconds, a Date or a range {from?, to?}');
    return { [field]: value };
  }
  if (typeof value === 'number' || value instanceof Date) return { [field]: String(epochMs(value, field)) };
  if (typeof value !== 'object' || value === null) invalid(field, 'must be a day (2023-01-01), an ISO 8601 time, epoch milliseconds, a Date or a range {from?, to?}');
  return {
    ...(value.from !== undefined ? { [`${field}From`]: epochMs(value.from, `${field}.from`) } : {}),
    ...(value.to !== undefined ? { [`${field}To`]: epochMs(value.to, `${field}.to`) } : {}),
  };
}

function epochMs(value: TimeValue, field: string): number {
  const ms = typeof value === 'number' ? value : value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) invalid(field, `must be epoch milliseconds, a Date or an ISO 8601 time, got ${JSON.stringify(value)}`);
  return ms;
}
