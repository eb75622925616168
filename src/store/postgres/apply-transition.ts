/**
 * Applies one run transition on a connection that is inside a transaction (the group commit's
 * savepoint). The lease, fencing token, liveness and version checks are in the UPDATE's WHERE,
 * so the check and the write are one atomic step even with other processes writing the row.
 */
import { ConflictError, NotFoundError } from '../../core/errors.js';
import { isTerminalStatus, type RunRecord } from '../../core/run.js';
import type { Transition } from '../../core/store.js';
import { isUniqueViolation } from './pg-errors.js';
import { RUN_COLUMNS, RUN_COLUMNS_WITHOUT_STATE, dedupeItems, jsonParam, runFromRow, type RunRow } from './run-rows.js';
import { RUNS_PKEY, eventKinds, eventRowsFrom, insertRun, wakeRuns, type Sql, type TouchedRuns } from './run-writes.js';

/** What a transition changed: the run as recorded, and the runs to announce after commit. */
export interface AppliedTransition {
  run: RunRecord;
  touched: TouchedRuns;
}

/** The key stored with the last transition; a repeat with the same key is the same transition. */
function transitionKey(t: Transition): string {
  return `${t.lease.fencingToken}:${t.expectedVersion}`;
}

/**
 * Applies `t`, or throws: NotFoundError RUN_NOT_FOUND when the run does not exist,
 * ConflictError LEASE_LOST when the lease is not held with that token, the run ended or its
 * version moved on, ConflictError CONFLICT when a run it creates exists already. An exact
 * repeat of the last transition recorded (same token and expected version, run now one version
 * further) writes nothing and returns the run: that is a retry whose first reply was lost.
 * LEASE_LOST and RUN_NOT_FOUND are decided before anything is written. CONFLICT for an existing
 * child, and any error of the driver, may come after the run row changed: a caller that wants
 * its transaction to survive a refused transition with `createRuns` wraps it in a savepoint.
 */
