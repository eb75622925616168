/**
 * Group commit for PostgreSQL: run transitions submitted in the same turn of the event loop
 * (by many concurrently executing runs) are recorded in ONE transaction on one pooled
 * connection. A durable commit waits for a WAL flush; sharing it lets hundreds of runs
 * checkpoint at the rate PostgreSQL writes rows rather than flushes WAL.
 */
import { setImmediate } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import type { PoolClient } from 'pg';
import { FlowError } from '../../core/errors.js';
import type { CommitObservers } from '../../core/commit-observer.js';
import type { RecordedRun, Transition } from '../../core/store.js';
import { creationRecordedAt } from '../../core/run.js';
import { applyTransition, transitionErrorOf } from './apply-transition.js';
import { recordBatch, type BatchItem, type NewRunWrite } from './record-function.js';
import { insertRun } from './run-writes.js';
import { isConnectionError, isRetryableTransactionError } from './pg-errors.js';
import type { GroupCommitStats } from './group-commit-stats.js';
export type { GroupCommitStats } from './group-commit-stats.js';


/** Options of a {@link TransitionBatcher}. */
export interface TransitionBatcherOptions {
  /** Checks out a pooled connection; rejects with a FlowError when none can be made. */
  acquire: () => Promise<PoolClient>;
  /** Turns a database error into the FlowError a caller receives. */
  toError: (error: unknown) => FlowError;
  /**
   * Most transitions in one transaction. A batch holds the row locks of all its runs until it
   * commits, and a failing statement makes the whole batch run again, so bigger is not better
   * past the number of runs that finish a step at once (64 is plenty).
   */
  maxBatch: number;
  /** Batches in flight at once, each on its own connection; leave connections for reads and claims. */
  maxConcurrentBatches: number;
  /** Times a whole batch is retried after 40001/40P01 before its transitions reject. */
  retries: number;
  /** Told when each batch begins and ends (tracing, metrics). */
  observers?: CommitObservers;
}

interface Pending {
  item: BatchItem;
  /** The run as recorded for a transition; null for a creation (its creator builds the record). */
  resolve: (run: RecordedRun | null) => void;
  reject: (error: FlowError) => void;
}

type Outcome = { ok: true; run: RecordedRun | null } | { ok: false; error: FlowError };

/** A transition's statement failed, which aborted the whole transaction. */
class AbortedBy extends Error {
  constructor(
    readonly index: number,
    readonly original: unknown,
  ) {
    super('a transition aborted the group transaction');
  }
}

/** A call recording several transitions failed (and wrote nothing): record them one by one. */
class BatchFailed extends Error {
  constructor(readonly original: unknown) {
    super('a group commit call failed');
  }
}

/**
 * Queues transitions and records them in shared transactions.
 *
 * Guarantees: a transition's promise settles only after the COMMIT of its batch returned (for a
 * batch of one, after its statement, which commits on its own), so a resolved transition is
 * durable and its NOTIFY is on its way; a transition that is refused (LEASE_LOST, RUN_NOT_FOUND,
 * CONFLICT, a value PostgreSQL rejects) leaves nothing behind and rejects alone while the others
 * commit (#applyAll says how). If the transaction as a whole fails (connection lost, COMMIT failed) every
 * transition of the batch rejects with STORE_ERROR and
 * the caller retries it; since a lost COMMIT reply may hide a commit that happened, a retry that
 * repeats the recorded transition is recognised and returns the run instead of failing.
 * A deadlock or serialization failure retries the whole batch a few times first.
 */
export class TransitionBatcher {
  readonly #options: TransitionBatcherOptions;
  readonly #queue: Pending[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #scheduled = false;
  readonly #stats: GroupCommitStats = { commits: 0, transitions: 0, batchRetries: 0 };

  constructor(options: TransitionBatcherOptions) {
    this.#options = options;
  }

  /** A snapshot of the counters. */
  get stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  /** Queues `transition` for the next group commit; resolves with the run as recorded. */
  submit(transition: Transition): Promise<RecordedRun> {
    // A transition's item always resolves with its run (only a creation's resolves with null): no `then` to say so.
    return this.#enqueue({ transition }) as Promise<RecordedRun>;
  }

  /**
   * Queues a new run (with its first events) for the next group commit; rejects with CONFLICT when
   * the id is taken, and CANCELED / LIMIT_EXCEEDED when the tree it joins refuses it (only it).
   */
  async submitCreation(creation: NewRunWrite): Promise<void> {
    await this.#enqueue({ creation });
  }

