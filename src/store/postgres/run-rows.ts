/**
 * How a run record maps onto a `runs` row and back (the schema is in migrations.ts). The pool
 * parses `json` columns and `text[]`, and its int8 parser turns bigint into numbers, so a row
 * is plain data here; every read builds fresh objects, so no two callers share a reference.
 */
import type { RunErrorInfo } from '../../core/errors.js';
import type { Item, NewRun, PrincipalSet, RunEvent, RunEventBody, RunRecord, RunState, RunStatus } from '../../core/run.js';
import type { RecordedRun } from '../../core/store.js';
import { isInline, newRunStateWrite, prefixEnd, stateColumn, storedState, type StateChanges } from '../../core/state-slots.js';
import { jsonOf } from '../../core/sealed-text.js';
import { plainColumns, readRunOrMark, type PlainRunRow } from '../unreadable-run.js';

/**
 * A `runs` row as the pool returns it; `state` (and `input`) absent when the query left them out,
 * `slots` present when it read them ({@link slotsColumn}).
 */
export interface RunRow extends PlainRunRow {
  flow_version: number;
  action_name: string;
  status: RunStatus;
  tags: string[];
  input: unknown;
  output: unknown;
  run_error: RunErrorInfo | null;
  created_by: string;
  run_owner: string;
  run_as: string | null;
  triggered_by: string | null;
  source: string;
  session_id: string | null;
  /** Null on rows written before run trees (schema 7): each was the root of its own. */
  tree_id: string | null;
  /** The run's W3C trace context (schema 19); null when not traced and on rows written before. */
  trace_context?: { traceparent: string; tracestate?: string } | null;
  detached: boolean;
  depth: number;
  monitors: PrincipalSet;
  managers: PrincipalSet;
  timeout_ms: number | null;
  deadline: number | null;
  /** True when `state` holds a header and `run_state_slots` the rest; false on rows written before schema 9 (the whole state). */
  state_slots: boolean;
  /** The state's header, or a whole state written before schema 9. */
  state?: RunState | unknown;
  /** The run's slots as `[key, value]` pairs in the order first written; null when it has none. */
  slots?: [string, unknown][] | null;
}

/**
 * The columns of a run a transition hands back: neither the input (written once, at creation)
 * nor the state — it reads neither.
 */
export const RECORDED_COLUMNS =
  'run_id, flow_id, flow_version, action_name, status, label, tags, output, run_error, created_by, run_owner, run_as, ' +
  'source, session_id, parent_run_id, root_run_id, detached, depth, monitors, managers, start_time, end_time, updated_at, ' +
  'timeout_ms, deadline, version, last_seq, ready_at, lease_owner, lease_expires_at, fencing_token, triggered_by, tree_id, state_slots';

/** Every column of a run record; also the column order of {@link newRunValues}. The trace context is read when a run is, not with every transition. */
export const RUN_COLUMNS = `${RECORDED_COLUMNS}, trace_context, input, state`;

/** Whether `changes` delete any slot (most transitions only put). */
export function deletesSlots(slots: SlotsArgument): boolean {
  return slots.r || slots.d.length > 0 || slots.p.length > 0;
}

/**
 * The statement (plpgsql or a CTE body) that upserts the slots of a changes argument `arg` (a
 * json expression) for run `runId` at version `version`: a slot put again keeps its row and its
 * `ord`, a new one is ordered after every other (its version's range). `bodies`, a json array
 * expression, holds the values when they travel apart from `arg`: a json operator that reads a
 * field of `arg` refuses the whole text if any string in it holds `\u0000` (a step output may),
 * while the values themselves are stored as json, never de-escaped.
 */
export function slotUpsertSql(runId: string, version: string, arg: string, bodies = `${arg}->'b'`): string {
  return `INSERT INTO run_state_slots (run_id, key, ord, body)
    SELECT ${runId}, k.key, ${version}::bigint * 1048576 + k.ord, k.body
    FROM ROWS FROM (json_array_elements_text(${arg}->'k'), json_array_elements(${bodies})) WITH ORDINALITY AS k(key, body, ord)
    ON CONFLICT (run_id, key) DO UPDATE SET body = EXCLUDED.body`;
}

