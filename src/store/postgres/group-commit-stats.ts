/**
 * The PostgreSQL store's group-commit counters, apart from the batcher so the store's public
 * declarations need no `pg` types.
 */

/** Counters of the store's transition batcher, for tests and metrics. */
export interface GroupCommitStats {
  /** Transactions committed by the group commit (each holds one or more transitions). */
  commits: number;
  /** Transitions that committed (including repeats recognised as already recorded). */
  transitions: number;
  /** Whole batches started again after a deadlock or serialization failure. */
  batchRetries: number;
}
