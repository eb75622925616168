/**
 * How a run record maps onto a `runs` row and back (the schema is in migrations.ts). The pool
 * parses `json` columns and `text[]`, and its int8 parser turns bigint into numbers, so a row
 * is plain data here; every read builds fresh objects, so no two callers share a reference.
 */
import type { RunErrorInfo } from '../../core/errors.js';
import type { Item, NewRun, PrincipalSet, RunEvent, RunEventBody, RunRecord, RunState, RunStatus } from '../../core/run.js';
import { plainColumns, readRunOrMark, type PlainRunRow } from '../unreadable-run.js';

/** A `runs` row as the pool returns it; `state` is absent when the query left it out. */
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
  detached: boolean;
  depth: number;
  monitors: PrincipalSet;
  managers: PrincipalSet;
  timeout_ms: number | null;
  deadline: number | null;
  state?: RunState;
}

/** Every column of a run record except `state` (the largest; a transition already holds it). */
export const RUN_COLUMNS_WITHOUT_STATE =
  'run_id, flow_id, flow_version, action_name, status, label, tags, input, output, run_error, created_by, run_owner, run_as, ' +
  'source, session_id, parent_run_id, root_run_id, detached, depth, monitors, managers, start_time, end_time, updated_at, ' +
  'timeout_ms, deadline, version, last_seq, ready_at, lease_owner, lease_expires_at, fencing_token, triggered_by, tree_id';

/** Every column of a run record; also the column order of {@link newRunValues}. */
export const RUN_COLUMNS = `${RUN_COLUMNS_WITHOUT_STATE}, state`;

/** A column list qualified with a table alias (`r.run_id, r.flow_id, …`). */
export function qualifiedRunColumns(alias: string): string {
  return RUN_COLUMNS.split(', ')
    .map((column) => `${alias}.${column}`)
    .join(', ');
}

/**
 * Builds the record from a row. `state`, when given, is used as it is (the transition's own
 * object, as the memory store hands back); otherwise the row must carry it.
 */
export function runFromRow(row: RunRow, state?: RunState): RunRecord {
  const runState = state ?? row.state;
  if (runState === undefined) throw new Error(`run "${row.run_id}" was read without its state`);
  return {
    runId: row.run_id,
    flowId: row.flow_id,
    flowVersion: row.flow_version,
    actionName: row.action_name,
    status: row.status,
    label: row.label,
    tags: row.tags,
    input: row.input,
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
    state: runState,
  };
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
  'text', 'text', 'integer', 'text', 'text', 'text', 'text[]', 'json', 'json', 'json', 'text', 'text', 'text',
  'text', 'text', 'text', 'text', 'boolean', 'integer', 'json', 'json', 'float8', 'float8', 'float8',
  'float8', 'float8', 'integer', 'integer', 'float8', 'text', 'float8', 'bigint', 'text', 'text', 'json',
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
 * memory store's fresh record — with `lastSeq` events and, with a lease, fencing token 1.
 */
export function newRunValues(run: NewRun, options: { updatedAt: number; lastSeq: number; lease: { owner: string; expiresAt: number } | null }): unknown[] {
  return [
    run.runId,
    run.flowId,
    run.flowVersion,
    run.actionName,
    run.status,
    run.label,
    run.tags,
    jsonParam(run.input),
    'null',
    null,
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
    null,
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
    jsonParam(run.state),
  ];
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