export async function applyTransition(sql: Sql, t: Transition): Promise<AppliedTransition> {
  const params: unknown[] = [];
  const bare = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const param = (value: unknown, cast: string): string => `${bare(value)}::${cast}`;
  const p = t.patch;
  const events = t.events ?? [];
  const items = dedupeItems(t.items ?? []);
  const sets: string[] = [];
  if (p.status !== undefined) sets.push(`status = ${param(p.status, 'text')}`);
  if (p.state !== undefined) sets.push(`state = ${param(jsonParam(p.state), 'json')}`);
  if ('output' in p) sets.push(`output = ${param(jsonParam(p.output), 'json')}`);
  if (p.runError !== undefined) sets.push(`run_error = ${param(p.runError === null ? null : jsonParam(p.runError), 'json')}`);
  if (p.endTime !== undefined) sets.push(`end_time = ${param(p.endTime, 'float8')}`);
  if (p.readyAt !== undefined) sets.push(`ready_at = ${param(p.readyAt, 'float8')}`);
  // The WHERE below guarantees the run is live, so only the patch can make it terminal.
  if (t.releaseLease || (p.status !== undefined && isTerminalStatus(p.status))) {
    sets.push('lease_owner = NULL', 'lease_expires_at = NULL');
  } else if (t.leaseExpiresAt !== undefined) {
    sets.push(`lease_expires_at = ${param(t.leaseExpiresAt, 'float8')}`);
  }
  const at = param(t.at, 'float8');
  sets.push('version = version + 1', `updated_at = ${at}`, `last_seq = last_seq + ${param(events.length, 'integer')}`, `last_transition_key = ${param(transitionKey(t), 'text')}`);
  const where =
    `run_id = ${param(t.runId, 'text')} AND lease_owner = ${param(t.lease.owner, 'text')} AND fencing_token = ${param(t.lease.fencingToken, 'bigint')}` +
    ` AND version = ${param(t.expectedVersion, 'integer')} AND status IN ('ACTIVE', 'INACTIVE')`;
  const ctes = [`u AS (UPDATE runs SET ${sets.join(', ')} WHERE ${where} RETURNING ${p.state !== undefined ? RUN_COLUMNS_WITHOUT_STATE : RUN_COLUMNS})`];
  if (events.length > 0) {
    // u.last_seq is the new value, so the n events take the n numbers just below and up to it.
    ctes.push(`ev AS (INSERT INTO run_events (run_id, seq, kind, time, body)
      SELECT u.run_id, u.last_seq - ${events.length} + e.ord, e.kind, ${at}, e.body
      FROM u, ${eventRowsFrom(bare(JSON.stringify(events)), bare(eventKinds(events)))})`);
  }
  if (items.length > 0) {
    // An item keeps the position where it first appeared; later states replace only its body.
    // Ids travel apart from the bodies for the same reason as event kinds (see eventRowsFrom).
    ctes.push(`it AS (INSERT INTO run_items (run_id, item_id, first_version, first_ord, body)
      SELECT u.run_id, i.id, u.version, i.ord, i.body
      FROM u, ROWS FROM (json_array_elements(${param(JSON.stringify(items), 'json')}), unnest(${param(items.map((item) => String(item.id)), 'text[]')})) WITH ORDINALITY AS i(body, id, ord)
      ON CONFLICT (run_id, item_id) DO UPDATE SET body = EXCLUDED.body)`);
  }
  const updated = await sql.query<RunRow>(`WITH ${ctes.join(', ')} SELECT * FROM u`, params);
  const row = updated.rows[0];
  if (!row) return { run: await explainRejection(sql, t), touched: new Map() };

  const touched: TouchedRuns = new Map([[t.runId, row.last_seq]]);
  for (const created of t.createRuns ?? []) {
    try {
      await insertRun(sql, { run: created.run, events: created.events, at: t.at, updatedAt: t.at, lease: created.lease ?? null, notify: false });
    } catch (error) {
      if (isUniqueViolation(error, RUNS_PKEY)) throw new ConflictError(`run "${created.run.runId}" already exists`, { runId: created.run.runId });
      throw error;
    }
    touched.set(created.run.runId, created.events.length);
  }
  const woken = await wakeRuns(sql, t.wakeRuns ?? [], t.at, touched, t.wakeLease);
  const run = runFromRow(row, p.state);
  // Waking itself after the patch is what the memory store does with a self-reference.
  if (woken.includes(t.runId)) run.readyAt = t.at;
  return { run, touched };
}

/**
 * The UPDATE matched no row: find out why, in the memory store's order of checks. A repeat of
 * the transition that made the run's current version is a success, not an error.
 */
async function explainRejection(sql: Sql, t: Transition): Promise<RunRecord> {
  const found = await sql.query<RunRow & { last_transition_key: string | null }>(`SELECT ${RUN_COLUMNS}, last_transition_key FROM runs WHERE run_id = $1::text`, [t.runId]);
  const row = found.rows[0];
  if (!row) throw new NotFoundError('RUN_NOT_FOUND', `run "${t.runId}" does not exist`, { runId: t.runId });
  if (row.last_transition_key === transitionKey(t) && row.version === t.expectedVersion + 1) return runFromRow(row);
  if (row.lease_owner !== t.lease.owner || row.fencing_token !== t.lease.fencingToken) {
    throw new ConflictError(`run "${t.runId}" is no longer leased to ${t.lease.owner} (token ${t.lease.fencingToken})`, { code: 'LEASE_LOST', runId: t.runId });
  }
  if (isTerminalStatus(row.status)) throw new ConflictError(`run "${t.runId}" has already ended (${row.status})`, { code: 'LEASE_LOST', runId: t.runId });
  throw new ConflictError(`run "${t.runId}" is at version ${row.version}, not ${t.expectedVersion}`, { code: 'LEASE_LOST', runId: t.runId });
}
