/**
 * The run writes of the SQLite store. Each function runs synchronously inside the savepoint the
 * group-commit queue opened for it, so it either applies completely or (by throwing) not at all;
 * they mirror the memory store's semantics check for check, error for error.
 */
import { ConflictError, FlowError, NotFoundError, type RunErrorInfo } from '../../core/errors.js';
import { creationRecordedAt, isTerminalStatus, type Item, type NewRun, type RunEventBody, type RunRecord, type RunStatus } from '../../core/run.js';
import type { ClaimSkip, ClaimedRun, RecordedRun, Transition } from '../../core/store.js';
import { inlineState, isInline, transitionStateChanges, wholeStateChanges, type StateChanges } from '../../core/state-slots.js';
import { countTreeRuns } from './run-trees.js';
import { INSERT_RUN_SQL, jsonOrNull, newRunParams, recordedFromRow, runFromRow, type RunRow, type SlotRow } from './run-rows.js';
import { writeSlots } from './run-slots.js';
import { deleteRunInput, withRunInput, writeRunInput } from './run-inputs.js';
import { sqliteCode } from './group-commit-queue.js';
import type { SqliteConnection } from './sqlite-connection.js';
import { insertPendingEmits } from './pending-emits.js';
import { forgetHeads, keepHead, transitionHeads } from './transition-heads.js';
import { waitingEventAfter } from '../waiting-event.js';

const TERMINAL_SQL = `('SUCCEEDED', 'FAILED', 'CANCELED')`;

/*
 * No write here says RETURNING: in SQLite a statement with RETURNING runs to completion into a
 * temporary table before the first row comes back; a run's INSERT costs ~2.3× more with
 * `RETURNING *` (bench/sqlite-statements.ts). A write reads the row it checks anyway, so
 * the new row is that one with the write's changes applied, or one plain SELECT after it.
 */

/** Reads a run's row with its slots; undefined when it does not exist. */
export function readRunRow(conn: SqliteConnection, runId: string): RunRow | undefined {
  const row = conn.get<RunRow>('SELECT * FROM flowrun_runs WHERE run_id = ?', [runId]);
  return row && withSlots(conn, withRunInput(conn, row));
}

/** The row with its slots (none on a row written before slots), in the order they were first written. */
export function withSlots(conn: SqliteConnection, row: RunRow): RunRow {
  if (row.state_slots === 1) row.slots = conn.all<SlotRow>('SELECT key, body FROM flowrun_run_slots WHERE run_id = ? ORDER BY ord', [row.run_id]);
  return row;
}

/** The rows with their slots, read in one statement for the whole page (a listing), not one per row. */
export function withSlotsOfRows(conn: SqliteConnection, rows: RunRow[]): RunRow[] {
  const slotted = rows.filter((row) => row.state_slots === 1);
  if (slotted.length === 0) return rows;
  const byRun = new Map<string, SlotRow[]>(slotted.map((row) => [row.run_id, (row.slots = [])]));
  const found = conn.all<SlotRow & { run_id: string }>(
    'SELECT run_id, key, body FROM flowrun_run_slots WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, ord',
    [JSON.stringify([...byRun.keys()])],
  );
  for (const { run_id, key, body } of found) byRun.get(run_id)!.push({ key, body });
  return rows;
}

/**
 * The columns a transition reads: neither the input (in its own table since schema 12) nor the
 * state (nor the slots), which it never parses — `fixed` is small on rows written since schema 7
 * (rows from before hold the input there; schema 7 moved it out of every live one).
 */
const TRANSITION_HEAD_SQL = `SELECT run_id, flow_id, status, label, start_time, end_time, parent_run_id, root_run_id, ready_at, lease_owner,
  lease_expires_at, fencing_token, version, last_seq, updated_at, last_transition_key, tags, output, run_error, '' AS state, state_slots, NULL AS input, fixed, waiting_event
  FROM flowrun_runs WHERE run_id = ?`;

function notFound(runId: string): NotFoundError {
  return new NotFoundError('RUN_NOT_FOUND', `run "${runId}" does not exist`, { runId });
}

