/**
 * `Store.createRuns` for a store that has no cheaper way to write many runs than one at a time
 * (memory): each run created by its own `createRun`, all at once, a taken id answered `'exists'`.
 */
import { ConflictError } from '../core/errors.js';
import type { NewRun, RunEventBody } from '../core/run.js';
import type { Store } from '../core/store.js';

/**
 * Creates `runs` through `store.createRun`, concurrently; rejects with the first failure other
 * than a taken id, once every creation settled.
 */
export async function createRunsOneByOne(store: Pick<Store, 'createRun'>, runs: { run: NewRun; events: RunEventBody[] }[]): Promise<('created' | 'exists')[]> {
  const settled = await Promise.allSettled(runs.map((entry) => createdOrExists(store.createRun(entry))));
  return settled.map((outcome) => {
    if (outcome.status === 'fulfilled') return outcome.value;
    throw outcome.reason;
  });
}

/** What `createRuns` answers for one creation: `'created'`, or `'exists'` when its id was taken (ConflictError CONFLICT); any other failure rejects. */
export function createdOrExists(creation: Promise<unknown>): Promise<'created' | 'exists'> {
  return creation.then(
    () => 'created' as const,
    (error: unknown) => {
      if (error instanceof ConflictError && error.code === 'CONFLICT') return 'exists' as const;
      throw error;
    },
  );
}
