/**
 * Group commit for SQLite: write operations that arrive in the same turn of the event loop are
 * applied in ONE `BEGIN IMMEDIATE … COMMIT`, each inside its own SAVEPOINT. A durable commit
 * costs an fsync (~0.1 ms, so ~10k commits/s); sharing it lets many concurrently executing runs
 * checkpoint their transitions at the rate SQLite writes rows instead.
 */
import { setImmediate, setTimeout } from 'node:timers';
import { FlowError } from '../../core/errors.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** Counters of a {@link GroupCommitQueue}, for tests and metrics. */
export interface GroupCommitStats {
  /** Write transactions committed. */
  commits: number;
  /** Operations that committed (each inside one of those transactions). */
  operations: number;
  /** Transactions started again because another process held the write lock. */
  busyRetries: number;
}

/** Options of a {@link GroupCommitQueue}. */
export interface GroupCommitQueueOptions {
  /** Opens the database on first use; a rejection fails the waiting operations. */
  connection: () => Promise<SqliteConnection>;
  /** The file, named in errors. */
  path: string;
  /** Most operations in one transaction; more wait for the next one. */
  maxBatch: number;
  /** Times a batch is retried after SQLITE_BUSY (on top of SQLite's own busy_timeout wait). */
  busyRetries: number;
  /** First backoff before a retry; doubles each time. */
  busyBackoffMs: number;
}

/** A write applied inside the shared transaction; it must be synchronous and touch only the database. */
export type WriteOperation<T> = (connection: SqliteConnection) => T;

interface Pending {
  apply: WriteOperation<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * SQLite result codes after which the transaction as a whole is gone or must not be trusted;
 * anything else (a constraint, a value too big, our own validation) fails only its operation.
 */
const FATAL_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|NOMEM|CORRUPT|NOTADB|READONLY|CANTOPEN|PROTOCOL|INTERRUPT|ABORT|PERM)/;

/**
 * Queues write operations and commits them in shared transactions.
 *
 * Guarantees: an operation's promise settles only after the COMMIT that contains it returned
 * (so with synchronous=FULL a resolved write survives power loss); an operation that throws
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
  /** Settles once the operation queued last has; batches commit in queue order, so every earlier one has too. */
  #tail: Promise<void> = Promise.resolve();
  readonly #stats: GroupCommitStats = { commits: 0, operations: 0, busyRetries: 0 };

  constructor(options: GroupCommitQueueOptions) {
    this.#options = options;
  }

  /** A snapshot of the counters. */
  get stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  /** Queues one write; resolves with its result once its transaction committed. */
  enqueue<T>(apply: WriteOperation<T>): Promise<T> {
    const result = new Promise<T>((resolve, reject) => {
      this.#pending.push({ apply, resolve: resolve as (value: unknown) => void, reject });
      // setImmediate runs after this turn's I/O callbacks and microtasks, so every run that
      // writes in this turn joins the same transaction. node:timers' own setImmediate is used
      // so a test that fakes the global timers cannot stall the store.
      this.#draining ??= new Promise<void>((wake) => setImmediate(wake)).then(() => this.#drain());
    });
    this.#tail = result.then(
      () => undefined,
      () => undefined,
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

  /** Resolves when every queued operation has settled. */
  async whenIdle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) await this.#commit(this.#pending.splice(0, this.#options.maxBatch));
    } finally {
      // Cleared in the same synchronous step that saw the queue empty, so an operation queued
      // from now on schedules a new drain instead of waiting on this finished one.
      this.#draining = null;
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let connection: SqliteConnection;
      try {
        connection = await this.#options.connection();
      } catch (error) {
        for (const op of batch) op.reject(error);
        return;
      }
      const outcome = this.#tryCommit(connection, batch);
      if (outcome === 'busy') {
        if (attempt >= this.#options.busyRetries) {
          const error = new FlowError('STORE_ERROR', `SQLite database "${this.#options.path}" stayed locked by another writer after ${attempt + 1} attempts`);
          for (const op of batch) op.reject(error);
          return;
        }
        this.#stats.busyRetries++;
        await new Promise<void>((wake) => setTimeout(wake, this.#options.busyBackoffMs * 2 ** attempt));
        continue;
      }
      if (!Array.isArray(outcome)) {
        for (const op of batch) op.reject(outcome);
        return;
      }
      this.#stats.commits++;
      this.#stats.operations += outcome.filter((s) => s.ok).length;
      outcome.forEach((settled, i) => {
        const op = batch[i]!;
        if (settled.ok) op.resolve(settled.value);
        else op.reject(settled.error);
      });
      return;
    }
  }

  /** Runs one transaction synchronously: nothing else can touch this connection meanwhile. */
  #tryCommit(connection: SqliteConnection, batch: Pending[]): Settled[] | 'busy' | FlowError {
    const db = connection.db;
    const control = connection.control;
    try {
      control.begin.run();
    } catch (error) {
      return isBusy(error) ? 'busy' : this.#storeError(error);
    }
    const results: Settled[] = [];
    try {
      for (const op of batch) {
        control.savepoint.run();
        try {
          const value = op.apply(connection);
          control.release.run();
          results.push({ ok: true, value });
        } catch (error) {
          if (!db.inTransaction || FATAL_CODES.test(sqliteCode(error))) throw error;
          control.rollbackToSavepoint.run();
          control.release.run();
          results.push({ ok: false, error: error instanceof FlowError ? error : this.#storeError(error) });
        }
      }
      control.commit.run();
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
