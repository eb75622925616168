/**
 * Applies one run transition as ONE SQL statement: the guarded UPDATE of the run, its events
 * and items, its emitted events (the outbox), the runs it creates with their first events, the runs it wakes and the NOTIFY of
 * every run it touched are data-modifying CTEs of a single statement. A statement is atomic on
 * its own, so a transition outside a transaction needs no BEGIN/COMMIT (one round trip), and one
 * that fails leaves nothing behind. Every write after the UPDATE hangs off its row, so a
 * transition whose lease, fencing token, liveness or version check fails writes nothing and
 * creates, wakes and announces nothing.
 */
import { ConflictError, NotFoundError, type FlowError } from '../../core/errors.js';
import { isTerminalStatus } from '../../core/run.js';
import type { RecordedRun, Transition } from '../../core/store.js';
import { isUniqueViolation } from './pg-errors.js';
import { inlineState, isInline, transitionStateChanges, wholeStateChanges } from '../../core/state-slots.js';
import { RECORDED_COLUMNS, RUN_COLUMNS, dedupeItems, deletesSlots, jsonParam, newRunCasts, newRunValues, recordedFromRow, runFromRow, slotDeleteSql, slotUpsertSql, slotsArgument, slotsColumn, type RunRow } from './run-rows.js';
import { NOTIFY_CHANNEL, RUNS_PKEY, eventKinds, eventRowsFrom, preparedQuery, type Sql } from './run-writes.js';
import { treeErrorOf } from './run-trees.js';
import { waitingEventAfter } from '../waiting-event.js';

/** The key stored with the last transition; a repeat with the same key is the same transition. */
export function transitionKey(t: Transition): string {
  return `${t.lease.fencingToken}:${t.expectedVersion}`;
}

/** A transition's emitted events as the outbox INSERT reads them (a payload always present, null at least). */
export function emitRows(t: Transition): { eventId: string; event: string; payload: unknown }[] {
  return (t.emits ?? []).map((e) => ({ eventId: e.eventId, event: e.event, payload: e.payload ?? null }));
}

/** The statement of a transition and its parameters. */
export interface TransitionStatement {
  text: string;
  values: unknown[];
}

/**
 * Builds the statement of `t`. Parameters are numbered in a fixed order for a given shape of
 * transition (which fields the patch sets, whether it has events, items, created runs and
 * wakes), so equal shapes give equal texts and the connection reuses one prepared statement.
 */