/**
 * The statement that deletes the slots a changes argument `arg` deletes (every one for a whole
 * write, keys, key ranges) of run `runId`, sparing the keys it puts: those are upserted, and one
 * statement may not delete and upsert the same row.
 */
export function slotDeleteSql(runId: string, arg: string): string {
  return `DELETE FROM run_state_slots s WHERE s.run_id = ${runId}
    AND s.key <> ALL(ARRAY(SELECT json_array_elements_text(${arg}->'k')))
    AND ((${arg}->>'r')::boolean OR s.key IN (SELECT json_array_elements_text(${arg}->'d'))
      OR EXISTS (SELECT 1 FROM json_array_elements(${arg}->'p') AS kr(r) WHERE s.key >= kr.r->>0 AND s.key < kr.r->>1))`;
}

/** A read's column of the run's slots (`run_state_slots`), `[key, value]` pairs in the order first written, for the row `alias`. */
export function slotsColumn(alias: string): string {
  // A row holding its state whole has no slots to look for.
  return `(SELECT json_agg(json_build_array(s.key, s.body) ORDER BY s.ord) FROM run_state_slots s WHERE ${alias}.state_slots AND s.run_id = ${alias}.run_id) AS slots`;
}

/** A transition's state changes as SQL reads them (see {@link slotsArgument}). */
export interface SlotsArgument {
  r: boolean;
  d: string[];
  p: [string, string][];
  k: string[];
  b: unknown[];
}

/**
 * `changes` as the statements read them: `r` replace, `d` keys deleted, `p` key ranges deleted
 * (`[from, to)`), `k` and `b` the keys and values put.
 */
export function slotsArgument(changes: StateChanges): SlotsArgument {
  return {
    r: changes.replace,
    d: changes.delete,
    p: changes.deletePrefixes.map((prefix) => [prefix, prefixEnd(prefix)]),
    k: changes.put.map((slot) => slot.key),
    // A value JSON cannot hold (undefined) is stored as null, as JSON.stringify of its state would.
    b: changes.put.map((slot) => slot.value ?? null),
  };
}

