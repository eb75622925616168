/**
 * How a run record maps onto a `flowrun_runs` row and back (see migrations.ts for the schema).
 * Every read parses fresh objects from the stored JSON, so no two callers share a reference.
 */
import type { RunErrorInfo } from '../../core/errors.js';
import type { Item, NewRun, RunEvent, RunEventBody, RunRecord, RunState, RunStatus } from '../../core/run.js';
import { plainColumns, readRunOrMark, type PlainRunRow, type RunColumns } from '../unreadable-run.js';

/** A `flowrun_runs` row as better-sqlite3 returns it. */
export interface RunRow extends PlainRunRow {
  last_transition_key: string | null;
  tags: string;
  output: string | null;
  run_error: string | null;
  state: string;
  fixed: string;
}

/** The run fields fixed at creation that no query reads, kept together as JSON. */
type FixedFields = Omit<NewRun, 'runId' | 'flowId' | 'status' | 'label' | 'tags' | 'startTime' | 'parentRunId' | 'rootRunId' | 'readyAt' | 'state'>;

/** The parameters of the `flowrun_runs` INSERT for a new run (version 0, no events yet). */
export interface NewRunParams {
  run_id: string;
  flow_id: string;
  status: string;
  label: string | null;
  start_time: number;
  parent_run_id: string | null;
  root_run_id: string;
  ready_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  fencing_token: number;
  last_seq: number;
  updated_at: number;
  tags: string;
  state: string;
  fixed: string;
}

/** The INSERT matching {@link NewRunParams}. */
export const INSERT_RUN_SQL = `INSERT INTO flowrun_runs
  (run_id, flow_id, status, label, start_time, end_time, parent_run_id, root_run_id, ready_at, lease_owner, lease_expires_at,
   fencing_token, version, last_seq, updated_at, last_transition_key, tags, output, run_error, state, fixed)
  VALUES (@run_id, @flow_id, @status, @label, @start_time, NULL, @parent_run_id, @root_run_id, @ready_at, @lease_owner, @lease_expires_at,
   @fencing_token, 0, @last_seq, @updated_at, NULL, @tags, 'null', NULL, @state, @fixed)`;

/** Splits a new run into its row; the output starts as JSON `null` and the error as none, like the memory store. */
export function newRunParams(run: NewRun, options: { updatedAt: number; lastSeq: number; lease: { owner: string; expiresAt: number } | null }): NewRunParams {
  const { runId, flowId, status, label, tags, startTime, parentRunId, rootRunId, readyAt, state, ...fixed } = run;
  return {
    run_id: runId,
    flow_id: flowId,
    status,
    label,
    start_time: startTime,
    parent_run_id: parentRunId,
    root_run_id: rootRunId,
    ready_at: readyAt,
    lease_owner: options.lease?.owner ?? null,
    lease_expires_at: options.lease?.expiresAt ?? null,
    fencing_token: options.lease ? 1 : 0,
    last_seq: options.lastSeq,
    updated_at: options.updatedAt,
    tags: JSON.stringify(tags),
    state: JSON.stringify(state),
    fixed: JSON.stringify(fixed satisfies FixedFields),
  };
}

/** Rebuilds a run record from its row. An SQL NULL output is `undefined`: a patch may set that. */
export function runFromRow(row: RunRow, state?: RunState): RunRecord {
  // Assigned onto the parsed object rather than spread into a literal: on Node 20 the spread
  // form is ~10x slower, and this runs once per transition.
  const run = JSON.parse(row.fixed) as RunRecord;
  run.runId = row.run_id;
  run.flowId = row.flow_id;
  run.status = row.status as RunStatus;
  run.label = row.label;
  run.tags = JSON.parse(row.tags) as string[];
  run.output = row.output === null ? undefined : (JSON.parse(row.output) as unknown);
  run.runError = row.run_error === null ? null : (JSON.parse(row.run_error) as RunErrorInfo);
  run.startTime = row.start_time;
  run.endTime = row.end_time;
  run.parentRunId = row.parent_run_id;
  run.rootRunId = row.root_run_id;
  // Rows written before run trees (schema 6) have no treeId: each was the root of its own.
  run.treeId ??= row.root_run_id;
  run.readyAt = row.ready_at;
  run.leaseOwner = row.lease_owner;
  run.leaseExpiresAt = row.lease_expires_at;
  run.fencingToken = row.fencing_token;
  run.version = row.version;
  run.lastSeq = row.last_seq;
  run.updatedAt = row.updated_at;
  // A transition's own state object is used as it is (as the memory store hands it back): no parse.
  run.state = state ?? (JSON.parse(row.state) as RunState);
  run.triggeredBy ??= null; // rows written before the field existed
  return run;
}

/**
 * The run of a row as a read answers it: {@link runFromRow}, or — when the row's JSON does not
 * parse or holds no usable run — the run with its plain columns and `dataError` (unreadable-run.ts).
 */
export function readableRunFromRow(row: RunRow): RunRecord {
  // The owner fields parse `fixed` again: only worth it for a row that turns out unreadable.
  return readRunOrMark(() => columnsOf(row), () => runFromRow(row));
}

function columnsOf(row: RunRow): RunColumns {
  return { ...ownerFields(row.fixed), ...plainColumns(row) };
}

/** Who owns the run and what it runs, when its `fixed` JSON still parses (the damage may be elsewhere): its owner can then still read that it is damaged. */
function ownerFields(fixed: string): Pick<RunColumns, 'flowVersion' | 'actionName' | 'createdBy' | 'runOwner'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fixed);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const { flowVersion, actionName, createdBy, runOwner } = parsed as Record<string, unknown>;
  return {
    ...(typeof flowVersion === 'number' ? { flowVersion } : {}),
    ...(typeof actionName === 'string' ? { actionName } : {}),
    ...(typeof createdBy === 'string' ? { createdBy } : {}),
    ...(typeof runOwner === 'string' ? { runOwner } : {}),
  };
}

/** JSON text for a value that may be `undefined` (stored as SQL NULL). */
export function jsonOrNull(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

/** A `flowrun_run_events` row. */
export interface EventRow {
  run_id: string;
  seq: number;
  time: number;
  body: string;
}

/** Rebuilds a persisted event: its body with the run, sequence number and time laid over it. */
export function eventFromRow(row: EventRow): RunEvent {
  const body = JSON.parse(row.body) as RunEventBody;
  return { ...body, runId: row.run_id, seq: row.seq, time: row.time };
}

/** Parses a stored item. */
export function itemFromBody(body: string): Item {
  return JSON.parse(body) as Item;
}