/** Most event rows one INSERT carries; the statements for 1…this many rows are prepared once each. */
const EVENTS_PER_INSERT = 8;
const insertEventsSql = Array.from({ length: EVENTS_PER_INSERT + 1 }, (_, n) => `INSERT INTO flowrun_run_events (run_id, seq, kind, time, body) VALUES ${Array(n).fill('(?, ?, ?, ?, ?)').join(', ')}`);

/** Appends events with consecutive sequence numbers after `lastSeq`, several rows per statement; returns the new last one. */
function appendEvents(conn: SqliteConnection, runId: string, lastSeq: number, bodies: readonly RunEventBody[], time: number): number {
  for (let from = 0; from < bodies.length; from += EVENTS_PER_INSERT) {
    const chunk = bodies.slice(from, from + EVENTS_PER_INSERT);
    const params: unknown[] = [];
    chunk.forEach((body, i) => params.push(runId, lastSeq + from + i + 1, body.kind, time, JSON.stringify(body)));
    conn.run(insertEventsSql[chunk.length]!, params);
  }
  return lastSeq + bodies.length;
}

function writeTags(conn: SqliteConnection, runId: string, tags: readonly string[]): void {
  for (const tag of tags) conn.run('INSERT OR IGNORE INTO flowrun_run_tags (run_id, tag) VALUES (?, ?)', [runId, tag]);
}

