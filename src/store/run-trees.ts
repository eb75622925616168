/**
 * The run-tree rule every store applies in the transaction that creates runs (PostgreSQL states
 * the same rule in SQL, flowrun_count_tree_runs): a canceled tree takes no new
 * run, and a tree holds at most `maxRunsPerTree` runs, its root included.
 */
import { CanceledError } from '../core/errors.js';
import { limitExceeded } from '../core/budgets.js';
import type { RunTree } from '../core/store.js';

/**
 * The tree's row after `created` more runs, or throws: CANCELED for a canceled tree,
 * LIMIT_EXCEEDED (`maxRunsPerTree`) past the budget. A tree without a row holds only its root.
 */
export function countTreeRuns(tree: RunTree | undefined, treeId: string, created: number, maxRunsPerTree: number | undefined): RunTree {
  const current = tree ?? { treeId, runCount: 1, canceled: false };
  if (current.canceled) throw treeCanceled(treeId);
  const runCount = current.runCount + created;
  if (maxRunsPerTree !== undefined && runCount > maxRunsPerTree) throw treeFull(treeId, maxRunsPerTree, runCount);
  return { ...current, runCount };
}

/** The refusal of a run created into a canceled tree. */
export function treeCanceled(treeId: string): CanceledError {
  return new CanceledError(`run tree ${treeId} was canceled; it starts no more runs`, { details: { treeId } });
}

/** The refusal of a run past the tree's budget. */
export function treeFull(treeId: string, max: number, value: number): ReturnType<typeof limitExceeded> {
  return limitExceeded('maxRunsPerTree', max, value, `run tree ${treeId} would hold ${value} runs`);
}
