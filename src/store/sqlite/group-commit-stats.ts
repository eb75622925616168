/**
 * The SQLite store's group-commit counters, apart from the queue so the store's public
 * declarations need no `better-sqlite3` types.
 */

/** Counters of the store's group-commit queue, for tests and metrics. */
export interface GroupCommitStats {
  /** Write transactions committed. */
  commits: number;
  /** Operations that committed (each inside one of those transactions). */
  operations: number;
  /** Transactions started again because another process held the write lock. */
  busyRetries: number;
  /** Transactions whose fsync ran off the event loop (the rest fsynced inside COMMIT). */
  offLoopSyncs: number;
  /**
   * The longest one transaction held the event loop, in milliseconds: from BEGIN until COMMIT
   * returned (its fsync included when it ran inside COMMIT).
   */
  longestTransactionMs: number;
  /** The longest the COMMIT statement alone held the event loop, in milliseconds (an fsync and any checkpoint inside it included). */
  longestCommitMs: number;
}
