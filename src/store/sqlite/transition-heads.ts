/**
 * The run rows this connection's own writes left behind, for the runs it holds leases on: the
 * next transition of such a run starts from the row kept here instead of reading it again and
 * parsing its `fixed` JSON (run-writes.ts). Nothing here is trusted on its own: the transition's
 * UPDATE names every column of the kept row that a write may change in its WHERE, so a row that
 * changed meanwhile (another process, a renewal, an update of its tags) matches nothing and the
 * transition falls back to reading the row and checking it in full.
 */
import { RecentMap } from '../../core/recent-map.js';
import type { RunRow } from './run-rows.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** A run's row as this connection last wrote it (without its state), with its `fixed` JSON parsed. */
export interface TransitionHead {
  /** Every column the transition's head read returns; `state` is '' (never read back from here). */
  row: RunRow;
  /** `row.fixed` parsed once: the fields fixed at creation, which no write changes. */
  fixed: Record<string, unknown>;
}

/** Most heads kept per connection, the 4,096 written last at least: about 64 executing runs need 64. */
const MAX_HEADS = 8192;

const headsByConnection = new WeakMap<SqliteConnection, RecentMap<string, TransitionHead>>();

/** The heads kept for `conn` (created empty on first use). */
export function transitionHeads(conn: SqliteConnection): RecentMap<string, TransitionHead> {
  let heads = headsByConnection.get(conn);
  if (!heads) headsByConnection.set(conn, (heads = new RecentMap(MAX_HEADS)));
  return heads;
}

/** Keeps `row` (copied, its state left out) as the head of its run's next transition. */
export function keepHead(conn: SqliteConnection, row: RunRow, fixed: Record<string, unknown>): void {
  const heads = transitionHeads(conn);
  // Object.assign, not a spread: V8 writes to a spread copy's fields far more slowly.
  const kept = Object.assign({}, row);
  kept.state = '';
  kept.slots = undefined;
  heads.set(row.run_id, { row: kept, fixed });
}

/** Forgets the heads of these runs (a write that does not keep them changed their rows). */
export function forgetHeads(conn: SqliteConnection, runIds: Iterable<string>): void {
  const heads = headsByConnection.get(conn);
  if (heads) for (const runId of runIds) heads.delete(runId);
}