/** A column list qualified with a table alias (`r.run_id, r.flow_id, …`). */
export function qualifiedRunColumns(alias: string): string {
  return RUN_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

/** Builds the record from a row read with its input, state and slots. */
export function runFromRow(row: RunRow): RunRecord {
  if (row.state === undefined) throw new Error(`run "${row.run_id}" was read without its state`);
  const run = recordedFromRow(row) as RunRecord;
  run.input = row.input;
  run.state = storedState(row.state, row.slots ?? []);
  if (row.trace_context) run.traceContext = row.trace_context;
  return run;
}

/**
 * The run as a transition hands it back (`RecordedRun`): no input, and `state` only when given
 * (the transition's own object, as the memory store hands back).
 */
export function recordedFromRow(row: RunRow, state?: RunState): RecordedRun {
  const run: RecordedRun = {
    runId: row.run_id,
    flowId: row.flow_id,
    flowVersion: row.flow_version,
    actionName: row.action_name,
    status: row.status,
    label: row.label,
    tags: row.tags,
    output: row.output,
    runError: row.run_error,
    createdBy: row.created_by,
    runOwner: row.run_owner,
    runAs: row.run_as,
    triggeredBy: row.triggered_by,
    source: row.source,
    sessionId: row.session_id,
    parentRunId: row.parent_run_id,
    rootRunId: row.root_run_id,
    treeId: row.tree_id ?? row.root_run_id,
    detached: row.detached,
    depth: row.depth,
    monitors: row.monitors,
    managers: row.managers,
    startTime: row.start_time,
    endTime: row.end_time,
    updatedAt: row.updated_at,
    timeoutMs: row.timeout_ms,
    deadline: row.deadline,
    version: row.version,
    lastSeq: row.last_seq,
    readyAt: row.ready_at,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    fencingToken: row.fencing_token,
  };
  if (state !== undefined) run.state = state;
  return run;
}

/**
 * The run of a row as a read answers it: {@link runFromRow}, or — when its json columns hold no
 * usable run (PostgreSQL checks JSON syntax, not shape) — the run with its plain columns and
 * `dataError` (unreadable-run.ts).
 */
export function readableRunFromRow(row: RunRow): RunRecord {
  const columns = { ...plainColumns(row), flowVersion: row.flow_version, actionName: row.action_name, createdBy: row.created_by, runOwner: row.run_owner };
  return readRunOrMark(columns, () => runFromRow(row));
}

/**
 * A value for a `json` parameter: its JSON text, or SQL NULL for `undefined` (which JSON cannot
 * hold; it reads back as null). Stringified here because the driver would send a bare string
 * as text, which is not valid JSON.
 */
export function jsonParam(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** SQL casts of the parameters of a new run, in {@link RUN_COLUMNS} order, so the INSERT types every value explicitly. */
const NEW_RUN_CASTS = [
  'text', 'text', 'integer', 'text', 'text', 'text', 'text[]', 'json', 'json', 'text', 'text', 'text',
  'text', 'text', 'text', 'text', 'boolean', 'integer', 'json', 'json', 'float8', 'float8', 'float8',
  'float8', 'float8', 'integer', 'integer', 'float8', 'text', 'float8', 'bigint', 'text', 'text', 'boolean', 'json', 'json', 'json',
];

/** The SQL casts of a new run's parameters, in {@link RUN_COLUMNS} order. */
export function newRunCasts(): readonly string[] {
  return NEW_RUN_CASTS;
}

/** `($1::text, $2::text, …)` for a new run whose first parameter is number `first`. */
export function newRunPlaceholders(first: number): string {
  return `(${NEW_RUN_CASTS.map((cast, i) => `$${first + i}::${cast}`).join(', ')})`;
}

/**
 * The values of a new run's row: version 0, output JSON null, no error, no end — exactly the
 * memory store's fresh record — with `lastSeq` events and, with a lease, fencing token 1; its
 * state whole when small (`slots` null), else its header and the slots to write with it (`slots`, whole).
 */
export function newRunValues(run: NewRun, options: { updatedAt: number; lastSeq: number; lease: { owner: string; expiresAt: number } | null }): { values: unknown[]; slots: StateChanges | null } {
  const write = newRunStateWrite(run.state);
  const slots = isInline(write) ? null : write;
  const values = [
    run.runId,
    run.flowId,
    run.flowVersion,
    run.actionName,
    run.status,
    run.label,
    run.tags,
    run.output === undefined ? 'null' : jsonParam(run.output),
    run.runError ? jsonParam(run.runError) : null,
    run.createdBy,
    run.runOwner,
    run.runAs,
    run.source,
    run.sessionId,
    run.parentRunId,
    run.rootRunId,
    run.detached,
    run.depth,
    jsonParam(run.monitors),
    jsonParam(run.managers),
    run.startTime,
    run.endTime ?? null,
    options.updatedAt,
    run.timeoutMs,
    run.deadline,
    0,
    options.lastSeq,
    run.readyAt,
    options.lease?.owner ?? null,
    options.lease?.expiresAt ?? null,
    options.lease ? 1 : 0,
    run.triggeredBy,
    run.treeId,
    slots !== null,
    run.traceContext ? jsonParam(run.traceContext) : null,
    // A large input sealed as JSON text (core/sealed-text.ts) is written as that text, not again.
    run.input === undefined ? null : (jsonOf(run.input) ?? null),
    jsonParam(stateColumn(write, run.state)),
  ];
  return { values, slots };
}

/** A `run_events` row. */
export interface EventRow {
  run_id: string;
  seq: number;
  time: number;
  body: RunEventBody;
}

/** The persisted event: its body with the run, sequence number and time added, like the memory store. */
export function eventFromRow(row: EventRow): RunEvent {
  return { ...row.body, runId: row.run_id, seq: row.seq, time: row.time } as RunEvent;
}

/**
 * The items of a transition, one per id in first-appearance order with the last state given,
 * which is what upserting them one by one into an ordered map gives.
 */
export function dedupeItems(items: Item[]): Item[] {
  const byId = new Map<string, Item>();
  for (const item of items) byId.set(item.id, item);
  return [...byId.values()];
}
