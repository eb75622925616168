/**
 * `childCount` for listings (`GET /runs?childCounts=true`, the dashboard's run tree): how many
 * child runs of each listed run the caller may read. Every child is checked like a run of a
 * listing — a child the caller may not read is not counted — among the first
 * {@link CHILD_COUNT_UP_TO} children (oldest first): a run with more is flagged
 * `childCountIsEstimate` and its count is a lower bound, the rule `total` follows for listings.
 * A system administrator's count is the store's, read through the parent index without loading a run.
 */
import type { PrincipalRef } from '../core/engine/access/authorize.js';
import type { FlowApiEngine } from './router-context.js';

/**
 * Children checked per run; past it the count is a lower bound (flagged). Checking a child reads
 * its record: at 100 children per run a page of 50 cost a plain user ~150 ms of CPU on SQLite
 * (bench/run-tree-listing.ts --children 100), at 20 about a fifth of it; "20+" is all a tree needs.
 */
export const CHILD_COUNT_UP_TO = 20;

/** A run's child count as the API answers it. */
export interface ChildCount {
  childCount: number;
  childCountIsEstimate: boolean;
}

/** The child counts of these runs for `as`, in order. */
export async function childCountsOf(engine: FlowApiEngine, as: PrincipalRef, runIds: readonly string[]): Promise<ChildCount[]> {
  const { readsAll, mayRead } = await engine.access.readTest(as);
  return Promise.all(
    runIds.map(async (runId): Promise<ChildCount> => {
      if (readsAll) {
        const found = await engine.store.countRuns({ parentRunId: runId }, { max: CHILD_COUNT_UP_TO + 1 });
        return { childCount: Math.min(found, CHILD_COUNT_UP_TO), childCountIsEstimate: found > CHILD_COUNT_UP_TO };
      }
      const page = await engine.store.listRuns({ parentRunId: runId, orderBy: 'startTime', orderDir: 'asc', limit: CHILD_COUNT_UP_TO });
      const readable = await Promise.all(page.runs.map((child) => mayRead(child)));
      return { childCount: readable.filter(Boolean).length, childCountIsEstimate: page.hasNextPage };
    }),
  );
}
