/**
 * Group commit in one round trip: a batch of run transitions goes to PostgreSQL as one JSON
 * argument of the `flowrun_record_transitions` function (a migration creates it), which applies
 * them in order with statements whose plans the server caches. One call is one statement, so it is
 * atomic without BEGIN/COMMIT; one write to the socket and one commit serve the whole batch.
 *
 * A new run is inserted as `insertRun` inserts it alone, counted into the tree it joins (if any).
 * Each transition is applied exactly as {@link applyTransition} applies it alone: the guarded
 * UPDATE (lease, fencing token, version, liveness), then — only if it matched — its events, items,
 * created runs with their first events, emitted events, and wakes; every touched run is announced with NOTIFY at
 * commit. A transition whose UPDATE matched nothing wrote nothing and returns no row.
 */
import { FlowError } from '../../core/errors.js';
import { creationRecordedAt, isTerminalStatus, type NewRun, type RunEventBody } from '../../core/run.js';
import type { Transition } from '../../core/store.js';
import { emitRows, explainRejection, transitionKey, withWoken } from './apply-transition.js';
import { inlineState, isInline, newRunStateWrite, stateColumn, transitionStateChanges } from '../../core/state-slots.js';
import type { RecordedRun } from '../../core/store.js';
import { RECORDED_COLUMNS, RUN_COLUMNS, dedupeItems, recordedFromRow, slotDeleteSql, slotUpsertSql, slotsArgument, slotsColumn, type RunRow } from './run-rows.js';
import { NOTIFY_CHANNEL, eventKinds, preparedQuery, type Sql } from './run-writes.js';
import { waitingEventAfter } from '../waiting-event.js';

/** The columns a created run is inserted with (every column but the generated `end_sort`). */
export const INSERT_COLUMNS = `${RUN_COLUMNS}, last_transition_key`;

