/**
 * Run trees in the SQLite store: `flowrun_run_trees` (migration 6) counts the runs of each tree
 * that created any and marks canceled ones. Each function runs inside the savepoint of the write
 * that calls it, so a refused creation (a throw) leaves the count, and everything else, as it was.
 */
import type { RunTree } from '../../core/store.js';
import { countTreeRuns as nextTree } from '../run-trees.js';
import type { SqliteConnection } from './sqlite-connection.js';

interface TreeRow {
  tree_id: string;
  run_count: number;
  canceled: number;
}

function treeFromRow(row: TreeRow): RunTree {
  return { treeId: row.tree_id, runCount: row.run_count, canceled: row.canceled === 1 };
}

/** The tree's row, or null (a tree that only holds its root). */
export function getRunTree(conn: SqliteConnection, treeId: string): RunTree | null {
  const row = conn.get<TreeRow>('SELECT tree_id, run_count, canceled FROM flowrun_run_trees WHERE tree_id = ?', [treeId]);
  return row ? treeFromRow(row) : null;
}

/**
 * Counts `created` new runs in the tree, or throws CANCELED / LIMIT_EXCEEDED (store/run-trees.ts)
 * having written nothing. The write lock of the enclosing transaction makes the read and the
 * write one step for every process sharing the file.
 */
export function countTreeRuns(conn: SqliteConnection, treeId: string, created: number, maxRunsPerTree: number | undefined): void {
  const tree = nextTree(getRunTree(conn, treeId) ?? undefined, treeId, created, maxRunsPerTree);
  conn.run(
    'INSERT INTO flowrun_run_trees (tree_id, run_count, canceled) VALUES (?, ?, 0) ON CONFLICT (tree_id) DO UPDATE SET run_count = excluded.run_count',
    [treeId, tree.runCount],
  );
}

/** Marks the tree canceled (`Store.markTreeCanceled`); a tree without a row gets one holding its root. */
export function markTreeCanceled(conn: SqliteConnection, input: { treeId: string; at: number }): RunTree {
  conn.run('INSERT INTO flowrun_run_trees (tree_id, run_count, canceled) VALUES (?, 1, 1) ON CONFLICT (tree_id) DO UPDATE SET canceled = 1', [input.treeId]);
  return getRunTree(conn, input.treeId)!;
}
