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

/**
 * The observers of one store; {@link started} is what its commit path calls. The same observer
 * added twice (two engines over one store, one tracer) is told once, and stays until both removed it.
 */
export class CommitObservers {
  /** Each observer with the number of times it was added and not removed yet. */
  readonly #observers = new Map<CommitObserver, number>();

  /** Adds an observer; returns the function that removes it (once). */
  add(observer: CommitObserver): () => void {
    this.#observers.set(observer, (this.#observers.get(observer) ?? 0) + 1);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const count = this.#observers.get(observer) ?? 0;
      if (count <= 1) this.#observers.delete(observer);
      else this.#observers.set(observer, count - 1);
    };
  }

  /** A batch begins: asks every observer, and returns the function that tells them it ended (undefined when nobody watches). */
  started(store: string, size: number): ((error?: unknown) => void) | undefined {
    if (this.#observers.size === 0) return undefined;
    const ends: ((error?: unknown) => void)[] = [];
    for (const observer of this.#observers.keys()) {
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