/** The migration statement that creates the function (in the store's schema). */
export const RECORD_FUNCTION_SQL = `CREATE OR REPLACE FUNCTION flowrun_record_transitions(batch json)
RETURNS TABLE (batch_index integer, run json, woken json)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  t json;
  -- The same transition parsed once into jsonb for its scalars and every test (presence, lengths,
  -- kinds): a json operator parses the whole transition text, state included, each time. Payloads
  -- (state, events, items, outputs) are read from the json text, once each and only when present,
  -- so they are stored exactly as sent (jsonb reorders keys).
  tb jsonb;
  c json;
  r record;
  w record;
  i integer := -1;
  n_events integer;
  at_ms double precision;
  payloads text[] := '{}';
  woken_rows json[];
BEGIN
  FOR t IN SELECT value FROM json_array_elements(batch) LOOP
    i := i + 1;
    tb := t::jsonb;
    IF tb ? 'new' THEN
      -- A new run with its first events (createRun), recorded with the batch.
      INSERT INTO runs (${INSERT_COLUMNS})
      SELECT ${INSERT_COLUMNS} FROM json_populate_record(NULL::runs, t->'new'->'row');
      INSERT INTO run_events (run_id, seq, kind, time, body)
      SELECT tb->'new'->'row'->>'run_id', e.ord, e.kind, (tb->'new'->'row'->>'start_time')::double precision, e.body
      FROM ROWS FROM (json_array_elements(t->'new'->'ev'), jsonb_array_elements_text(tb->'new'->'ek')) WITH ORDINALITY AS e(body, kind, ord);
      IF tb->'new' ? 'sl' THEN
        ${slotUpsertSql("tb->'new'->'row'->>'run_id'", '0', "t->'new'->'sl'")};
      END IF;
      IF tb->'new'->'row'->>'tree_id' <> tb->'new'->'row'->>'run_id' THEN
        -- A run joining an existing tree (an EMIT's event started it) counts into it, after its
        -- INSERT (a taken id is reported first); a refusal raises like a created child's.
        PERFORM flowrun_count_tree_runs(tb->'new'->'row'->>'tree_id', 1, (tb->'new'->>'mt')::double precision);
      END IF;
      payloads := payloads || ((tb->'new'->'row'->>'run_id') || ':' || jsonb_array_length(tb->'new'->'ev'));
      CONTINUE;
    END IF;
    n_events := COALESCE(jsonb_array_length(tb->'ev'), 0);
    at_ms := (tb->>'at')::double precision;
    UPDATE runs SET
      status = COALESCE(tb->>'st', runs.status),
      state = CASE WHEN tb ? 'state' THEN t->'state' ELSE runs.state END,
      -- A small state comes whole ('in'), anything else as a header with slot changes.
      state_slots = CASE WHEN tb ? 'in' THEN false ELSE runs.state_slots OR tb ? 'state' END,
      output = CASE WHEN (tb->>'ho')::boolean THEN t->'output' ELSE runs.output END,
      run_error = CASE WHEN (tb->>'hre')::boolean THEN NULLIF((t->'re')::text, 'null')::json ELSE runs.run_error END,
      end_time = CASE WHEN (tb->>'het')::boolean THEN (tb->>'et')::double precision ELSE runs.end_time END,
      ready_at = CASE WHEN (tb->>'hra')::boolean THEN (tb->>'ra')::double precision ELSE runs.ready_at END,
      waiting_event = CASE WHEN tb ? 'we' THEN tb->>'we' ELSE runs.waiting_event END,
      lease_owner = CASE WHEN (tb->>'ls')::integer = 1 THEN NULL ELSE runs.lease_owner END,
      lease_expires_at = CASE (tb->>'ls')::integer WHEN 1 THEN NULL WHEN 2 THEN (tb->>'lx')::double precision ELSE runs.lease_expires_at END,
      version = runs.version + 1,
      updated_at = at_ms,
      last_seq = runs.last_seq + n_events,
      last_transition_key = tb->>'key'
    WHERE runs.run_id = tb->>'id' AND runs.lease_owner = tb->>'owner' AND runs.fencing_token = (tb->>'token')::bigint
      AND runs.version = (tb->>'ver')::integer AND runs.status IN ('ACTIVE', 'INACTIVE')
      -- Changes apply to slots only: a row holding its state whole (from before schema 9) matches
      -- none, and the caller applies the transition again writing it whole (explainRejection).
      AND (runs.state_slots OR tb->'sl' IS NULL OR (tb->'sl'->>'r')::boolean)
    RETURNING ${RECORDED_COLUMNS} INTO r;
    CONTINUE WHEN NOT FOUND;
    IF (tb->>'in')::integer = 2 THEN
      -- Whole in the row now: the slots it may have had go.
      DELETE FROM run_state_slots WHERE run_id = r.run_id;
    ELSIF tb ? 'sl' THEN
      IF (tb->'sl'->>'r')::boolean OR jsonb_array_length(tb->'sl'->'d') > 0 OR jsonb_array_length(tb->'sl'->'p') > 0 THEN
        ${slotDeleteSql('r.run_id', "t->'sl'")};
      END IF;
      ${slotUpsertSql('r.run_id', 'r.version', "t->'sl'")};
    END IF;
    payloads := payloads || (r.run_id || ':' || r.last_seq);
    IF n_events > 0 THEN
      INSERT INTO run_events (run_id, seq, kind, time, body)
      SELECT r.run_id, r.last_seq - n_events + e.ord, e.kind, at_ms, e.body
      FROM ROWS FROM (json_array_elements(t->'ev'), jsonb_array_elements_text(tb->'ek')) WITH ORDINALITY AS e(body, kind, ord);
    END IF;
    IF tb ? 'it' THEN
      INSERT INTO run_items (run_id, item_id, first_version, first_ord, body)
      SELECT r.run_id, it.id, r.version, it.ord, it.body
      FROM ROWS FROM (json_array_elements(t->'it'), jsonb_array_elements_text(tb->'ii')) WITH ORDINALITY AS it(body, id, ord)
      ON CONFLICT (run_id, item_id) DO UPDATE SET body = EXCLUDED.body;
    END IF;
    IF tb ? 'em' THEN
      INSERT INTO pending_emits (event_id, run_id, event, payload, recorded_at)
      SELECT em->>'eventId', r.run_id, em->>'event', em->'payload', at_ms FROM json_array_elements(t->'em') AS em
      ON CONFLICT (event_id) DO NOTHING;
    END IF;
    IF tb ? 'cr' THEN
      -- Raises for a full or canceled tree, which undoes the whole call (run-trees.ts).
      PERFORM flowrun_count_tree_runs(tb->'cr'->0->'row'->>'tree_id', jsonb_array_length(tb->'cr'), (tb->>'mt')::double precision);
      FOR c IN SELECT value FROM json_array_elements(t->'cr') LOOP
        INSERT INTO runs (${INSERT_COLUMNS})
        SELECT ${INSERT_COLUMNS} FROM json_populate_record(NULL::runs, c->'row');
        INSERT INTO run_events (run_id, seq, kind, time, body)
        SELECT c->'row'->>'run_id', e.ord, e.kind, at_ms, e.body
        FROM ROWS FROM (json_array_elements(c->'ev'), json_array_elements_text(c->'ek')) WITH ORDINALITY AS e(body, kind, ord);
        IF c->'sl' IS NOT NULL THEN
          ${slotUpsertSql("c->'row'->>'run_id'", '0', "c->'sl'")};
        END IF;
        payloads := payloads || ((c->'row'->>'run_id') || ':' || json_array_length(c->'ev'));
      END LOOP;
    END IF;
    woken_rows := '{}';
    IF tb->'wk' IS NOT NULL THEN
      -- After the patch, as the memory store does: a run waking itself is ready if still ACTIVE.
      FOR w IN
        UPDATE runs SET ready_at = at_ms,
          lease_owner = CASE WHEN tb->'wl' IS NOT NULL AND (runs.lease_owner IS NULL OR runs.lease_expires_at <= at_ms) THEN tb->'wl'->>'o' ELSE runs.lease_owner END,
          fencing_token = CASE WHEN tb->'wl' IS NOT NULL AND (runs.lease_owner IS NULL OR runs.lease_expires_at <= at_ms) THEN runs.fencing_token + 1 ELSE runs.fencing_token END,
          lease_expires_at = CASE WHEN tb->'wl' IS NOT NULL AND (runs.lease_owner IS NULL OR runs.lease_expires_at <= at_ms) THEN (tb->'wl'->>'x')::double precision ELSE runs.lease_expires_at END
        WHERE runs.run_id IN (SELECT jsonb_array_elements_text(tb->'wk')) AND runs.status = 'ACTIVE'
        RETURNING ${RUN_COLUMNS}, ${slotsColumn('runs')}
      LOOP
        payloads := payloads || (w.run_id || ':' || w.last_seq);
        IF w.run_id = r.run_id THEN r.ready_at := at_ms; ELSE woken_rows := woken_rows || row_to_json(w); END IF;
      END LOOP;
    END IF;
    -- The caller holds the state it recorded and the input: neither travels back.
    batch_index := i;
    run := row_to_json(r);
    -- The woken runs come back whole: the engine resumes a parent it woke without reading it.
    woken := CASE WHEN cardinality(woken_rows) > 0 THEN array_to_json(woken_rows) END;
    RETURN NEXT;
  END LOOP;
  PERFORM pg_notify('${NOTIFY_CHANNEL}', p) FROM unnest(payloads) AS p;
END
$fn$`;

