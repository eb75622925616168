/**
 * Group commit for SQLite: write operations that arrive in the same turn of the event loop are
 * applied in ONE `BEGIN IMMEDIATE … COMMIT`, each inside its own SAVEPOINT. A durable commit
 * costs an fsync (~0.1 ms, so ~10k commits/s); sharing it lets many concurrently executing runs
 * checkpoint their transitions at the rate SQLite writes rows instead. With an `offLoopSync` the
 * fsync may leave the event loop (commit-sync-policy.ts decides when): COMMIT then hands the WAL
 * frames to the OS and the fsync runs in libuv's thread pool while requests are served; the batch
 * settles after it.
 */
import { setImmediate, setTimeout } from 'node:timers';
import { FlowError } from '../../core/errors.js';
import type { CommitObservers } from '../../core/commit-observer.js';
import { CommitDurability, type OffLoopSync } from './commit-durability.js';
import type { SqliteConnection } from './sqlite-connection.js';
import type { GroupCommitStats } from './group-commit-stats.js';
export type { GroupCommitStats } from './group-commit-stats.js';


/** Options of a {@link GroupCommitQueue}. */
export interface GroupCommitQueueOptions {
  /** Opens the database on first use; a rejection fails the waiting operations. */
  connection: () => Promise<SqliteConnection>;
  /** The file, named in errors. */
  path: string;
  /** Most operations in one transaction; more wait for the next one. */
  maxBatch: number;
  /**
   * Once the operations applied in one transaction took this long (and were at least
   * {@link minBatch}), it commits with them and the rest wait for the next one, after the event
   * loop had a turn (default 4): a burst of writes (a fork bomb's runs) holds the loop, and the
   * requests waiting on it, for little longer than that.
   */
  maxBatchMs?: number;
  /**
   * Operations a transaction takes whatever they cost (default 64, what 64 runs executing at once
   * write per step): the commit's fsync stays shared by that many, so {@link maxBatchMs} does not
   * cut the throughput of many concurrent runs on a slow or busy machine.
   */
  minBatch?: number;
  /** Milliseconds for {@link maxBatchMs} (default `performance.now`); tests pass their own. */
  now?: () => number;
  /** Times a batch is retried after SQLITE_BUSY (on top of SQLite's own busy_timeout wait). */
  busyRetries: number;
  /** First backoff before a retry; doubles each time. */
  busyBackoffMs: number;
  /**
   * Lets a transaction's fsync run off the event loop when its policy says so: a batch then settles
   * only once the sync that started after its COMMIT resolved, and the next transaction begins only
   * after that too, so a reader of this connection never sees a commit that is not yet durable
   * (see {@link GroupCommitQueue.syncing}). A rejection fails the batch and every later write: after
   * a failed fsync the OS may have dropped the pages, and a later fsync that succeeds would not
   * bring them back.
   */
  offLoopSync?: OffLoopSync;
  /** Told when each transaction begins and ends (tracing, metrics). */
  observers?: CommitObservers;
  /** Called after every COMMIT that succeeded, before its writes settle (wal-checkpointer.ts). */
  committed?: () => void;
}

/** How one transaction is run: whether its COMMIT fsyncs, and whether it holds only light lanes' writes. */
interface TransactionMode {
  commitSyncs: boolean;
  isLight: boolean;
}

/** A write applied inside the shared transaction; it must be synchronous and touch only the database. */
export type WriteOperation<T> = (connection: SqliteConnection) => T;

