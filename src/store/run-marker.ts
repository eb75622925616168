/**
 * Opaque keyset markers for run listing: the sort key and id of the last run of a page, so the
 * next page starts strictly after it whatever was inserted meanwhile.
 */
import { FlowError } from '../core/errors.js';
import type { RunFilter } from '../core/store.js';

/** The position a marker encodes. */
export interface RunMarker {
  /** The sort key (startTime or endTime) of the last run returned. */
  key: number;
  runId: string;
  /** The order the marker was made for; a marker is refused under another order. */
  order: string;
}

/** Encodes a marker as an opaque URL-safe string. */
export function encodeRunMarker(marker: RunMarker): string {
  return btoa(JSON.stringify([marker.key, marker.runId, marker.order])).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes a marker; a forged or foreign marker is an INVALID_INPUT error, never a crash or a query. */
export function decodeRunMarker(text: string, order: string): RunMarker {
  try {
    const parsed: unknown = JSON.parse(atob(text.replace(/-/g, '+').replace(/_/g, '/')));
    if (Array.isArray(parsed) && parsed.length === 3 && typeof parsed[0] === 'number' && Number.isFinite(parsed[0]) && typeof parsed[1] === 'string' && parsed[2] === order) {
      return { key: parsed[0], runId: parsed[1], order };
    }
  } catch {
    // fall through to the error below
  }
  throw new FlowError('INVALID_INPUT', `marker "${text.slice(0, 40)}" is not a marker of this listing (order ${order})`, { details: { field: 'marker' } });
}

/** The most runs one page holds, whatever `limit` asks for. */
export const MAX_RUN_PAGE = 1000;

/** The order, page size and position of a listing, the same for every store. */
export interface RunListing {
  orderBy: 'startTime' | 'endTime';
  dir: 'asc' | 'desc';
  /** `orderBy:dir`, which a marker must match. */
  order: string;
  /** 1..MAX_RUN_PAGE (default 50; a limit that is not a finite number means the default). */
  limit: number;
  /** Where the previous page ended; throws INVALID_INPUT for a forged or foreign marker. */
  after: RunMarker | null;
}

/** Reads the order, page size and marker of a listing with the defaults every store uses. */
export function runListing(filter: RunFilter): RunListing {
  const orderBy = filter.orderBy ?? 'startTime';
  const dir = filter.orderDir ?? 'desc';
  const order = `${orderBy}:${dir}`;
  const requested = typeof filter.limit === 'number' && Number.isFinite(filter.limit) ? Math.floor(filter.limit) : 50;
  return { orderBy, dir, order, limit: Math.max(1, Math.min(requested, MAX_RUN_PAGE)), after: filter.marker ? decodeRunMarker(filter.marker, order) : null };
}

/** The bound of a `countRuns` call: `max` as a whole number ≥ 0, or no bound (MAX_SAFE_INTEGER). */
export function countLimit(max: number | undefined): number {
  if (max === undefined || Number.isNaN(max)) return Number.MAX_SAFE_INTEGER;
  return Math.max(0, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(max)));
}