/** A run to create, with its first events, as {@link recordBatch} takes it. */
export interface NewRunWrite {
  run: NewRun;
  events: RunEventBody[];
  lease: { owner: string; expiresAt: number } | null;
  /** For a run joining an existing tree (`treeId !== runId`): the most runs the tree may hold. */
  maxRunsPerTree?: number;
}

/** What a group commit records: a transition of a run, or a new run. */
export type BatchItem = { transition: Transition } | { creation: NewRunWrite };

/** A new run's row (column → value, as json_populate_record reads it) with its first events; `sl` when its state is written as slots. */
export function newRunArgument(run: NewRun, events: RunEventBody[], lease: { owner: string; expiresAt: number } | null, at: number): Record<string, unknown> {
  const write = newRunStateWrite(run.state);
  const row: Record<string, unknown> = {
    run_id: run.runId, flow_id: run.flowId, flow_version: run.flowVersion, action_name: run.actionName, status: run.status, label: run.label,
    tags: run.tags, input: run.input, output: null, run_error: null, created_by: run.createdBy, run_owner: run.runOwner, run_as: run.runAs,
    source: run.source, session_id: run.sessionId, parent_run_id: run.parentRunId, root_run_id: run.rootRunId, detached: run.detached,
    depth: run.depth, monitors: run.monitors, managers: run.managers, start_time: run.startTime, end_time: null, updated_at: at,
    timeout_ms: run.timeoutMs, deadline: run.deadline, version: 0, last_seq: events.length, ready_at: run.readyAt,
    lease_owner: lease?.owner ?? null, lease_expires_at: lease?.expiresAt ?? null, fencing_token: lease ? 1 : 0,
    last_transition_key: null, triggered_by: run.triggeredBy, tree_id: run.treeId, trace_context: run.traceContext ?? null, state_slots: !isInline(write), state: stateColumn(write, run.state),
  };
  // A small state is whole in the row: no slots.
  return { row, ev: events, ek: eventKinds(events), ...(isInline(write) ? {} : { sl: slotsArgument(write) }) };
}

