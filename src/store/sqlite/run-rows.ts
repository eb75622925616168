/**
 * How a run record maps onto a `flowrun_runs` row and back (see migrations.ts for the schema).
 * Every read parses fresh objects from the stored JSON, so no two callers share a reference.
 */
import type { RunErrorInfo } from '../../core/errors.js';
import type { Item, NewRun, RunEvent, RunEventBody, RunRecord, RunState, RunStatus } from '../../core/run.js';
import type { RecordedRun } from '../../core/store.js';
import { isInline, newRunStateWrite, stateColumn, storedState, type StateWrite } from '../../core/state-slots.js';
import { jsonOf } from '../../core/sealed-text.js';
import { plainColumns, readRunOrMark, type PlainRunRow, type RunColumns } from '../unreadable-run.js';

/**
 * A `flowrun_runs` row as better-sqlite3 returns it, with the run's slots when it was read with
 * them (`flowrun_run_slots`, in the order they were first written).
 */
export interface RunRow extends PlainRunRow {
  last_transition_key: string | null;
  tags: string;
  output: string | null;
  run_error: string | null;
  /** The state's header (`state_slots` 1), or the whole state: a small one, or a row written before slots (schema 7). */
  state: string;
  /** 1 when `state` is a header and the slots hold the rest; 0 on rows written before slots. */
  state_slots: number;
  /**
   * The input as JSON: in the row itself when it is small ({@link INPUT_IN_ROW_MAX_CHARS}, rows
   * written by runs created since that bound; also rows from schemas 7–11), else read from
   * `flowrun_run_inputs` (run-inputs.ts) when the row is read with it; NULL in the row for a larger
   * input since schema 12 and on rows written before schema 7 (whose input is in `fixed`).
   */
  input: string | null;
  fixed: string;
  /** The event name the run waits for (migration 8); read by a transition's head only. */
  waiting_event?: string | null;
  slots?: SlotRow[];
}

/**
 * The body of a slot that holds the run's input itself (the first frame's item, run-inputs.ts):
 * not JSON, so no value a slot stores reads as it.
 */
export const INPUT_SLOT_BODY = '';

/** A `flowrun_run_slots` row as a read returns it. */
export interface SlotRow {
  key: string;
  body: string;
}

/** The run fields fixed at creation that no query reads, kept together as JSON (rows written before schema 7 hold the input here too). */
type FixedFields = Omit<NewRun, 'runId' | 'flowId' | 'status' | 'label' | 'tags' | 'startTime' | 'parentRunId' | 'rootRunId' | 'readyAt' | 'state' | 'input' | 'endTime' | 'output' | 'runError'>;

/**
 * The parameters of the `flowrun_runs` INSERT for a new run (version 0, no events yet), but for
 * `end_time`, `output` and `run_error`, which run-writes.ts sets on its copy (a run created already
 * ended has them).
 */
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
  /** The state's header; its slots are written with the row (see {@link newRunParams}). */
  state: string;
  state_slots: number;
  /** The input as JSON when it is small enough to live in the row, else NULL: it goes to `flowrun_run_inputs` (see {@link newRunParams}). */
  input: string | null;
  fixed: string;
}

/** The INSERT matching {@link NewRunParams}. */
export const INSERT_RUN_SQL = `INSERT INTO flowrun_runs
  (run_id, flow_id, status, label, start_time, end_time, parent_run_id, root_run_id, ready_at, lease_owner, lease_expires_at,
   fencing_token, version, last_seq, updated_at, last_transition_key, tags, output, run_error, state, state_slots, input, fixed)
  VALUES (@run_id, @flow_id, @status, @label, @start_time, @end_time, @parent_run_id, @root_run_id, @ready_at, @lease_owner, @lease_expires_at,
   @fencing_token, 0, @last_seq, @updated_at, NULL, @tags, @output, @run_error, @state, @state_slots, @input, @fixed)`;

/**
 * Largest input (JSON characters) kept in the run's own row rather than in `flowrun_run_inputs`.
 * A transition rewrites the whole row, so a large input stays out of it (migration 12); a small
 * one costs a transition nearly nothing more, and its start then writes one table and index fewer
 * (the inputs table is a rowid table with an index on its key: two b-trees, ~2 pages a commit).
 */
export const INPUT_IN_ROW_MAX_CHARS = 512;

/**
 * Splits a new run into its row, its state (whole in the row when small, else a header and every
 * slot) and its input as JSON (null without one): in the row when small ({@link INPUT_IN_ROW_MAX_CHARS},
 * `inRow`), else in its own row (run-inputs.ts). The output starts as JSON `null` and the error as
 * none, like the memory store.
 */
