/**
 * A run's input in `flowrun_run_inputs` (migration 12): written once, by the write that creates
 * the run, and read with the run — never by a transition. A transition's UPDATE then rewrites a
 * small `flowrun_runs` row: SQLite writes a whole row whenever any column changes, so an input kept
 * in the row (a 1 MiB document) was written again, overflow pages and all, on every transition.
 * A small input (`INPUT_IN_ROW_MAX_CHARS` of run-rows.ts) stays in the row's `input` column instead: it
 * costs a transition next to nothing and saves its start a table and an index.
 *
 * The first frame's item, the input itself in nearly every run, is not written twice either: its
 * slot refers to the input ({@link INPUT_SLOT_BODY}).
 *
 * Rows recorded before migration 12 had their input moved here by it; ended rows recorded before
 * schema 7 keep theirs in `fixed`, where run-rows.ts finds it.
 */
import { isInline, itemKey, type StateWrite } from '../../core/state-slots.js';
import { INPUT_SLOT_BODY, type RunRow } from './run-rows.js';
import type { SqliteConnection } from './sqlite-connection.js';

/**
 * Records the input of a run being created (`json`, null without one: no row; `inRow`: the run's
 * row holds it already, no row either) and returns the state slots left to write: the slot of the first frame's item, when that item is the input
 * itself (every run but one refused at its start), is written as {@link INPUT_SLOT_BODY} — a
 * reference to the input — rather than as the same document a second time. A small state written
 * whole in the run row ({@link isInline}) is returned as it is.
 */
export function writeRunInput(conn: SqliteConnection, run: { runId: string; input: unknown }, json: string | null, slots: StateWrite, inRow: boolean): StateWrite {
  if (json === null) return slots;
  if (!inRow) conn.run('INSERT INTO flowrun_run_inputs (run_id, input) VALUES (?, ?)', [run.runId, json]);
  if (isInline(slots)) return slots;
  const key = itemKey(0);
  const item = slots.put.find((slot) => slot.key === key);
  if (item === undefined || item.value !== run.input) return slots;
  // Its order among the slots does not matter: it is the only value of its frame's item.
  conn.run('INSERT INTO flowrun_run_slots (run_id, key, ord, body) VALUES (?, ?, -1, ?)', [run.runId, key, INPUT_SLOT_BODY]);
  return { ...slots, put: slots.put.filter((slot) => slot !== item) };
}

/** The row with its input (`row.input`), read from `flowrun_run_inputs` unless the row holds it. */
export function withRunInput(conn: SqliteConnection, row: RunRow): RunRow {
  if (row.input === null) row.input = conn.get<{ input: string }>('SELECT input FROM flowrun_run_inputs WHERE run_id = ?', [row.run_id])?.input ?? null;
  return row;
}

/** The rows with their inputs, read in one statement for the whole page (a listing), not one per row. */
export function withRunInputsOfRows(conn: SqliteConnection, rows: RunRow[]): RunRow[] {
  const missing = rows.filter((row) => row.input === null);
  if (missing.length === 0) return rows;
  const byRun = new Map<string, RunRow>(missing.map((row) => [row.run_id, row]));
  const found = conn.all<{ run_id: string; input: string }>('SELECT run_id, input FROM flowrun_run_inputs WHERE run_id IN (SELECT value FROM json_each(?))', [
    JSON.stringify([...byRun.keys()]),
  ]);
  for (const { run_id, input } of found) byRun.get(run_id)!.input = input;
  return rows;
}

/** Deletes a run's input (retention, with the rest of the run). */
export function deleteRunInput(conn: SqliteConnection, runId: string): void {
  conn.run('DELETE FROM flowrun_run_inputs WHERE run_id = ?', [runId]);
}