  #enqueue(item: BatchItem): Promise<RecordedRun | null> {
    return new Promise<RecordedRun | null>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // setImmediate, not a microtask: every run whose step finished in this turn gets to submit first.
        setImmediate(() => {
          this.#scheduled = false;
          this.#pump();
        });
      }
    });
  }

  /** Resolves when every transition submitted so far has settled (for close). */
  async idle(): Promise<void> {
    while (this.#queue.length > 0 || this.#inFlight.size > 0 || this.#scheduled) {
      if (this.#inFlight.size > 0) await Promise.race(this.#inFlight);
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#inFlight.size < this.#options.maxConcurrentBatches) {
      const batch = this.#queue.splice(0, this.#options.maxBatch);
      const running: Promise<void> = this.#commit(batch)
        // #commit settles every transition itself; this only catches a bug, so none hangs forever.
        .catch((error: unknown) => batch.forEach((p) => p.reject(this.#options.toError(error))))
        .finally(() => {
          this.#inFlight.delete(running);
          // Whatever queued while this batch was writing is the next group: start it at once.
          this.#pump();
        });
      this.#inFlight.add(running);
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    const ended = this.#options.observers?.started('postgres', batch.length);
    if (!ended) return this.#commitBatch(batch);
    await this.#commitBatch(batch).then(() => ended(), (error: unknown) => (ended(error), Promise.reject(error)));
  }

  async #commitBatch(batch: Pending[]): Promise<void> {
    let pending = batch;
    let attempt = 0;
    // After a call with several transitions failed: record them one by one to find the culprit.
    let oneByOne = false;
    while (pending.length > 0) {
      let client: PoolClient;
      try {
        client = await this.#options.acquire();
      } catch (error) {
        for (const p of pending) p.reject(this.#options.toError(error));
        return;
      }
      // One statement (one transition, or a call recording several) is atomic without a
      // transaction: one round trip and one commit for the whole batch.
      const alone = !oneByOne;
      try {
        const outcomes = oneByOne
          ? await this.#applyAll(client, pending)
          : pending.length === 1
            ? [await this.#applyAlone(client, pending[0]!)]
            : await this.#recordTogether(client, pending);
        if (!alone) await client.query('COMMIT');
        client.release();
        this.#stats.commits += 1;
        pending.forEach((p, i) => {
          const outcome = outcomes[i]!;
          if (outcome.ok) {
            this.#stats.transitions += 1;
            p.resolve(outcome.run);
          } else {
            p.reject(outcome.error);
          }
        });
        return;
      } catch (error) {
        const cause = error instanceof AbortedBy || error instanceof BatchFailed ? error.original : error;
        let broken = isConnectionError(cause);
        if (!broken && !alone) await client.query('ROLLBACK').catch(() => (broken = true));
        // A connection that failed mid-transaction is destroyed, not handed to the next caller.
        client.release(broken ? (cause instanceof Error ? cause : new Error(String(cause))) : undefined);
        if (error instanceof BatchFailed && !broken) {
          oneByOne = true;
          continue;
        }
        if (error instanceof AbortedBy && !broken) {
          // Only that transition is at fault: it rejects, the others run again in a new transaction.
          pending[error.index]!.reject(this.#toError(cause));
          pending = pending.filter((_, i) => i !== error.index);
          continue;
        }
        if (isRetryableTransactionError(cause) && attempt < this.#options.retries) {
          attempt += 1;
          this.#stats.batchRetries += 1;
          await delay(10 * 2 ** attempt + Math.random() * 10);
          continue;
        }
        const failure = this.#toError(cause);
        for (const p of pending) p.reject(failure);
        return;
      }
    }
  }

  #toError(error: unknown): FlowError {
    return transitionErrorOf(error) ?? this.#options.toError(error);
  }

  /** Several transitions in one call; a failure of the call (which then wrote nothing) is a {@link BatchFailed}. */
  async #recordTogether(client: PoolClient, batch: Pending[]): Promise<Outcome[]> {
    try {
      return await recordBatch(client, batch.map((p) => p.item));
    } catch (error) {
      if (isConnectionError(error) || isRetryableTransactionError(error)) throw error;
      throw new BatchFailed(error);
    }
  }

  /** A batch of one: its statement commits on its own; a statement error rejects only it. */
  async #applyAlone(client: PoolClient, pending: Pending): Promise<Outcome> {
    try {
      return { ok: true, run: await applyItem(client, pending.item) };
    } catch (error) {
      if (error instanceof FlowError) return { ok: false, error };
      if (isConnectionError(error) || isRetryableTransactionError(error)) throw error;
      return { ok: false, error: this.#toError(error) };
    }
  }

  /**
   * BEGIN, then each transition's statement; the caller commits. A transition that is refused
   * (LEASE_LOST, RUN_NOT_FOUND) wrote nothing, so the transaction goes on without it. A statement
   * that fails aborts the transaction: it is reported as {@link AbortedBy} and the batch runs
   * again without it. Failing statements are rare (a run id taken, a value PostgreSQL refuses),
   * so this costs less than a savepoint around every transition (two round trips each).
   */
  async #applyAll(client: PoolClient, batch: Pending[]): Promise<Outcome[]> {
    await client.query('BEGIN');
    const outcomes: Outcome[] = [];
    for (const [index, pending] of batch.entries()) {
      try {
        outcomes.push({ ok: true, run: await applyItem(client, pending.item) });
      } catch (error) {
        if (error instanceof FlowError) {
          outcomes.push({ ok: false, error });
          continue;
        }
        // These doom the whole transaction (or its connection): let the batch retry or fail.
        if (isConnectionError(error) || isRetryableTransactionError(error)) throw error;
        throw new AbortedBy(index, error);
      }
    }
    return outcomes;
  }
}

/** Records one item on its own statement (in the caller's transaction, if any). */
async function applyItem(client: PoolClient, item: BatchItem): Promise<RecordedRun | null> {
  if ('transition' in item) return applyTransition(client, item.transition);
  const { run, events, lease, maxRunsPerTree } = item.creation;
  const at = creationRecordedAt(run);
  await insertRun(client, { run, events, at, updatedAt: at, lease, notify: true, ...(maxRunsPerTree === undefined ? {} : { maxRunsPerTree }) });
  return null;
}
