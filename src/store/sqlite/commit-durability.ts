/**
 * Where a group commit's transactions become durable: inside COMMIT (synchronous=FULL, SQLite's
 * own fsync on the event loop), or after it (synchronous=NORMAL, then one fsync of the WAL in
 * libuv's thread pool covering every transaction committed since the last).
 * The policy of commit-sync-policy.ts chooses; this file keeps the order right.
 */
import { performance as nodePerformance } from 'node:perf_hooks';
import { CommitSyncPolicy } from './commit-sync-policy.js';
import type { SqliteConnection } from './sqlite-connection.js';

/**
 * How a connection's commits are made durable when COMMIT does not fsync them, for a
 * {@link CommitDurability}. The queue sets the connection's level before its first transaction.
 */
export interface OffLoopSync {
  /**
   * Flushes the WAL in libuv's thread pool (wal-sync.ts): resolves once every frame written before
   * the call is on disk; rejects when the disk reported an error.
   */
  sync(): Promise<void>;
  /**
   * Makes the connection's COMMIT fsync itself (synchronous=FULL) or only write the WAL
   * (synchronous=NORMAL, whose checkpoints still fsync the WAL before copying it and the database
   * before the WAL is written over). Called between transactions only (SQLite refuses it inside one).
   */
  setCommitSyncs(connection: SqliteConnection, commitSyncs: boolean): void;
  /** Decides per transaction (default a new {@link CommitSyncPolicy}); tests pass their own. */
  policy?: Pick<CommitSyncPolicy, 'chooseOffLoop' | 'noteInline' | 'noteOffLoop'>;
}

/**
 * Tracks the commits of one queue that are not durable yet and makes them so.
 *
 * Guarantees: after {@link noteDeferredCommit} and until the following {@link syncDeferred}
 * returned, {@link syncing} is a promise (reads of this connection wait on it, so they never see
 * a commit that a power cut could take back); {@link syncDeferred} returns only once every frame
 * of those commits is on disk, and throws when the disk reported an error, after which nothing
 * written since the last successful sync may be trusted.
 */
export class CommitDurability {
  readonly #sync: OffLoopSync;
  readonly #policy: Pick<CommitSyncPolicy, 'chooseOffLoop' | 'noteInline' | 'noteOffLoop'>;
  /** The connection whose level was last set, and whether its COMMIT fsyncs now. */
  #setting: { connection: SqliteConnection; commitSyncs: boolean } | null = null;
  /** Settled once the commits not yet durable are; null when every commit is. */
  #notDurable: { promise: Promise<void>; settle: () => void } | null = null;
  #offLoopSyncs = 0;

  constructor(sync: OffLoopSync) {
    this.#sync = sync;
    this.#policy = sync.policy ?? new CommitSyncPolicy();
  }

  /** Fsyncs made in the thread pool so far. */
  get offLoopSyncs(): number {
    return this.#offLoopSyncs;
  }

  /** While some commit is not durable yet, a promise that settles (never rejects) once it is; else null. */
  get syncing(): Promise<void> | null {
    return this.#notDurable?.promise ?? null;
  }

  /** Whether the next transaction's fsync should wait until after its COMMIT, off the loop. */
  chooseOffLoop(): boolean {
    return this.#policy.chooseOffLoop();
  }

  /** Sets the connection's level for the next transaction (between transactions only) when it is not that already. */
  prepare(connection: SqliteConnection, commitSyncs: boolean): void {
    if (this.#setting?.connection === connection && this.#setting.commitSyncs === commitSyncs) return;
    this.#sync.setCommitSyncs(connection, commitSyncs);
    this.#setting = { connection, commitSyncs };
  }

  /** Notes a COMMIT that fsynced itself and took `commitMs`. */
  noteInline(commitMs: number): void {
    this.#policy.noteInline(commitMs);
  }

  /** Notes a COMMIT made without fsync: it is visible to this connection and not durable yet. */
  noteDeferredCommit(): void {
    if (this.#notDurable) return;
    let settle!: () => void;
    const promise = new Promise<void>((resolve) => (settle = resolve));
    this.#notDurable = { promise, settle };
  }

  /** Makes every commit noted by {@link noteDeferredCommit} durable, in the thread pool. */
  async syncDeferred(): Promise<void> {
    try {
      this.#offLoopSyncs++;
      const startedAt = performance.now();
      const activeBefore = nodePerformance.eventLoopUtilization().active;
      await this.#sync.sync();
      this.#policy.noteOffLoop({ roundTripMs: performance.now() - startedAt, loopActiveMs: nodePerformance.eventLoopUtilization().active - activeBefore });
    } finally {
      const notDurable = this.#notDurable;
      this.#notDurable = null;
      notDurable?.settle();
    }
  }
}