export function transitionStatement(t: Transition): TransitionStatement {
  const values: unknown[] = [];
  const bare = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const param = (value: unknown, cast: string): string => `${bare(value)}::${cast}`;
  const p = t.patch;
  const events = t.events ?? [];
  const items = dedupeItems(t.items ?? []);
  const at = param(t.at, 'float8');
  // A run cannot be updated twice by one statement, so waking itself becomes part of its own
  // UPDATE: it is ready now if, after the patch, it is still ACTIVE.
  const wakesItself = t.wakeRuns?.includes(t.runId) ?? false;
  const others = (t.wakeRuns ?? []).filter((id) => id !== t.runId);

  const sets: string[] = [];
  if (p.status !== undefined) sets.push(`status = ${param(p.status, 'text')}`);
  const written = transitionStateChanges(t);
  // A small state goes whole into the row (its slots deleted below when it may have some).
  const inline = written && isInline(written) ? written : null;
  const changes = written && !isInline(written) ? written : null;
  if (inline) sets.push(`state = ${param(jsonParam(inlineState(t)), 'json')}`, 'state_slots = false');
  if (changes) sets.push(`state = ${param(jsonParam(changes.header), 'json')}`, 'state_slots = true');
  if ('output' in p) sets.push(`output = ${param(jsonParam(p.output), 'json')}`);
  if (p.runError !== undefined) sets.push(`run_error = ${param(p.runError === null ? null : jsonParam(p.runError), 'json')}`);
  if (p.endTime !== undefined) sets.push(`end_time = ${param(p.endTime, 'float8')}`);
  if (wakesItself) {
    const newStatus = p.status !== undefined ? `${param(p.status, 'text')}` : 'status';
    const otherwise = p.readyAt !== undefined ? param(p.readyAt, 'float8') : 'ready_at';
    sets.push(`ready_at = CASE WHEN ${newStatus} = 'ACTIVE' THEN ${at} ELSE ${otherwise} END`);
  } else if (p.readyAt !== undefined) {
    sets.push(`ready_at = ${param(p.readyAt, 'float8')}`);
  }
  const waiting = waitingEventAfter(p);
  if (waiting !== undefined) sets.push(`waiting_event = ${param(waiting, 'text')}`);
  // The WHERE below guarantees the run is live, so only the patch can make it terminal.
  if (t.releaseLease || (p.status !== undefined && isTerminalStatus(p.status))) {
    sets.push('lease_owner = NULL', 'lease_expires_at = NULL');
  } else if (t.leaseExpiresAt !== undefined) {
    sets.push(`lease_expires_at = ${param(t.leaseExpiresAt, 'float8')}`);
  }
  sets.push('version = version + 1', `updated_at = ${at}`, `last_seq = last_seq + ${param(events.length, 'integer')}`, `last_transition_key = ${param(transitionKey(t), 'text')}`);
  const where =
    `run_id = ${param(t.runId, 'text')} AND lease_owner = ${param(t.lease.owner, 'text')} AND fencing_token = ${param(t.lease.fencingToken, 'bigint')}` +
    ` AND version = ${param(t.expectedVersion, 'integer')} AND status IN ('ACTIVE', 'INACTIVE')` +
    // Changes apply to slots only: a row holding its state whole (written before schema 9) matches
    // none, and applyTransition writes it whole instead.
    (changes && !changes.replace ? ' AND state_slots' : '');
  const ctes = [`u AS (UPDATE runs SET ${sets.join(', ')} WHERE ${where} RETURNING ${RECORDED_COLUMNS})`];
  if (inline?.dropSlots) ctes.push('sd AS (DELETE FROM run_state_slots s USING u WHERE s.run_id = u.run_id)');
  if (changes) {
    // Off u like every other write: a transition that does not match writes no slot.
    const slots = slotsArgument(changes);
    // A parameter only when the text uses it: equal texts must take equal parameters.
    // The values travel in a parameter of their own (slotUpsertSql): the json operators read only
    // keys and flags, so a NUL in a step output cannot fail the statement.
    const arg = deletesSlots(slots) || slots.k.length > 0 ? param(JSON.stringify({ ...slots, b: [] }), 'json') : '';
    if (deletesSlots(slots)) ctes.push(`sd AS (${slotDeleteSql('u.run_id', arg).replace('WHERE s.run_id = u.run_id', 'USING u WHERE s.run_id = u.run_id')})`);
    if (slots.k.length > 0) ctes.push(`sp AS (${slotUpsertSql('u.run_id', 'u.version', arg, param(JSON.stringify(slots.b), 'json')).replace('WITH ORDINALITY AS k(key, body, ord)', 'WITH ORDINALITY AS k(key, body, ord), u')})`);
  }
  // Payloads of the NOTIFYs, `<runId>:<lastSeq>`, one SELECT per touched set of runs.
  const announced = [`SELECT u.run_id || ':' || u.last_seq AS payload FROM u`];

  if (events.length > 0) {
    // u.last_seq is the new value, so the n events take the n numbers just below and up to it.
    ctes.push(`ev AS (INSERT INTO run_events (run_id, seq, kind, time, body)
      SELECT u.run_id, u.last_seq - ${param(events.length, 'integer')} + e.ord, e.kind, ${at}, e.body
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
  if (t.emits?.length) {
    // The outbox rows hang off u too: emitted only if the transition is recorded.
    ctes.push(`em AS (INSERT INTO pending_emits (event_id, run_id, event, payload, recorded_at)
      SELECT e->>'eventId', u.run_id, e->>'event', e->'payload', ${at}
      FROM u, json_array_elements(${param(JSON.stringify(emitRows(t)), 'json')}) AS e
      ON CONFLICT (event_id) DO NOTHING)`);
  }
  if (t.createRuns?.length) {
    // Counted once the run's guarded UPDATE matched (FROM u); a full or canceled tree raises,
    // which undoes the whole statement. Every created run hangs off this row (FROM u, tr).
    const max = t.maxRunsPerTree === undefined ? 'NULL' : param(t.maxRunsPerTree, 'float8');
    ctes.push(`tr AS (SELECT flowrun_count_tree_runs(${param(t.createRuns[0]!.run.treeId, 'text')}, ${param(t.createRuns.length, 'integer')}, ${max}) AS n FROM u)`);
  }
  (t.createRuns ?? []).forEach((created, n) => {
    const { values: row, slots } = newRunValues(created.run, { updatedAt: t.at, lastSeq: created.events.length, lease: created.lease ?? null });
    const casts = newRunCasts();
    const selected = row.map((value, i) => param(value, casts[i]!)).join(', ');
    // FROM u: the child exists only if the parent's guarded UPDATE matched.
    ctes.push(`c${n} AS (INSERT INTO runs (${RUN_COLUMNS}) SELECT ${selected} FROM u, tr RETURNING run_id, last_seq)`);
    if (slots && slots.put.length > 0) {
      ctes.push(`c${n}sp AS (${slotUpsertSql(`c${n}.run_id`, '0', param(JSON.stringify(slotsArgument(slots)), 'json')).replace('WITH ORDINALITY AS k(key, body, ord)', `WITH ORDINALITY AS k(key, body, ord), c${n}`)})`);
    }
    if (created.events.length > 0) {
      ctes.push(`c${n}ev AS (INSERT INTO run_events (run_id, seq, kind, time, body)
        SELECT c${n}.run_id, e.ord, e.kind, ${at}, e.body
        FROM c${n}, ${eventRowsFrom(bare(JSON.stringify(created.events)), bare(eventKinds(created.events)))})`);
    }
    announced.push(`SELECT c${n}.run_id || ':' || c${n}.last_seq FROM c${n}`);
  });
  if (others.length > 0) {
    const ids = param(others, 'text[]');
    const lease = t.wakeLease;
    // With a lease: a woken run nobody holds (or whose lease ran out) is leased to the waker.
    const free = `(lease_owner IS NULL OR lease_expires_at <= ${at})`;
    const leaseSets = lease
      ? `, lease_owner = CASE WHEN ${free} THEN ${param(lease.owner, 'text')} ELSE lease_owner END,
         fencing_token = CASE WHEN ${free} THEN fencing_token + 1 ELSE fencing_token END,
         lease_expires_at = CASE WHEN ${free} THEN ${param(lease.expiresAt, 'float8')} ELSE lease_expires_at END`
      : '';
    ctes.push(`w AS (UPDATE runs SET ready_at = ${at}${leaseSets}
      WHERE run_id = ANY(${ids}) AND status = 'ACTIVE' AND EXISTS (SELECT 1 FROM u) RETURNING ${RUN_COLUMNS}, ${slotsColumn('runs')})`);
    announced.push(`SELECT w.run_id || ':' || w.last_seq FROM w`);
  }
  // A SELECT CTE runs only when referenced, hence the count below. PostgreSQL holds the
  // NOTIFYs until the statement's transaction commits and drops them if it does not.
  ctes.push(`n AS (SELECT pg_notify('${NOTIFY_CHANNEL}', a.payload) FROM (${announced.join(' UNION ALL ')}) AS a)`);
  // The woken runs come back whole: the engine resumes a parent it woke without reading it.
  const woken = others.length > 0 ? ', (SELECT json_agg(w) FROM w) AS woken' : '';
  return { text: `WITH ${ctes.join(',\n')}\nSELECT u.*, (SELECT count(*) FROM n) AS notified${woken} FROM u`, values };
}

/**
 * Applies `t`, or throws: NotFoundError RUN_NOT_FOUND when the run does not exist,
 * ConflictError LEASE_LOST when the lease is not held with that token, the run ended or its
 * version moved on. An exact repeat of the last transition recorded (same token and expected
 * version, run now one version further) writes nothing and returns the run: that is a retry
 * whose first reply was lost. Those verdicts come from a statement that wrote nothing, so a
 * surrounding transaction stays usable. Any error the statement itself raises (a run it creates
 * exists already — see {@link transitionErrorOf} — or a value PostgreSQL refuses) is the
 * driver's, and it aborts a surrounding transaction.
 */
export async function applyTransition(sql: Sql, t: Transition): Promise<RecordedRun> {
  const statement = transitionStatement(t);
  const updated = await preparedQuery<RunRow & { woken?: RunRow[] | null }>(sql, statement.text, statement.values);
  const row = updated.rows[0];
  if (!row) return explainRejection(sql, t);
  return withWoken(recordedFromRow(row, t.patch.state), row.woken, t);
}

/** The recorded run with the rows of the runs it woke, read with their slots (a run waking itself is only itself, ready now). */
export function withWoken(run: RecordedRun, woken: RunRow[] | null | undefined, t: Transition): RecordedRun {
  const rows = woken ?? [];
  if (rows.some((row) => row.run_id === t.runId)) run.readyAt = t.at;
  const others = rows.filter((row) => row.run_id !== t.runId).map((row) => runFromRow(row));
  return others.length > 0 ? Object.assign(run, { wokenRuns: others }) : run;
}

/** The flowrun error for a driver error raised by a transition's statement, if it has one (a taken run id, a full or canceled run tree). */
export function transitionErrorOf(error: unknown): FlowError | null {
  const treeError = treeErrorOf(error);
  if (treeError) return treeError;
  if (!isUniqueViolation(error, RUNS_PKEY)) return null;
  // The detail names the key: `Key (run_id)=(<id>) already exists.`
  const detail = (error as { detail?: unknown }).detail;
  const runId = typeof detail === 'string' ? /\(run_id\)=\((.*)\) already exists/.exec(detail)?.[1] : undefined;
  return new ConflictError(`run "${runId ?? '?'}" already exists`, runId === undefined ? {} : { runId });
}

/**
 * The UPDATE matched no row: find out why, in the memory store's order of checks. A repeat of
 * the transition that made the run's current version is a success, not an error. A row that
 * holds its state whole (written before schema 9) refuses changes to slots: the transition is
 * applied again writing its state whole, as slots.
 */
export async function explainRejection(sql: Sql, t: Transition): Promise<RecordedRun> {
  const found = await preparedQuery<RunRow & { last_transition_key: string | null }>(sql, `SELECT ${RECORDED_COLUMNS}, last_transition_key FROM runs WHERE run_id = $1::text`, [t.runId]);
  const row = found.rows[0];
  if (!row) throw new NotFoundError('RUN_NOT_FOUND', `run "${t.runId}" does not exist`, { runId: t.runId });
  if (row.last_transition_key === transitionKey(t) && row.version === t.expectedVersion + 1) return recordedFromRow(row, t.patch.state);
  if (row.lease_owner !== t.lease.owner || row.fencing_token !== t.lease.fencingToken) {
    throw new ConflictError(`run "${t.runId}" is no longer leased to ${t.lease.owner} (token ${t.lease.fencingToken})`, { code: 'LEASE_LOST', runId: t.runId });
  }
  if (isTerminalStatus(row.status)) throw new ConflictError(`run "${t.runId}" has already ended (${row.status})`, { code: 'LEASE_LOST', runId: t.runId });
  if (!row.state_slots && row.version === t.expectedVersion && t.stateChanges && !isInline(t.stateChanges) && !t.stateChanges.replace && t.patch.state) {
    return applyTransition(sql, { ...t, stateChanges: wholeStateChanges(t.patch.state) });
  }
  throw new ConflictError(`run "${t.runId}" is at version ${row.version}, not ${t.expectedVersion}`, { code: 'LEASE_LOST', runId: t.runId });
}
