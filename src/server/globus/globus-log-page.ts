/**
 * `GET /runs/{run_id}/log` of the Globus Flows API over flowrun's log: `limit` (1–100, default
 * 10), `reverse_order` (newest first) and `marker` / `pagination_token` for the next page. Pages
 * go by position in the run's log (flowrun's `getRunLogs`), which only ever grows at its end:
 * paging forward reaches entries written while paging, paging in reverse starts from the newest
 * entry when the first page was read. Each entry is `{code, description, details, time}` with
 * `time` in ISO 8601.
 */
import { ValidationError } from '../../core/errors.js';
import type { PrincipalRef } from '../../core/engine/access/authorize.js';
import { openMarker, sealMarker, type GlobusState } from './globus-context.js';
import { isoTime } from './globus-run-view.js';

/** The entries of a log page when `limit` is not given. */
export const DEFAULT_LOG_LIMIT = 10;
/** The largest `limit` of a log page; more is refused (400), not cut. */
export const MAX_LOG_LIMIT = 100;

/** A page of a run's log in the Globus shape. */
export interface GlobusLogPage {
  limit: number;
  entries: { code: string; description: string; details: Record<string, unknown>; time: string }[];
  has_next_page: boolean;
  marker?: string;
}

/** The page `params` asks for of the log of a run `as` may read (NOT_FOUND otherwise, like a missing run). */
export async function readLogPage(state: GlobusState, input: { runId: string; as: PrincipalRef; params: URLSearchParams }): Promise<GlobusLogPage> {
  const { engine } = state;
  const { runId, as, params } = input;
  const markerText = params.get('marker') ?? params.get('pagination_token');
  let limit: number;
  let reverse: boolean;
  let from: number | undefined;
  if (markerText !== null && markerText !== '') {
    const content = await openMarker(state.markers, markerText, 'log');
    // A marker of another run's log is no marker of this one.
    if (content.runId !== runId) throw new ValidationError('INVALID_INPUT', [{ path: 'query.marker', message: 'is a marker of another run\'s log' }]);
    ({ limit, reverse, from } = content as unknown as { limit: number; reverse: boolean; from: number });
  } else {
    limit = limitOf(params.get('limit'));
    reverse = booleanOf(params.get('reverse_order'));
  }
  let offset: number;
  let count = limit;
  if (!reverse) offset = from ?? 0;
  else {
    const end = from ?? (await engine.getRunLogs(runId, { limit: 1, offset: 0, as })).total;
    offset = Math.max(0, end - limit);
    count = end - offset;
  }
  const page = count === 0 ? { entries: [], total: 0 } : await engine.getRunLogs(runId, { limit: count, offset, as });
  const entries = page.entries.map((e) => ({ code: e.code, description: e.description, details: e.details ?? {}, time: isoTime(e.time) }));
  if (reverse) entries.reverse();
  const next = reverse ? (offset > 0 ? offset : null) : offset + page.entries.length < page.total ? offset + page.entries.length : null;
  const result: GlobusLogPage = { limit, entries, has_next_page: next !== null };
  if (next !== null) result.marker = await sealMarker(state.markers, { kind: 'log', runId, limit, reverse, from: next });
  return result;
}

function limitOf(text: string | null): number {
  if (text === null) return DEFAULT_LOG_LIMIT;
  const n = /^\d{1,6}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (n >= 1 && n <= MAX_LOG_LIMIT) return n;
  throw new ValidationError('INVALID_INPUT', [{ path: 'query.limit', message: `must be an integer from 1 to ${MAX_LOG_LIMIT}, got "${text.slice(0, 40)}"` }]);
}

function booleanOf(text: string | null): boolean {
  if (text === null) return false;
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0' || t === '') return false;
  throw new ValidationError('INVALID_INPUT', [{ path: 'query.reverse_order', message: `must be true or false, got "${text.slice(0, 40)}"` }]);
}
