/**
 * Who watches a store's commits (tracing, metrics) without the store knowing which: the store
 * tells its observers when a batch of writes begins to commit and when it ended. Observing costs a
 * store nothing while nobody watches, and an observer that throws never fails a write.
 */

/** Watches the commit batches of a store (`Store.observeCommits`). */
export interface CommitObserver {
  /**
   * A batch of `size` writes (transitions, new runs) begins to commit to `store` (`sqlite`,
   * `postgres`); the function returned, if any, is called once when the batch ended — with the
   * error when it failed as a whole. Called in the async context of the write that started the batch.
   */
  commitStarted(store: string, size: number): ((error?: unknown) => void) | undefined;
}

/** The observers of one store; {@link started} is what its commit path calls. */
export class CommitObservers {
  readonly #observers = new Set<CommitObserver>();

  /** Adds an observer; returns the function that removes it. */
  add(observer: CommitObserver): () => void {
    this.#observers.add(observer);
    return () => void this.#observers.delete(observer);
  }

  /** A batch begins: asks every observer, and returns the function that tells them it ended (undefined when nobody watches). */
  started(store: string, size: number): ((error?: unknown) => void) | undefined {
    if (this.#observers.size === 0) return undefined;
    const ends: ((error?: unknown) => void)[] = [];
    for (const observer of this.#observers) {
      try {
        const end = observer.commitStarted(store, size);
        if (end) ends.push(end);
      } catch {
        // Observing never fails a write.
      }
    }
    if (ends.length === 0) return undefined;
    return (error) => {
      for (const end of ends) {
        try {
          end(error);
        } catch {
          // As above.
        }
      }
    };
  }
}
