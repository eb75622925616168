/**
 * What the SQL stores do with a run row whose data cannot be read — JSON that does not parse, a
 * value of the wrong shape (written by hand, by another program, or damaged on disk), or a value
 * nested deeper than anything flowrun walks. Such a run must not take down a listing page, and
 * its own read must fail with a code that says what happened.
 *
 * So a read never throws for it: the store returns the run with only what its row's plain
 * columns hold (id, flow, status, label, times, lineage) and `dataError` set; everything that
 * lived in its JSON (input, output, state, roles) is left empty. The engine then answers a read
 * of that run with RUN_DATA_UNREADABLE — after the usual visibility check, so a run the caller
 * may not see still answers RUN_NOT_FOUND — and a listing shows it to whoever may read it.
 */
import { findTooDeep, MAX_WALKED_DEPTH } from '../core/json-depth.js';
import type { RunRecord, RunState, RunStatus } from '../core/run.js';

/** The code of a run whose stored data cannot be read. */
export const RUN_DATA_UNREADABLE = 'RUN_DATA_UNREADABLE';

/** The fields of a run that its row holds in plain columns, readable whatever its JSON holds. */
export interface RunColumns {
  runId: string;
  flowId: string;
  status: RunStatus;
  label: string | null;
  startTime: number;
  endTime: number | null;
  parentRunId: string | null;
  rootRunId: string;
  updatedAt: number;
  version: number;
  lastSeq: number;
  readyAt: number | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  fencingToken: number;
  /** Known when the row keeps them in columns of their own (PostgreSQL); SQLite keeps them in its JSON. */
  flowVersion?: number;
  actionName?: string;
  createdBy?: string;
  runOwner?: string;
}

/** The plain columns every SQL store's run row has, under the same names. */
export interface PlainRunRow {
  run_id: string;
  flow_id: string;
  status: string;
  label: string | null;
  start_time: number;
  end_time: number | null;
  parent_run_id: string | null;
  root_run_id: string;
  updated_at: number;
  version: number;
  last_seq: number;
  ready_at: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  fencing_token: number;
}

/** The {@link RunColumns} of a row's plain columns. */
export function plainColumns(row: PlainRunRow): RunColumns {
  return {
    runId: row.run_id,
    flowId: row.flow_id,
    status: row.status as RunStatus,
    label: row.label,
    startTime: row.start_time,
    endTime: row.end_time,
    parentRunId: row.parent_run_id,
    rootRunId: row.root_run_id,
    updatedAt: row.updated_at,
    version: row.version,
    lastSeq: row.last_seq,
    readyAt: row.ready_at,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    fencingToken: row.fencing_token,
  };
}

/**
 * The run `build` makes from its row, or — when that throws (unparsable JSON) or the result is
 * not a run flowrun can use — the run with only its columns and `dataError` set. `columns` may be
 * a function: it is then called only for an unreadable row, so a readable one costs no second parse.
 */
export function readRunOrMark(columns: RunColumns | (() => RunColumns), build: () => RunRecord): RunRecord {
  const columnsNow = (): RunColumns => (typeof columns === 'function' ? columns() : columns);
  let run: RunRecord;
  try {
    run = build();
  } catch (error) {
    return unreadableRun(columnsNow(), `its stored data does not parse (${error instanceof Error ? error.message.slice(0, 200) : 'unknown error'})`);
  }
  const problem = shapeProblem(run);
  return problem === null ? run : unreadableRun(columnsNow(), problem);
}

/** The run with only its columns, its data left empty, and `dataError` saying why. */
export function unreadableRun(columns: RunColumns, reason: string): RunRecord {
  const state: RunState = { frames: [], vars: {}, outputs: {}, stepSeq: 0, stepLogs: false, historyCount: 0 };
  return {
    ...columns,
    flowVersion: columns.flowVersion ?? 0,
    actionName: columns.actionName ?? '',
    tags: [],
    input: null,
    output: null,
    runError: null,
    createdBy: columns.createdBy ?? '',
    runOwner: columns.runOwner ?? '',
    runAs: null,
    triggeredBy: null,
    treeId: columns.rootRunId,
    source: '',
    sessionId: null,
    detached: false,
    depth: 0,
    monitors: { users: [], groups: [] },
    managers: { users: [], groups: [] },
    timeoutMs: null,
    deadline: null,
    state,
    dataError: { code: RUN_DATA_UNREADABLE, message: `run "${columns.runId}" cannot be read: ${reason}` },
  };
}

/** Why a parsed run is not one flowrun can use, or null. Checks what reads, access checks and answers rely on. */
function shapeProblem(run: RunRecord): string | null {
  if (!isStringList(run.tags)) return 'its tags are not a list of strings';
  for (const role of ['monitors', 'managers'] as const) {
    const set = run[role] as unknown;
    if (!isObject(set) || !isStringList(set.users) || !isStringList(set.groups)) return `its ${role} are not {users, groups} lists`;
  }
  if (typeof run.createdBy !== 'string' || typeof run.runOwner !== 'string') return 'its owner is not a principal id';
  if (run.runError !== null && !(isObject(run.runError) && typeof run.runError.code === 'string')) return 'its error has no code';
  if (!isObject(run.state) || !Array.isArray(run.state.frames)) return 'its execution state has no frames';
  // What an answer serializes recursively (JSON.stringify) must not be deeper than anything flowrun walks.
  for (const field of ['input', 'output'] as const) {
    if (findTooDeep(run[field], MAX_WALKED_DEPTH) !== null) return `its ${field} is nested more than ${MAX_WALKED_DEPTH} levels deep`;
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