/** A new run as the function reads it: its row, its first events and, when it joins a tree, that tree's budget (`mt`). */
function creationArgument(creation: NewRunWrite): Record<string, unknown> {
  const arg = newRunArgument(creation.run, creation.events, creation.lease, creationRecordedAt(creation.run));
  if (creation.maxRunsPerTree !== undefined) arg.mt = creation.maxRunsPerTree;
  return arg;
}

/** A transition as the function reads it (short keys: it is sent for every transition). */
function transitionArgument(t: Transition): Record<string, unknown> {
  const p = t.patch;
  const events = t.events ?? [];
  const items = dedupeItems(t.items ?? []);
  const arg: Record<string, unknown> = { id: t.runId, owner: t.lease.owner, token: t.lease.fencingToken, ver: t.expectedVersion, at: t.at, key: transitionKey(t) };
  if (p.status !== undefined) arg.st = p.status;
  const changes = transitionStateChanges(t);
  if (changes && isInline(changes)) Object.assign(arg, { state: inlineState(t), in: changes.dropSlots ? 2 : 1 });
  else if (changes) Object.assign(arg, { state: changes.header, sl: slotsArgument(changes) });
  if ('output' in p) Object.assign(arg, { ho: true, output: p.output });
  if (p.runError !== undefined) Object.assign(arg, { hre: true, re: p.runError });
  if (p.endTime !== undefined) Object.assign(arg, { het: true, et: p.endTime });
  if (p.readyAt !== undefined) Object.assign(arg, { hra: true, ra: p.readyAt });
  const waiting = waitingEventAfter(p);
  if (waiting !== undefined) arg.we = waiting;
  if (t.releaseLease || (p.status !== undefined && isTerminalStatus(p.status))) arg.ls = 1;
  else if (t.leaseExpiresAt !== undefined) Object.assign(arg, { ls: 2, lx: t.leaseExpiresAt });
  if (events.length > 0) Object.assign(arg, { ev: events, ek: eventKinds(events) });
  if (items.length > 0) Object.assign(arg, { it: items, ii: items.map((item) => String(item.id)) });
  if (t.createRuns?.length) arg.cr = t.createRuns.map((created) => newRunArgument(created.run, created.events, created.lease ?? null, t.at));
  if (t.emits?.length) arg.em = emitRows(t);
  if (t.createRuns?.length && t.maxRunsPerTree !== undefined) arg.mt = t.maxRunsPerTree;
  if (t.wakeRuns?.length) arg.wk = t.wakeRuns;
  if (t.wakeLease) arg.wl = { o: t.wakeLease.owner, x: t.wakeLease.expiresAt };
  return arg;
}

/** What became of one item of a batch: recorded (a transition's run as recorded), or refused with why. */
export type BatchOutcome = { ok: true; run: RecordedRun | null } | { ok: false; error: FlowError };

/** A FlowError thrown while reading an item's outcome is that item's refusal; anything else fails the batch. */
function refusedOutcome(error: unknown): BatchOutcome {
  if (error instanceof FlowError) return { ok: false, error };
  throw error;
}

/**
 * Records the items (transitions and new runs) in one call, in order. Resolves with each one's outcome: the run as
 * recorded, or the verdict on a transition whose guarded UPDATE matched nothing (it wrote
 * nothing). Rejects with the driver's error when the call failed — then nothing of it was written
 * and the caller records them one by one to find the culprit.
 */
export async function recordBatch(sql: Sql, items: BatchItem[]): Promise<BatchOutcome[]> {
  const argument = items.map((item) =>
    'transition' in item ? transitionArgument(item.transition) : { new: creationArgument(item.creation) },
  );
  const result = await preparedQuery<{ batch_index: number; run: RunRow; woken: RunRow[] | null }>(sql, 'SELECT batch_index, run, woken FROM flowrun_record_transitions($1::json)', [
    JSON.stringify(argument),
  ]);
  const rows = new Map(result.rows.map((row) => [row.batch_index, row]));
  // A recorded transition's outcome is read from its row at once: only a refused one is asked about
  // (and awaited), so a batch of recorded transitions makes no promise per item.
  const outcomes = items.map((item, i): BatchOutcome | Promise<BatchOutcome> => {
    if (!('transition' in item)) return { ok: true, run: null };
    const t = item.transition;
    const row = rows.get(i);
    if (!row) return explainRejection(sql, t).then((run) => ({ ok: true as const, run }), refusedOutcome);
    try {
      return { ok: true, run: withWoken(recordedFromRow(row.run, t.patch.state), row.woken, t) };
    } catch (error) {
      return refusedOutcome(error);
    }
  });
  return outcomes.some((o) => o instanceof Promise) ? Promise.all(outcomes) : (outcomes as BatchOutcome[]);
}
