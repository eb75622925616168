/**
 * The count of watches waiting for their run to appear (see run-watcher.ts): each holds a
 * connection and polls the store for up to `maxWatchWaitMs`, so an engine bounds how many may
 * wait at once, per principal and in all (budgets `maxPendingWatchesPerPrincipal`,
 * `maxPendingWatches`). A watch of a run that exists and is readable never waits and is not counted.
 */
import { limitExceeded } from '../../budgets.js';

/** Slots of waiting watches, per principal and in all. */
export class PendingWatches {
  readonly #byPrincipal = new Map<string, number>();
  readonly #maxPerPrincipal: number;
  readonly #max: number;
  #total = 0;

  constructor(options: { maxPerPrincipal: number; max: number }) {
    this.#maxPerPrincipal = options.maxPerPrincipal;
    this.#max = options.max;
  }

  /**
   * Takes a slot for `principal` (null for a trusted in-process caller, held to the engine's
   * count only) and returns the function
   * that gives it back (once; later calls do nothing). Throws LIMIT_EXCEEDED, taking nothing,
   * when the principal or the engine has no slot left — whether the run is missing or invisible
   * does not change this answer, so it tells nothing about the run.
   */
  take(principal: string | null): () => void {
    const held = principal === null ? 0 : (this.#byPrincipal.get(principal) ?? 0);
    if (principal !== null && held >= this.#maxPerPrincipal) throw limitExceeded('maxPendingWatchesPerPrincipal', this.#maxPerPrincipal, held + 1, 'too many watches of runs not recorded yet');
    if (this.#total >= this.#max) throw limitExceeded('maxPendingWatches', this.#max, this.#total + 1, 'too many watches of runs not recorded yet on this server');
    if (principal !== null) this.#byPrincipal.set(principal, held + 1);
    this.#total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total -= 1;
      if (principal === null) return;
      const left = (this.#byPrincipal.get(principal) ?? 1) - 1;
      if (left === 0) this.#byPrincipal.delete(principal);
      else this.#byPrincipal.set(principal, left);
    };
  }

  /** How many watches wait now (metrics, tests). */
  get size(): number {
    return this.#total;
  }
}
