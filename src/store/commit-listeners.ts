/**
 * The listeners of a store's `onCommit`: told of every committed write transaction (a group
 * commit of transitions and new runs) with its size and duration. Shared by the three stores.
 */
import type { CommitListener, CommittedBatch } from '../core/store.js';

/** The `onCommit` listeners of one store. */
export class CommitListeners {
  readonly #listeners = new Set<CommitListener>();

  /** Adds a listener; returns the function that removes it (Store.onCommit). */
  add(listener: CommitListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /** Tells every listener of a commit; one that throws is skipped (observing never fails a write). */
  committed(batch: CommittedBatch): void {
    for (const listener of this.#listeners) {
      try {
        listener(batch);
      } catch {
        // The write committed; a listener's bug must not turn it into a failure.
      }
    }
  }
}
