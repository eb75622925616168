/**
 * Run trees in the PostgreSQL store: `run_trees(tree_id, run_count, canceled)` (migration 7)
 * counts the runs of each tree that created any and marks canceled ones. Creations count through
 * `flowrun_count_tree_runs`, called by the statement (or the batch function) that inserts the
 * runs: the upsert locks the tree's row until that transaction ends, so processes creating runs
 * in one tree at once count one after the other, and a refusal raises, which undoes the whole
 * statement — the count, the runs and the creator's transition alike.
 */
import type { FlowError } from '../../core/errors.js';
import type { RunTree } from '../../core/store.js';
import { treeCanceled, treeFull } from '../run-trees.js';
import type { Sql } from './run-writes.js';

/** SQLSTATE raised for a creation into a canceled tree (class FR: flowrun's own). */
const TREE_CANCELED_STATE = 'FR001';
/** SQLSTATE raised for a creation past `maxRunsPerTree`. */
const TREE_FULL_STATE = 'FR002';

/** The migration statements creating the table and the counting function. */
export const RUN_TREES_SQL: readonly string[] = [
  `CREATE TABLE run_trees (
    tree_id   text COLLATE "C" PRIMARY KEY,
    run_count integer NOT NULL,
    canceled  boolean NOT NULL DEFAULT false
  )`,
  // Counts p_created new runs in the tree (a tree without a row holds its root), or raises; a
  // null p_max counts without a bound.
  `CREATE FUNCTION flowrun_count_tree_runs(p_tree text, p_created integer, p_max double precision)
  RETURNS integer LANGUAGE plpgsql AS $fn$
  DECLARE
    found_count integer;
    found_canceled boolean;
  BEGIN
    INSERT INTO run_trees AS rt (tree_id, run_count, canceled) VALUES (p_tree, 1 + p_created, false)
    ON CONFLICT (tree_id) DO UPDATE SET run_count = rt.run_count + p_created
    RETURNING rt.run_count, rt.canceled INTO found_count, found_canceled;
    IF found_canceled THEN
      RAISE EXCEPTION 'run tree % was canceled', p_tree USING ERRCODE = '${TREE_CANCELED_STATE}', DETAIL = p_tree;
    END IF;
    IF p_max IS NOT NULL AND found_count > p_max THEN
      RAISE EXCEPTION 'run tree % is full', p_tree USING ERRCODE = '${TREE_FULL_STATE}',
        DETAIL = json_build_object('treeId', p_tree, 'max', p_max, 'value', found_count)::text;
    END IF;
    RETURN found_count;
  END
  $fn$`,
];

/** The flowrun error for a refusal raised by `flowrun_count_tree_runs`; null for any other error. */
export function treeErrorOf(error: unknown): FlowError | null {
  const { code, detail } = (error ?? {}) as { code?: unknown; detail?: unknown };
  if (typeof detail !== 'string') return null;
  if (code === TREE_CANCELED_STATE) return treeCanceled(detail);
  if (code !== TREE_FULL_STATE) return null;
  const { treeId, max, value } = JSON.parse(detail) as { treeId: string; max: number; value: number };
  return treeFull(treeId, max, value);
}

function treeFromRow(row: { tree_id: string; run_count: number; canceled: boolean }): RunTree {
  return { treeId: row.tree_id, runCount: row.run_count, canceled: row.canceled };
}

/** The tree's row, or null (a tree that only holds its root). */
export async function getRunTree(sql: Sql, treeId: string): Promise<RunTree | null> {
  const found = await sql.query<{ tree_id: string; run_count: number; canceled: boolean }>('SELECT tree_id, run_count, canceled FROM run_trees WHERE tree_id = $1::text', [treeId]);
  const row = found.rows[0];
  return row ? treeFromRow(row) : null;
}

/** Marks the tree canceled (`Store.markTreeCanceled`) in one statement; a tree without a row gets one holding its root. */
export async function markTreeCanceled(sql: Sql, treeId: string): Promise<RunTree> {
  const marked = await sql.query<{ tree_id: string; run_count: number; canceled: boolean }>(
    `INSERT INTO run_trees AS rt (tree_id, run_count, canceled) VALUES ($1::text, 1, true)
     ON CONFLICT (tree_id) DO UPDATE SET canceled = true RETURNING rt.tree_id, rt.run_count, rt.canceled`,
    [treeId],
  );
  return treeFromRow(marked.rows[0]!);
}
