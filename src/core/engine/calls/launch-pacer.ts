/**
 * The launch budget (`maxLaunchesPerSecond`, core/budgets.ts): runs one principal's flows may
 * launch per second in one engine. A launch over the rate is not refused: the launching step
 * waits for its turn, so a flow that fans out 1,000 launches still starts all of them, at the
 * rate, and a flow that launches itself (issue 12's fork bomb) grows at the rate instead of as
 * fast as the engine can create runs — everyone else's runs keep their slots and their commits.
 *
 * Turns are handed out in order of asking, per principal (a generic cell rate algorithm: each
 * launch books the next free time; `rate` launches at once after a quiet second, the burst). A
 * principal is the launching run's `runOwner`, the user who started its tree (or the subscribing
 * flow's owner for an event, the schedule's for a slot), whatever service account it runs as.
 *
 * Nothing here is durable: a process that dies while a launch waits runs that step again (nothing
 * was created), and a new process starts with full buckets. Memory stays bounded: a principal
 * whose bucket refilled is the same as none and is dropped when the map grows past
 * `maxPrincipals`; past that, the least recently used go first.
 */
import type { Clock } from '../../clock.js';

/** Options of a {@link LaunchPacer}. */
export interface LaunchPacerOptions {
  /** Launches per principal per second, and the burst after a quiet second. */
  launchesPerSecond: number;
  clock: Clock;
  /** Principals kept before refilled ones are dropped (default 10,000). */
  maxPrincipals?: number;
}

/** Turns of launches, one booking per launch, per principal. */
export class LaunchPacer {
  /** Time between two launches of one principal at the rate, ms. */
  readonly #intervalMs: number;
  /** How far ahead of now a principal may book and still go at once: the burst, less one interval. */
  readonly #toleranceMs: number;
  readonly #clock: Clock;
  readonly #maxPrincipals: number;
  /** Per principal, when its next launch would be due at the rate (its bucket is full when that is past); least recently used first. */
  readonly #due = new Map<string, number>();

  constructor(options: LaunchPacerOptions) {
    this.#intervalMs = 1000 / options.launchesPerSecond;
    this.#toleranceMs = Math.max(0, 1000 - this.#intervalMs);
    this.#clock = options.clock;
    this.#maxPrincipals = options.maxPrincipals ?? 10_000;
  }

  /**
   * Books a launch of `principalId`: null when it may go at once (no await), else a promise that
   * resolves at its turn. The booking is kept whatever happens next; when `signal` aborts (the run
   * was canceled, lost its lease, the engine drains) the promise rejects with its reason at once.
   */
  pace(principalId: string, signal?: AbortSignal): Promise<void> | null {
    const now = this.#clock.now();
    const due = this.#due.get(principalId) ?? now;
    const at = Math.max(now, due - this.#toleranceMs);
    this.#keep(principalId, Math.max(due, at) + this.#intervalMs, now);
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

  #keep(principalId: string, due: number, now: number): void {
    this.#due.delete(principalId);
    this.#due.set(principalId, due);
    if (this.#due.size <= this.#maxPrincipals) return;
    for (const [id, at] of this.#due) if (at <= now) this.#due.delete(id);
    for (const id of this.#due.keys()) {
      if (this.#due.size <= this.#maxPrincipals) break;
      this.#due.delete(id);
    }
  }
}
