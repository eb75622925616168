/**
 * The runs page's filters as they sit in the address bar (`?status=FAILED,CANCELED&flow=…`), so a
 * filtered view can be bookmarked and shared, and their translation into a listing's options.
 */
import type { ListRunsOptions, RunStatus } from '../../../src/client/index.js';

/** The filters a person sets on the runs page. */
export interface RunFilters {
  status: RunStatus[];
  flow: string;
  label: string;
  tags: string;
  /** `datetime-local` values (the reader's time zone), or ''. */
  from: string;
  to: string;
}

export const STATUSES: RunStatus[] = ['ACTIVE', 'INACTIVE', 'SUCCEEDED', 'FAILED', 'CANCELED'];

/** Reads the filters from a query string. */
export function filtersFromSearch(search: string): RunFilters {
  const q = new URLSearchParams(search);
  const status = (q.get('status') ?? '').split(',').filter((s): s is RunStatus => (STATUSES as string[]).includes(s));
  return { status, flow: q.get('flow') ?? '', label: q.get('label') ?? '', tags: q.get('tags') ?? '', from: q.get('from') ?? '', to: q.get('to') ?? '' };
}

/** Whether any filter is set (then the page lists matching runs flat, children included). */
export function hasFilter(filters: RunFilters): boolean {
  return filters.status.length > 0 || (['flow', 'label', 'tags', 'from', 'to'] as const).some((name) => filters[name].trim() !== '');
}

/** Writes the filters into a query string (empty ones left out). */
export function searchFromFilters(filters: RunFilters): string {
  const q = new URLSearchParams();
  if (filters.status.length) q.set('status', filters.status.join(','));
  for (const name of ['flow', 'label', 'tags', 'from', 'to'] as const) if (filters[name].trim()) q.set(name, filters[name].trim());
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** The listing options of the filters (newest first). */
export function listOptions(filters: RunFilters): ListRunsOptions {
  const tags = filters.tags.split(',').map((t) => t.trim()).filter(Boolean);
  const from = filters.from ? new Date(filters.from).getTime() : undefined;
  const to = filters.to ? new Date(filters.to).getTime() : undefined;
  return {
    orderBy: 'startTime',
    orderDir: 'desc',
    ...(filters.status.length ? { status: filters.status } : {}),
    ...(filters.flow.trim() ? { flowId: filters.flow.trim() } : {}),
    ...(filters.label.trim() ? { label: filters.label.trim() } : {}),
    ...(tags.length ? { tags } : {}),
    ...(from !== undefined || to !== undefined ? { startTime: { ...(from !== undefined && !Number.isNaN(from) ? { from } : {}), ...(to !== undefined && !Number.isNaN(to) ? { to } : {}) } } : {}),
  };
}