interface Pending {
  apply: WriteOperation<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  lane: string;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/** See {@link GroupCommitQueueOptions.maxBatchMs}. */
const DEFAULT_MAX_BATCH_MS = 4;
/** See {@link GroupCommitQueueOptions.minBatch}. */
const DEFAULT_MIN_BATCH = 64;
/**
 * A batch of at least this many writes (many runs writing at once) has its fsync in the thread
 * pool whatever the policy says: the pool's hop (~0.1 ms) is shared by that many writes, and
 * the loop is free for whatever else they wait on.
 */
const OFF_LOOP_MIN_OPS = 16;

/**
 * A lane with at most this many writes waiting, none of them known to be costly, is *light*: when
 * another lane has a backlog (more than {@link BACKLOG_OPS} waiting), the light lanes' writes commit
 * first, in a transaction of their own. Why: a write that waits in a transaction with a backlog
 * settles only once the whole transaction (`minBatch` writes whatever they cost) and its fsync
 * did; a user's run writing twice (created, ended) waited for two of a fork bomb's transactions.
 * Now it waits for one small transaction and its fsync: the price is one more fsync while both wait.
 * A light transaction is never followed by another, so the backlog commits at least every other time.
 */
const LIGHT_LANE_OPS = 2;
/** See {@link LIGHT_LANE_OPS}. */
const BACKLOG_OPS = 16;
/**
 * A write that took longer than this to apply (milliseconds, e.g. a value of hundreds of KiB)
 * makes its lane *costly* until one of its writes is quick again: such a lane's writes never join
 * the light transaction, so a small write is never held by a large one's apply and fsync there.
 */
const COSTLY_WRITE_MS = 1;
/** Most lanes remembered as costly; the oldest are forgotten first (they are only left out of light transactions). */
const MAX_COSTLY_LANES = 1024;

/**
 * SQLite result codes after which the transaction as a whole is gone or must not be trusted;
 * anything else (a constraint, a value too big, our own validation) fails only its operation.
 */
const FATAL_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|NOMEM|CORRUPT|NOTADB|READONLY|CANTOPEN|PROTOCOL|INTERRUPT|ABORT|PERM)/;

/**
 * Queues write operations and commits them in shared transactions.
 *
 * Guarantees: operations of one lane are applied in queue order (lanes take turns, see
 * {@link enqueue}); an operation's promise settles only after the COMMIT that contains it returned
 * and, when its fsync ran off the loop, after that fsync (so with synchronous=FULL a resolved write
 * survives power loss either way); an operation that throws
 * rolls back to its own savepoint and rejects alone; if the transaction itself fails (I/O error,
 * disk full) every operation of the batch rejects and nothing of it is visible. SQLITE_BUSY
 * (another process holds the write lock past busy_timeout) retries the whole batch with
 * exponential backoff up to `busyRetries` times, then rejects it with STORE_ERROR; operations
 * are re-applied from scratch on a retry, so they must be pure functions of the database.
 */
export class GroupCommitQueue {
  readonly #options: GroupCommitQueueOptions;
  #pending: Pending[] = [];
  #draining: Promise<void> | null = null;
  /** Settles once the operation queued last and every earlier one have. */
  #tail: Promise<void> = Promise.resolve();
  readonly #stats: GroupCommitStats = { commits: 0, operations: 0, busyRetries: 0, offLoopSyncs: 0, longestTransactionMs: 0, longestCommitMs: 0 };
  readonly #durability: CommitDurability | null;
  /** How long the last COMMIT statement took, in milliseconds. */
  #lastCommitMs = 0;
  /** Set once a sync failed: every write from then on fails with it. */
  #failure: FlowError | null = null;
  /** Lanes whose last write was costly (see {@link COSTLY_WRITE_MS}), oldest first. */
  readonly #costlyLanes = new Set<string>();
  /** The last transaction held light lanes' writes only: the next one takes the backlog's turn. */
  #lastWasLight = false;

  constructor(options: GroupCommitQueueOptions) {
    this.#options = options;
    this.#durability = options.offLoopSync ? new CommitDurability(options.offLoopSync) : null;
  }

