/**
 * `Store.createRuns` for a store whose `createRun` already groups concurrent creations into few
 * writes (PostgreSQL's transition batcher) or has none to save (memory): each run created by its
 * own `createRun`, all at once, a taken id answered `'exists'`.
 */
import { ConflictError } from '../core/errors.js';
import type { NewRun, RunEventBody } from '../core/run.js';
import type { Store } from '../core/store.js';

/**
 * Creates `runs` through `store.createRun` (or `create`, when the store has a cheaper way to write
 * one that answers nothing back), concurrently; rejects with the first failure other than a taken
 * id, once every creation settled.
 */
export async function createRunsOneByOne(
  store: Pick<Store, 'createRun'>,
  runs: { run: NewRun; events: RunEventBody[] }[],
  create: (entry: { run: NewRun; events: RunEventBody[] }) => Promise<unknown> = (entry) => store.createRun(entry),
): Promise<('created' | 'exists')[]> {
  const settled = await Promise.allSettled(runs.map(create));
  return settled.map((outcome) => {
    if (outcome.status === 'fulfilled') return 'created';
    if (outcome.reason instanceof ConflictError && outcome.reason.code === 'CONFLICT') return 'exists';
    throw outcome.reason;
  });
}