/** Inserts a new run with its tags and first events, all stamped `at`; a taken id is a ConflictError. */
function insertRun(
  conn: SqliteConnection,
  run: NewRun,
  options: { events: readonly RunEventBody[]; at: number; lease: { owner: string; expiresAt: number } | null },
): RunRow {
  // last_seq is written up front, so the row is already final when the events follow.
  const { params, slots, input, inRow } = newRunParams(run, { updatedAt: options.at, lastSeq: options.events.length, lease: options.lease });
  // Object.assign and then the fields, not a spread with them: V8 adds fields to a spread copy far
  // more slowly (~10 µs here, a tenth of the run insert's own cost). The fields go in the order every
  // row this store keeps has (a run created already ended included): its transitions copy and read
  // it at the speed of one shape (transition-heads.ts).
  const row = Object.assign({}, params) as RunRow;
  row.end_time = run.endTime ?? null;
  row.version = 0;
  row.last_transition_key = null;
  row.output = run.output === undefined ? 'null' : jsonOrNull(run.output);
  row.run_error = run.runError ? JSON.stringify(run.runError) : null;
  try {
    conn.run(INSERT_RUN_SQL, row);
  } catch (error) {
    // The primary key says the id is taken: no read before every insert to find out first.
    if (sqliteCode(error) === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new ConflictError(`run "${run.runId}" already exists`, { runId: run.runId });
    throw error;
  }
  const slotsLeft = writeRunInput(conn, run, input, slots, inRow);
  if (!isInline(slotsLeft)) writeSlots(conn, run.runId, 0, slotsLeft);
  writeTags(conn, run.runId, run.tags);
  appendEvents(conn, run.runId, 0, options.events, options.at);
  return row;
}

/** Makes runs claimable now if they are still ACTIVE (a parent waiting on its child). */
function wakeRuns(conn: SqliteConnection, runIds: readonly string[], at: number, lease?: { owner: string; expiresAt: number }): void {
  for (const runId of runIds) {
    conn.run(`UPDATE flowrun_runs SET ready_at = ? WHERE run_id = ? AND status = 'ACTIVE'`, [at, runId]);
    if (lease) {
      conn.run(
        `UPDATE flowrun_runs SET lease_owner = ?, lease_expires_at = ?, fencing_token = fencing_token + 1
          WHERE run_id = ? AND status = 'ACTIVE' AND (lease_owner IS NULL OR lease_expires_at <= ?)`,
        [lease.owner, lease.expiresAt, runId, at],
      );
    }
  }
}

/**
 * Inserts a run with its tags and first events (`Store.createRun`); a taken id is a ConflictError
 * and writes nothing. A run joining an existing tree is counted into it, or refused (CANCELED /
 * LIMIT_EXCEEDED) with the savepoint undoing the insert.
 */
export function createRun(
  conn: SqliteConnection,
  input: { run: NewRun; events?: RunEventBody[]; lease?: { owner: string; expiresAt: number }; maxRunsPerTree?: number },
): ClaimedRun | { run: RunRecord; lease: null } {
  const runId = input.run.runId;
  const lease = input.lease ?? null;
  // The row holds exactly these values: the record is built from them, not read back.
  const row = insertRun(conn, input.run, { events: input.events ?? [], at: creationRecordedAt(input.run), lease });
  // Parsed once, for the record (which copies it) and the kept head. Fields set on the record, not
  // spread with it: V8 adds fields to a spread copy far more slowly (run-rows.ts).
  const fixed = JSON.parse(row.fixed) as Record<string, unknown>;
  const run = recordedFromRow(row, input.run.state, fixed) as RunRecord;
  run.input = input.run.input;
  if (input.run.treeId !== runId) countTreeRuns(conn, input.run.treeId, 1, input.maxRunsPerTree);
  // The writer executes a run it leased at once: its first transition starts from this row.
  if (lease) keepHead(conn, row, fixed);
  return lease ? { run, lease: { runId, owner: lease.owner, fencingToken: run.fencingToken, expiresAt: lease.expiresAt } } : { run, lease: null };
}

/** Creates runs that start their own trees, unleased (`Store.createRuns`): a taken id is `'exists'`, found by the run row's INSERT before anything else of that run is written. */
export function createRootRuns(conn: SqliteConnection, runs: readonly { run: NewRun; events: RunEventBody[] }[]): ('created' | 'exists')[] {
  return runs.map(({ run, events }) => {
    try {
      insertRun(conn, run, { events, at: run.startTime, lease: null });
      if (run.treeId !== run.runId) countTreeRuns(conn, run.treeId, 1, undefined);
      return 'created';
    } catch (error) {
      if (error instanceof ConflictError && error.code === 'CONFLICT') return 'exists';
      throw error;
    }
  });
}

/**
 * Records one transition (`Store.recordTransition`): checks lease, fencing token, status and
 * version, then applies patch, children, wakes, items and events. A repeat of the last recorded
 * transition returns the run unchanged; any failure leaves the run as it was (the savepoint).
 *
 * A plain transition of a run whose row this connection wrote last (transition-heads.ts) starts
 * from that row instead of reading it: its UPDATE's WHERE holds the checks and every column the
 * kept row has that another write may change, so when it matches nothing the transition reads
 * the row and checks it in full as below, having written nothing yet.
 */
export function recordTransition(conn: SqliteConnection, t: Transition): RecordedRun {
  const kept = transitionHeads(conn).get(t.runId);
  if (kept && !t.createRuns?.length && !t.wakeRuns?.length && kept.row.version === t.expectedVersion && kept.row.fencing_token === t.lease.fencingToken && kept.row.lease_owner === t.lease.owner) {
    const recorded = writeTransition(conn, t, Object.assign({}, kept.row), kept.fixed);
    if (recorded) return recorded;
    transitionHeads(conn).delete(t.runId);
  }
  const head = conn.get<RunRow>(TRANSITION_HEAD_SQL, [t.runId]);
  if (!head) throw notFound(t.runId);
  const key = transitionKey(t);
  // A duplicate of the transition just recorded (a retried write whose reply was lost) is a no-op.
  if (head.last_transition_key === key && head.version === t.expectedVersion + 1) return recordedFromRow(head, t.patch.state);
  if (head.lease_owner !== t.lease.owner || head.fencing_token !== t.lease.fencingToken) {
    throw new ConflictError(`run "${t.runId}" is no longer leased to ${t.lease.owner} (token ${t.lease.fencingToken})`, { code: 'LEASE_LOST', runId: t.runId });
  }
  const status = head.status as RunStatus;
  if (isTerminalStatus(status)) throw new ConflictError(`run "${t.runId}" has already ended (${status})`, { code: 'LEASE_LOST', runId: t.runId });
  if (head.version !== t.expectedVersion) {
    throw new ConflictError(`run "${t.runId}" is at version ${head.version}, not ${t.expectedVersion}`, { code: 'LEASE_LOST', runId: t.runId });
  }
  // A full or canceled tree throws, and so does a child whose id is taken (or given twice) from
  // its INSERT; the savepoint undoes everything.
  const created = t.createRuns ?? [];
  if (created.length > 0) countTreeRuns(conn, created[0]!.run.treeId, created.length, t.maxRunsPerTree);
  for (const created of t.createRuns ?? []) insertRun(conn, created.run, { events: created.events, at: t.at, lease: created.lease ?? null });
  // The memory store wakes after patching; waking this run itself is folded into its own update.
  const wakes = t.wakeRuns ?? [];
  const others = wakes.filter((id) => id !== t.runId);
  wakeRuns(conn, others, t.at, t.wakeLease);
  forgetHeads(conn, others);
  return writeTransition(conn, t, head, null)!;
}

function transitionKey(t: Transition): string {
  return `${t.lease.fencingToken}:${t.expectedVersion}`;
}

/**
 * Writes the run's side of a checked transition, starting from `head` (which it changes into the
 * row after the write). With `kept` (the parsed `fixed` of a kept head) the UPDATE also checks
 * that the row is still `head`; null when it is not, before anything was written.
 */
function writeTransition(conn: SqliteConnection, t: Transition, head: RunRow, kept: Record<string, unknown> | null): RecordedRun | null {
  const p = t.patch;
  const status = head.status as RunStatus;
  const newStatus = p.status ?? status;
  const ended = isTerminalStatus(newStatus);
  const wakesSelf = newStatus === 'ACTIVE' && t.wakeRuns !== undefined && t.wakeRuns.includes(t.runId);
  const events = t.events ?? [];
  // The guard compares the columns as they are now, before the changes below.
  const guard = kept ? guardParams(head, t) : null;
  // Only the columns this transition changes are named: SQLite rewrites an index entry for
  // every indexed column in SET, and most transitions change neither status nor times.
  const lastSeq = head.last_seq;
  const key = transitionKey(t);
  const sets = ['version = version + 1', 'updated_at = ?', 'last_seq = ?', 'last_transition_key = ?'];
  const params: unknown[] = [t.at, lastSeq + events.length, key];
  // The row after the UPDATE is the head (read here, or copied from the kept one) with the same
  // changes, made column by column as they are named in SET.
  const row = head;
  row.version += 1;
  row.updated_at = t.at;
  row.last_seq = lastSeq + events.length;
  row.last_transition_key = key;
  const set = <C extends keyof RunRow>(column: C, value: RunRow[C]): void => {
    sets.push(`${column} = ?`);
    params.push(value);
    row[column] = value;
  };
  if (p.status !== undefined) set('status', p.status);
  const changes = transitionStateChanges(t);
  // Slots are written after the UPDATE, which may find the row changed (a kept head) and write nothing.
  let dropSlots = false;
  let slotWrite: StateChanges | null = null;
  if (changes && isInline(changes)) {
    // A small state, whole in the row: the slots the row had (it held a header) go.
    if (head.state_slots === 1) {
      dropSlots = true;
      set('state_slots', 0);
    }
    set('state', JSON.stringify(inlineState(t)));
  } else if (changes) {
    // A row written before slots holds its state whole: this transition writes it whole, as slots.
    const slotted = head.state_slots === 1;
    if (!slotted && !changes.replace && p.state === undefined) throw new FlowError('INTERNAL', `run "${t.runId}" holds its state whole: a transition changing it must carry patch.state`, { runId: t.runId });
    slotWrite = slotted || changes.replace ? changes : wholeStateChanges(p.state!);
    set('state', JSON.stringify(slotWrite.header));
    if (!slotted) set('state_slots', 1);
  }
  if ('output' in p) set('output', jsonOrNull(p.output));
  if (p.runError !== undefined) set('run_error', p.runError === null ? null : JSON.stringify(p.runError));
  if (p.endTime !== undefined) set('end_time', p.endTime);
  if (wakesSelf) set('ready_at', t.at);
  else if (p.readyAt !== undefined) set('ready_at', p.readyAt);
  const waiting = waitingEventAfter(p);
  // Named only when it changes: naming an indexed column in SET costs SQLite index work.
  if (waiting !== undefined && waiting !== (head.waiting_event ?? null)) set('waiting_event', waiting);
  if (t.releaseLease === true || ended) {
    sets.push('lease_owner = NULL', 'lease_expires_at = NULL');
    row.lease_owner = null;
    row.lease_expires_at = null;
  } else if (t.leaseExpiresAt !== undefined) set('lease_expires_at', t.leaseExpiresAt);
  if (guard) {
    if (conn.run(`UPDATE flowrun_runs SET ${sets.join(', ')} WHERE ${GUARD_SQL}`, [...params, ...guard]) === 0) return null;
  } else {
    conn.run(`UPDATE flowrun_runs SET ${sets.join(', ')} WHERE run_id = ?`, [...params, t.runId]);
  }
  if (dropSlots) conn.run('DELETE FROM flowrun_run_slots WHERE run_id = ?', [t.runId]);
  if (slotWrite) writeSlots(conn, t.runId, row.version, slotWrite);
  for (const item of t.items ?? []) upsertItem(conn, t.runId, item);
  appendEvents(conn, t.runId, lastSeq, events, t.at);
  if (t.emits?.length) insertPendingEmits(conn, t.runId, t.emits, t.at);
  const fixed = kept ?? (JSON.parse(row.fixed) as Record<string, unknown>);
  const recorded = recordedFromRow(row, p.state, fixed);
  // Only a run this connection goes on executing is written again from here soon.
  if (row.lease_owner === null) forgetHeads(conn, [t.runId]);
  else keepHead(conn, row, fixed);
  return recorded;
}

/**
 * The WHERE of a transition's UPDATE from a kept head: the row is that head, column for column,
 * for every column some write changes — a transition or a cancel (version), a claim or a wake
 * that leases (fencing token, owner), a renewal, a wake, an update of label or tags.
 */
const GUARD_SQL = `run_id = ? AND version = ? AND fencing_token = ? AND lease_owner = ? AND status = ? AND last_seq = ? AND state_slots = ?
  AND waiting_event IS ? AND label IS ? AND tags = ? AND ready_at IS ? AND lease_expires_at IS ?`;

function guardParams(head: RunRow, t: Transition): unknown[] {
  return [t.runId, head.version, head.fencing_token, head.lease_owner, head.status, head.last_seq, head.state_slots, head.waiting_event ?? null, head.label, head.tags, head.ready_at, head.lease_expires_at];
}

function upsertItem(conn: SqliteConnection, runId: string, item: Item): void {
  // The upsert keeps the row (and its position) of an item already there: creation order.
  conn.run('INSERT INTO flowrun_run_items (run_id, item_id, body) VALUES (?, ?, ?) ON CONFLICT (run_id, item_id) DO UPDATE SET body = excluded.body', [
    runId,
    item.id,
    JSON.stringify(item),
  ]);
}

/** Ends a run as CANCELED and drops its lease (`Store.cancelRun`); null when it had already ended, so a repeat changes nothing. */
export function cancelRun(
  conn: SqliteConnection,
  input: { runId: string; at: number; events: RunEventBody[]; runError: RunErrorInfo; wakeRuns?: string[] },
): RunRecord | null {
  const head = readRunRow(conn, input.runId);
  if (!head) throw notFound(input.runId);
  if (isTerminalStatus(head.status as RunStatus)) return null;
  conn.run(
    `UPDATE flowrun_runs SET status = 'CANCELED', run_error = ?, end_time = ?, updated_at = ?, ready_at = NULL, waiting_event = NULL,
       lease_owner = NULL, lease_expires_at = NULL, version = version + 1, last_seq = ?
     WHERE run_id = ?`,
    [JSON.stringify(input.runError), input.at, input.at, head.last_seq + input.events.length, input.runId],
  );
  appendEvents(conn, input.runId, head.last_seq, input.events, input.at);
  wakeRuns(conn, input.wakeRuns ?? [], input.at);
  return runFromRow(readRunRow(conn, input.runId)!);
}

/** Changes a run's label and tags (`Store.updateRun`); the version does not move, so an executor's next transition is unaffected. */
export function updateRun(conn: SqliteConnection, input: { runId: string; at: number; label?: string | null; tags?: string[] }): RunRecord {
  const changed = conn.run(
    `UPDATE flowrun_runs SET
       label = CASE WHEN @set_label THEN @label ELSE label END,
       tags = CASE WHEN @set_tags THEN @tags ELSE tags END,
       updated_at = @at
     WHERE run_id = @run_id`,
    {
      run_id: input.runId,
      set_label: input.label !== undefined ? 1 : 0,
      label: input.label ?? null,
      set_tags: input.tags !== undefined ? 1 : 0,
      tags: input.tags !== undefined ? JSON.stringify(input.tags) : null,
      at: input.at,
    },
  );
  if (changed === 0) throw notFound(input.runId);
  if (input.tags !== undefined) {
    conn.run('DELETE FROM flowrun_run_tags WHERE run_id = ?', [input.runId]);
    writeTags(conn, input.runId, input.tags);
  }
  return runFromRow(readRunRow(conn, input.runId)!);
}

const CLAIMABLE_SQL = `status = 'ACTIVE' AND ready_at <= @now AND (lease_owner IS NULL OR coalesce(lease_expires_at, 0) <= @now)`;
/** An INACTIVE run nobody holds: claimed by the engine that resumes it (an approval, an event). */
const SUSPENDED_SQL = `status = 'INACTIVE' AND (lease_owner IS NULL OR coalesce(lease_expires_at, 0) <= @now)`;
/** An INACTIVE run whose timer is due (`Store.claimRuns` with status INACTIVE). */
const DUE_SUSPENDED_SQL = `status = 'INACTIVE' AND ready_at <= @now AND (lease_owner IS NULL OR coalesce(lease_expires_at, 0) <= @now)`;

function takeLease(conn: SqliteConnection, runId: string, owner: string, expiresAt: number): ClaimedRun {
  forgetHeads(conn, [runId]);
  conn.run('UPDATE flowrun_runs SET lease_owner = ?, lease_expires_at = ?, fencing_token = fencing_token + 1 WHERE run_id = ?', [owner, expiresAt, runId]);
  const run = runFromRow(readRunRow(conn, runId)!);
  return { run, lease: { runId, owner, fencingToken: run.fencingToken, expiresAt } };
}

/** The claim's condition on runs it passes over (`ClaimSkip`); empty without any. */
function skipSql(skip: ClaimSkip | undefined): string {
  // treeId and runOwner live in `fixed`; read only when a claim skips something (a busy engine).
  const trees = skip?.treeIds?.length ? ` AND coalesce(json_extract(fixed, '$.treeId'), root_run_id) NOT IN (SELECT value FROM json_each(@skip_trees))` : '';
  const owners = skip?.runOwners?.length ? ` AND json_extract(fixed, '$.runOwner') NOT IN (SELECT value FROM json_each(@skip_owners))` : '';
  return trees + owners;
}

function skipParams(skip: ClaimSkip | undefined): Record<string, string> {
  return {
    ...(skip?.treeIds?.length ? { skip_trees: JSON.stringify(skip.treeIds) } : {}),
    ...(skip?.runOwners?.length ? { skip_owners: JSON.stringify(skip.runOwners) } : {}),
  };
}

/** Leases up to `limit` claimable runs (`Store.claimRuns`), ready longest first, ties in creation order, passing over `skip`; each claim bumps the fencing token. */
export function claimRuns(conn: SqliteConnection, input: { owner: string; limit: number; now: number; leaseExpiresAt: number; status?: 'ACTIVE' | 'INACTIVE'; skip?: ClaimSkip }): ClaimedRun[] {
  const limit = Math.ceil(input.limit);
  if (!(limit > 0)) return [];
  if (input.status === 'INACTIVE') {
    // Due suspensions (WAIT timers): the partial index over INACTIVE runs with a ready_at (migration 8),
    // ordered by it, reads only the due ones however many wait. Named for the same reason as below.
    const due = conn.all<{ run_id: string }>(`SELECT run_id FROM flowrun_runs INDEXED BY flowrun_runs_due WHERE ${DUE_SUSPENDED_SQL}${skipSql(input.skip)} ORDER BY ready_at, rowid LIMIT @limit`, { now: input.now, limit, ...skipParams(input.skip) });
    return due.map(({ run_id }) => takeLease(conn, run_id, input.owner, input.leaseExpiresAt));
  }
  // The partial index over ACTIVE runs is ordered by ready_at then rowid (creation order).
  // Named because without ANALYZE statistics the planner prefers the status index, which would
  // read every ACTIVE run (waiting ones included) and sort them.
  const ids = conn.all<{ run_id: string }>(`SELECT run_id FROM flowrun_runs INDEXED BY flowrun_runs_claimable WHERE ${CLAIMABLE_SQL}${skipSql(input.skip)} ORDER BY ready_at, rowid LIMIT @limit`, {
    now: input.now,
    limit,
    ...skipParams(input.skip),
  });
  return ids.map(({ run_id }) => takeLease(conn, run_id, input.owner, input.leaseExpiresAt));
}

/** Leases one run if it is claimable (`Store.claimRun`); null when it is missing, leased, waiting or ended. */
export function claimRun(conn: SqliteConnection, input: { runId: string; owner: string; now: number; leaseExpiresAt: number; status?: 'ACTIVE' | 'INACTIVE' }): ClaimedRun | null {
  const condition = input.status === 'INACTIVE' ? SUSPENDED_SQL : CLAIMABLE_SQL;
  const found = conn.get(`SELECT 1 FROM flowrun_runs WHERE run_id = @run_id AND ${condition}`, { run_id: input.runId, now: input.now });
  return found === undefined ? null : takeLease(conn, input.runId, input.owner, input.leaseExpiresAt);
}

/** Extends this owner's leases (`Store.renewLeases`); returns, in the order given, the ids it still holds. */
export function renewLeases(conn: SqliteConnection, input: { owner: string; runIds: string[]; expiresAt: number }): string[] {
  const heads = transitionHeads(conn);
  return input.runIds.filter((runId) => {
    const renewed = conn.run(`UPDATE flowrun_runs SET lease_expires_at = ? WHERE run_id = ? AND lease_owner = ? AND status NOT IN ${TERMINAL_SQL}`, [input.expiresAt, runId, input.owner]) > 0;
    // A kept head follows the renewal (its next transition's guard names lease_expires_at).
    const kept = heads.get(runId)?.row;
    if (kept && renewed && kept.lease_owner === input.owner) kept.lease_expires_at = input.expiresAt;
    return renewed;
  });
}

/** Deletes up to `limit` runs that ended before the cutoff (`Store.deleteEndedRuns`), oldest first, with their events, items and tags. */
export function deleteEndedRuns(conn: SqliteConnection, input: { endedBefore: number; limit: number }): number {
  const limit = Math.ceil(input.limit);
  if (!(limit > 0)) return 0;
  const ids = conn.all<{ run_id: string }>(
    // Named for the same reason as in claimRuns: the end-time range, not every ended run.
    `SELECT run_id FROM flowrun_runs INDEXED BY flowrun_runs_end WHERE end_sort < ? AND end_time IS NOT NULL AND status IN ${TERMINAL_SQL} ORDER BY end_sort, run_id LIMIT ?`,
    [input.endedBefore, limit],
  );
  for (const { run_id } of ids) {
    conn.run('DELETE FROM flowrun_run_events WHERE run_id = ?', [run_id]);
    conn.run('DELETE FROM flowrun_run_items WHERE run_id = ?', [run_id]);
    conn.run('DELETE FROM flowrun_run_tags WHERE run_id = ?', [run_id]);
    conn.run('DELETE FROM flowrun_run_slots WHERE run_id = ?', [run_id]);
    deleteRunInput(conn, run_id);
    conn.run('DELETE FROM flowrun_runs WHERE run_id = ?', [run_id]);
    // A tree's row goes with its root.
    conn.run('DELETE FROM flowrun_run_trees WHERE tree_id = ?', [run_id]);
  }
  return ids.length;
}