  /** A snapshot of the counters. */
  get stats(): GroupCommitStats {
    return { ...this.#stats, offLoopSyncs: this.#durability?.offLoopSyncs ?? 0 };
  }

  /**
   * Queues one write; resolves with its result once its transaction committed. Writes of one
   * `lane` (a run tree) commit in the order they were queued; when several lanes wait, a
   * transaction takes their writes in turns, so a tree writing in bursts (a fork bomb) delays
   * another's next write by a few of its own, not by its whole backlog; while a lane has a
   * backlog, the writes of lanes with one or two waiting (a user's run) commit first, in a
   * transaction of their own (see {@link LIGHT_LANE_OPS}).
   */
  enqueue<T>(apply: WriteOperation<T>, options: { lane?: string } = {}): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    const result = new Promise<T>((resolve, reject) => {
      this.#pending.push({ apply, resolve: resolve as (value: unknown) => void, reject, lane: options.lane ?? '' });
      // setImmediate runs after this turn's I/O callbacks and microtasks, so every run that
      // writes in this turn joins the same transaction. node:timers' own setImmediate is used
      // so a test that fakes the global timers cannot stall the store.
      this.#draining ??= new Promise<void>((wake) => setImmediate(wake)).then(() => this.#drain());
    });
    // Lanes may commit out of queue order, so the tail waits for this write and every earlier one.
    const earlier = this.#tail;
    this.#tail = result.then(
      () => earlier,
      () => earlier,
    );
    return result;
  }

  /**
   * Resolves once every operation queued before this call has settled (at once when none is
   * pending). Reads wait on it so a store reads its own writes in call order, as the memory
   * store does, without waiting for writes queued after the read.
   */
  async afterQueuedWrites(): Promise<void> {
    if (this.#draining) await this.#tail;
  }

  /**
   * While a commit of this connection is not durable yet (its fsync runs off the loop), a promise
   * that settles (never rejects) once it is; else null. A read that does not wait for queued writes waits for this, so what it sees of
   * this connection is durable.
   */
  get syncing(): Promise<void> | null {
    return this.#durability?.syncing ?? null;
  }

  /** Resolves when every queued operation has settled. */
  async whenIdle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      for (;;) {
        // Never two light transactions in a row: lanes that always have a write or two waiting
        // (many small runs) must not starve a lane with a backlog.
        const light = this.#lastWasLight ? null : this.#lightFirst();
        const committed = await this.#commit(light ?? this.#takeBatch(), light !== null);
        this.#lastWasLight = light !== null && committed > 0;
        if (this.#pending.length === 0) break;
        // The next batch after a turn of the event loop: I/O (requests) and timers go first, and
        // whatever the settled operations' callers write meanwhile joins it.
        await new Promise<void>((wake) => setImmediate(wake));
      }
    } finally {
      // Cleared in the same synchronous step that saw the queue empty, so an operation queued
      // from now on schedules a new drain instead of waiting on this finished one.
      this.#draining = null;
    }
  }

  /**
   * The next transaction's writes: the first `maxBatch` in queue order, or, when several lanes wait
   * and the transaction may not take them all (past `minBatch`), in turns.
   */
  #takeBatch(): Pending[] {
    const max = this.#options.maxBatch;
    const firstLane = this.#pending[0]?.lane;
    if (this.#pending.length <= Math.min(max, this.#options.minBatch ?? DEFAULT_MIN_BATCH) || this.#pending.every((op) => op.lane === firstLane)) {
      return this.#pending.splice(0, max);
    }
    const lanes = new Map<string, Pending[]>();
    for (const op of this.#pending) {
      const lane = lanes.get(op.lane);
      if (lane) lane.push(op);
      else lanes.set(op.lane, [op]);
    }
    const batch: Pending[] = [];
    for (let turn = 0; batch.length < max; turn++) {
      const before = batch.length;
      for (const lane of lanes.values()) if (turn < lane.length && batch.length < max) batch.push(lane[turn]!);
      if (batch.length === before) break;
    }
    const taken = new Set(batch);
    this.#pending = this.#pending.filter((op) => !taken.has(op));
    return batch;
  }

  /**
   * The writes of light lanes, when another lane has a backlog (see {@link LIGHT_LANE_OPS}), each
   * lane's in its order; null when there are none or no lane has a backlog.
   */
  #lightFirst(): Pending[] | null {
    if (this.#pending.length <= BACKLOG_OPS) return null;
    const counts = new Map<string, number>();
    for (const op of this.#pending) counts.set(op.lane, (counts.get(op.lane) ?? 0) + 1);
    let hasBacklog = false;
    for (const count of counts.values()) if (count > BACKLOG_OPS) hasBacklog = true;
    if (!hasBacklog) return null;
    const isLight = (lane: string): boolean => counts.get(lane)! <= LIGHT_LANE_OPS && !this.#costlyLanes.has(lane);
    const light = this.#pending.filter((op) => isLight(op.lane)).slice(0, this.#options.maxBatch);
    if (light.length === 0) return null;
    const taken = new Set(light);
    this.#pending = this.#pending.filter((op) => !taken.has(op));
    return light;
  }

  /** Notes how long a write of `lane` took to apply: a costly one marks its lane, a quick one clears it. */
  #noteApplied(lane: string, ms: number): void {
    if (ms <= COSTLY_WRITE_MS) {
      this.#costlyLanes.delete(lane);
      return;
    }
    this.#costlyLanes.delete(lane);
    if (this.#costlyLanes.size >= MAX_COSTLY_LANES) this.#costlyLanes.delete(this.#costlyLanes.values().next().value!);
    this.#costlyLanes.add(lane);
  }

  /**
   * Commits `batch` in one transaction (or its prefix, when cut short by `maxBatchMs`: the rest go
   * first in the next one, each lane in its order), makes it durable and settles it: its fsync
   * inside COMMIT, or after it in the thread pool for a batch of {@link OFF_LOOP_MIN_OPS} or more
   * or when the policy says so (commit-sync-policy.ts).
   */
  async #commit(batch: Pending[], isLight: boolean): Promise<number> {
    const ended = this.#options.observers?.started('sqlite', batch.length);
    if (!ended) return this.#commitBatch(batch, isLight);
    return this.#commitBatch(batch, isLight).then((n) => (ended(), n), (error: unknown) => (ended(error), Promise.reject(error)));
  }

  /** Returns how many of the batch's writes the transaction took (0 when it failed or took none). */
  async #commitBatch(batch: Pending[], isLight: boolean): Promise<number> {
    const durability = this.#durability;
    const isDeferred = durability !== null && (batch.length >= OFF_LOOP_MIN_OPS || durability.chooseOffLoop());
    const done = await this.#transaction(batch, { commitSyncs: !isDeferred, isLight });
    if (!done) return 0;
    if (done.rest.length > 0) this.#pending.unshift(...done.rest);
    const held = done.committed;
    // A light transaction whose only write was undone committed nothing; made without its fsync,
    // it still goes through the sync below, which ends the `syncing` its COMMIT began.
    if (held.length === 0 && !isDeferred) return 0;
    if (isDeferred) {
      try {
        await durability!.syncDeferred();
      } catch (error) {
        this.#failure = this.#storeError(error);
        for (const op of [...held.map((h) => h.op), ...this.#pending.splice(0)]) op.reject(this.#failure);
        return held.length;
      }
    } else durability?.noteInline(this.#lastCommitMs);
    for (const { op, settled } of held) {
      if (settled.ok) op.resolve(settled.value);
      else op.reject(settled.error);
    }
    return held.length;
  }

  /**
   * One transaction of `batch` (SQLITE_BUSY retried with backoff): the writes it committed with
   * their results, and the rest of the batch when it cut it short; null when it failed as a whole
   * (its writes are rejected). Settles nothing it committed.
   */
  async #transaction(batch: Pending[], mode: TransactionMode): Promise<{ committed: { op: Pending; settled: Settled }[]; rest: Pending[] } | null> {
    for (let attempt = 0; ; attempt++) {
      let connection: SqliteConnection;
      try {
        connection = await this.#options.connection();
      } catch (error) {
        for (const op of batch) op.reject(error);
        return null;
      }
      const outcome = this.#tryCommit(connection, batch, mode);
      if (outcome === 'busy') {
        if (attempt >= this.#options.busyRetries) {
          const error = new FlowError('STORE_ERROR', `SQLite database "${this.#options.path}" stayed locked by another writer after ${attempt + 1} attempts`);
          for (const op of batch) op.reject(error);
          return null;
        }
        this.#stats.busyRetries++;
        await new Promise<void>((wake) => setTimeout(wake, this.#options.busyBackoffMs * 2 ** attempt));
        continue;
      }
      if (!Array.isArray(outcome)) {
        for (const op of batch) op.reject(outcome);
        return null;
      }
      this.#stats.commits++;
      this.#stats.operations += outcome.filter((s) => s.ok).length;
      if (!mode.commitSyncs) this.#durability?.noteDeferredCommit();
      return { committed: outcome.map((settled, i) => ({ op: batch[i]!, settled })), rest: batch.slice(outcome.length) };
    }
  }

  /**
   * Runs one transaction synchronously: nothing else can touch this connection meanwhile. It takes
   * the batch's operations in order until `minBatch` of them took `maxBatchMs`; its results are
   * for that prefix. Without `commitSyncs` its COMMIT does not
   * fsync: the caller must sync before settling anything.
   */
  #tryCommit(connection: SqliteConnection, batch: Pending[], mode: TransactionMode): Settled[] | 'busy' | FlowError {
    const now = this.#options.now ?? performance.now.bind(performance);
    const startedAt = now();
    const blockedSince = performance.now();
    try {
      this.#durability?.prepare(connection, mode.commitSyncs);
      connection.control.begin.run();
    } catch (error) {
      return isBusy(error) ? 'busy' : this.#storeError(error);
    }
    try {
      return this.#applyAndCommit(connection, batch, { now, startedAt, isLight: mode.isLight });
    } finally {
      this.#stats.longestTransactionMs = Math.max(this.#stats.longestTransactionMs, performance.now() - blockedSince);
    }
  }

  #applyAndCommit(connection: SqliteConnection, batch: Pending[], at: { now: () => number; startedAt: number; isLight: boolean }): Settled[] | 'busy' | FlowError {
    const { now, startedAt } = at;
    const db = connection.db;
    const maxBatchMs = this.#options.maxBatchMs ?? DEFAULT_MAX_BATCH_MS;
    const minBatch = this.#options.minBatch ?? DEFAULT_MIN_BATCH;
    const control = connection.control;
    const results: Settled[] = [];
    try {
      for (const op of batch) {
        const opStartedAt = now();
        control.savepoint.run();
        try {
          const value = op.apply(connection);
          const ms = now() - opStartedAt;
          if (at.isLight && ms > COSTLY_WRITE_MS && batch.length > 1) {
            // A light transaction keeps small writes from waiting on a large one: this one is undone
            // and waits, with the rest of the batch, for the next transaction (it is pure, as a
            // retry after SQLITE_BUSY re-applies it too); its lane is not light any more.
            control.rollbackToSavepoint.run();
            control.release.run();
            this.#noteApplied(op.lane, ms);
            break;
          }
          control.release.run();
          results.push({ ok: true, value });
        } catch (error) {
          if (!db.inTransaction || FATAL_CODES.test(sqliteCode(error))) throw error;
          control.rollbackToSavepoint.run();
          control.release.run();
          results.push({ ok: false, error: error instanceof FlowError ? error : this.#storeError(error) });
        }
        const opEndedAt = now();
        this.#noteApplied(op.lane, opEndedAt - opStartedAt);
        if (results.length >= minBatch && opEndedAt - startedAt >= maxBatchMs) break;
      }
      const commitStartedAt = performance.now();
      control.commit.run();
      this.#lastCommitMs = performance.now() - commitStartedAt;
      this.#options.committed?.();
      this.#stats.longestCommitMs = Math.max(this.#stats.longestCommitMs, this.#lastCommitMs);
      return results;
    } catch (error) {
      if (db.inTransaction) {
        try {
          control.rollback.run();
        } catch {
          // The connection already rolled back on its own; the error below is what matters.
        }
      }
      return isBusy(error) ? 'busy' : this.#storeError(error);
    }
  }

  #storeError(error: unknown): FlowError {
    if (error instanceof FlowError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new FlowError('STORE_ERROR', `SQLite database "${this.#options.path}": ${message}`, { cause: error });
  }
}

/** The SQLite error code of a better-sqlite3 error (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_PRIMARYKEY`, …), or ''. */
export function sqliteCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** SQLITE_BUSY and its extended codes (BUSY_SNAPSHOT, BUSY_RECOVERY, …). */
export function isBusy(error: unknown): boolean {
  return sqliteCode(error).startsWith('SQLITE_BUSY');
}