export function newRunParams(
  run: NewRun,
  options: { updatedAt: number; lastSeq: number; lease: { owner: string; expiresAt: number } | null },
): { params: NewRunParams; slots: StateWrite; input: string | null; inRow: boolean } {
  // Named, not rest-destructured: a rest copy of a record this size costs ~2 µs on Node 20, and
  // storedFixed below picks the fixed fields from the run itself.
  const { runId, flowId, status, label, tags, startTime, parentRunId, rootRunId, readyAt, state, input } = run;
  const slots = newRunStateWrite(state);
  // A large input sealed as JSON text (core/sealed-text.ts) is written as that text, not again.
  const inputJson = input === undefined ? null : (jsonOf(input) ?? null);
  const inRow = inputJson !== null && inputJson.length <= INPUT_IN_ROW_MAX_CHARS;
  const params: NewRunParams = {
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
    state: JSON.stringify(stateColumn(slots, state)),
    state_slots: isInline(slots) ? 0 : 1,
    input: inRow ? inputJson : null,
    fixed: JSON.stringify(storedFixed(run, rootRunId)),
  };
  return { params, slots, input: inputJson, inRow };
}

/**
 * The fields of `fixed` a row stores: those at their usual value for a run started by hand (no
 * runAs, trigger or session, not detached, depth 0, no monitors or managers, no timeout or
 * deadline, its own tree when it is a root) are left out, and {@link recordedFromRow} puts them
 * back. Half the JSON of a typical run, written with its row and again with every transition.
 */
function storedFixed(run: NewRun, rootRunId: string): Record<string, unknown> {
  const stored: Record<string, unknown> = {};
  for (const key in run) {
    if (COLUMNS.has(key)) continue;
    const value = (run as unknown as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const usual = key in USUAL_FIXED ? (value === null || value === USUAL_FIXED[key]) : key === 'treeId' ? value === rootRunId : (key === 'monitors' || key === 'managers') && isNoOne(value);
    if (!usual) stored[key] = value;
  }
  return stored;
}

/** The fields of a new run that have columns of their own (or a table: the input), not kept in `fixed`. */
const COLUMNS: ReadonlySet<string> = new Set(['runId', 'flowId', 'status', 'label', 'tags', 'startTime', 'endTime', 'parentRunId', 'rootRunId', 'readyAt', 'state', 'input', 'output', 'runError'] satisfies (keyof NewRun & keyof Omit<NewRun, keyof FixedFields>)[]);

/** The usual value of each scalar field {@link storedFixed} may leave out (null for the nullable ones, which null also leaves out). */
const USUAL_FIXED: Record<string, unknown> = { runAs: null, triggeredBy: null, sessionId: null, detached: false, depth: 0, timeoutMs: null, deadline: null };

function isNoOne(value: unknown): boolean {
  const set = value as { users?: unknown; groups?: unknown } | null;
  return set !== null && typeof set === 'object' && Array.isArray(set.users) && set.users.length === 0 && Array.isArray(set.groups) && set.groups.length === 0 && Object.keys(set).length === 2;
}

/**
 * A record's fields fixed at creation, in the order rows have always stored them, with the values
 * {@link storedFixed} leaves out; the stored ones are laid over it (`createdBy` and the other
 * always-stored fields start undefined, so a row missing one still reads as unusable). Every
 * record then has the same fields in the same order whatever its row left out.
 */
function fixedTemplate(): Record<string, unknown> {
  return {
    flowVersion: undefined,
    actionName: undefined,
    createdBy: undefined,
    runOwner: undefined,
    runAs: null,
    triggeredBy: null,
    source: undefined,
    sessionId: null,
    treeId: undefined,
    detached: false,
    depth: 0,
    monitors: undefined,
    managers: undefined,
    timeoutMs: null,
    deadline: null,
  };
}

/**
 * Rebuilds a run record from its row, read with its slots (a row written before slots holds its
 * whole state). An SQL NULL output is `undefined`: a patch may set that.
 */
export function runFromRow(row: RunRow): RunRecord {
  const run = recordedFromRow(row) as RunRecord;
  // Rows written before schema 7 keep the input in `fixed`, where the parse above found it.
  if (row.input !== null) run.input = JSON.parse(row.input) as unknown;
  const slot = (body: string): unknown => (body === INPUT_SLOT_BODY ? run.input : JSON.parse(body));
  run.state = storedState(JSON.parse(row.state), (row.slots ?? []).map(({ key, body }) => [key, slot(body)] as const));
  return run;
}

/**
 * The run of a row as a transition records it (`RecordedRun`): every field but the input and
 * the state, which it neither reads nor parses; `state` is the transition's own object if given.
 * `fixed`: `row.fixed` already parsed (a kept head, transition-heads.ts), copied instead of parsed
 * again — the copy is shallow, so records of one run share the objects fixed at its creation
 * (monitors, managers), which nothing writes.
 */
export function recordedFromRow(row: RunRow, state?: RunState, fixed?: Record<string, unknown>): RecordedRun {
  // Assigned onto a copy made with Object.assign rather than spread into a literal with the
  // fields: on Node 20 that form is ~10x slower, and this runs once per transition; adding the
  // fields to a `{...fixed}` copy costs ~50x more (its hidden class is a clone's, which V8 does
  // not extend along the cached transitions). The template gives every record one shape.
  const stored = fixed ?? (JSON.parse(row.fixed) as unknown);
  // A row whose `fixed` is not an object is unreadable (readRunOrMark marks it).
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) throw new TypeError('its fixed fields are not an object');
  const run = Object.assign(fixedTemplate(), stored) as RecordedRun;
  run.monitors ??= { users: [], groups: [] };
  run.managers ??= { users: [], groups: [] };
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
  if (state !== undefined) run.state = state;
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
