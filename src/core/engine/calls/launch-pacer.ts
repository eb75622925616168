/**
 * The launch budget (`maxLaunchesPerSecond`, core/budgets.ts): runs one run tree may launch per
 * second in one engine. A launch over the rate is not refused: the launching step waits for its
 * turn, so a run that fans out 1,000 launches still starts all of them, at the rate, and a flow
 * that launches itself (issue 12's fork bomb) grows at the rate instead of as fast as the engine
 * can create runs — everyone else's runs keep their slots and their commits.
 *
 * Why per tree and not per principal: a service that starts many runs as one user, each launching
 * a child or two, is the ordinary use of launches and must not be held to one rate for all its
 * runs; what one tree launches is what grows without anybody starting anything. Many trees are
 * bounded by the start budget (`maxStartsPerSecond`) and each by `maxRunsPerTree`.
 *
 * Turns are handed out in order of asking, per tree (a generic cell rate algorithm: each launch
 * books the next free time; `rate` launches at once after a quiet second, the burst).
 *
 * Nothing here is durable: a process that dies while a launch waits runs that step again (nothing
 * was created), and a new process starts with full buckets. Memory stays bounded: a tree whose
 * bucket refilled is the same as none and is dropped when the map grows past `maxTrees`; past
 * that, the least recently used go first.
 */
import type { Clock } from '../../clock.js';

/** Options of a {@link LaunchPacer}. */
export interface LaunchPacerOptions {
  /** Launches per tree per second, and the burst after a quiet second. */
  launchesPerSecond: number;
  clock: Clock;
  /** Trees kept before refilled ones are dropped (default 10,000). */
  maxTrees?: number;
}

/** Turns of launches, one booking per launch, per run tree. */
export class LaunchPacer {
  /** Time between two launches of one tree at the rate, ms. */
  readonly #intervalMs: number;
  /** How far ahead of now a tree may book and still go at once: the burst, less one interval. */
  readonly #toleranceMs: number;
  readonly #clock: Clock;
  readonly #maxTrees: number;
  /** Per tree, when its next launch would be due at the rate (its bucket is full when that is past); least recently used first. */
  readonly #due = new Map<string, number>();

  constructor(options: LaunchPacerOptions) {
    this.#intervalMs = 1000 / options.launchesPerSecond;
    this.#toleranceMs = Math.max(0, 1000 - this.#intervalMs);
    this.#clock = options.clock;
    this.#maxTrees = options.maxTrees ?? 10_000;
  }

  /**
   * Books a launch of tree `treeId`: null when it may go at once (no await), else a promise that
   * resolves at its turn. The booking is kept whatever happens next; when `signal` aborts (the run
   * was canceled, lost its lease, the engine drains) the promise rejects with its reason at once.
   */
  pace(treeId: string, signal?: AbortSignal): Promise<void> | null {
    const now = this.#clock.now();
    const due = this.#due.get(treeId) ?? now;
    const at = Math.max(now, due - this.#toleranceMs);
    this.#keep(treeId, Math.max(due, at) + this.#intervalMs, now);
    if (at <= now) return null;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const aborted = (): void => {
        timer.cancel();
        reject(signal!.reason);
      };
      const timer = this.#clock.setTimeout(() => {
        signal?.removeEventListener('abort', aborted);
        resolve();
      }, at - now);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  #keep(treeId: string, due: number, now: number): void {
    this.#due.delete(treeId);
    this.#due.set(treeId, due);
    if (this.#due.size <= this.#maxTrees) return;
    // A tree's booking is past (refilled) one interval after its last launch: this frees nearly all.
    for (const [id, at] of this.#due) if (at <= now) this.#due.delete(id);
    for (const id of this.#due.keys()) {
      if (this.#due.size <= this.#maxTrees) break;
      this.#due.delete(id);
    }
  }
}
