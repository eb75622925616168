/**
 * What the scheduler's polls tell an operator: the store unavailable and back (one line each way,
 * not one per failed poll), and runs resumed that were already under way (one line per poll
 * interval, not one per run).
 */
import type { Logger } from '../types.js';

/** The log lines of one scheduler's polls. */
export class PollLog {
  readonly #logger: Logger | undefined;
  readonly #workerId: string;
  #storeAnswers = true;
  #resumed = 0;

  constructor(logger: Logger | undefined, workerId: string) {
    this.#logger = logger;
    this.#workerId = workerId;
  }

  /** A poll failed: the first failure since the store last answered is an error, the rest debug. */
  storeFailed(error: unknown): void {
    if (!this.#storeAnswers) return this.#logger?.debug({ err: error }, 'poll failed: the store is still unavailable');
    this.#storeAnswers = false;
    this.#logger?.error({ err: error, workerId: this.#workerId }, 'store unavailable: no run is claimed until it answers (runs in flight stop at their next write and resume later)');
  }

  /** A poll succeeded: says so once after failures. */
  storeAnswered(): void {
    if (this.#storeAnswers) return;
    this.#storeAnswers = true;
    this.#logger?.info({ workerId: this.#workerId }, 'store available again: claiming runs');
  }

  /**
   * Counts a claimed run that had already taken steps: left by a process that stopped or lost its
   * lease (recovery), or given back to share slots.
   */
  resumed(): void {
    this.#resumed += 1;
  }

  /** Logs the runs counted by {@link resumed} since the last call, if any. */
  flushResumed(): void {
    if (this.#resumed === 0) return;
    this.#logger?.info({ resumed: this.#resumed, workerId: this.#workerId }, 'resumed runs already under way (recovery of runs another process left, or slots given back)');
    this.#resumed = 0;
  }
}
