/**
 * Turns of the event loop for run executors. An executor takes a turn when it goes on after a
 * write (its next steps, up to its next write); each owner (a run's `runOwner`) is given at most
 * `turnsPerSlice` turns in one slice, its other executors wait for the next slice, which begins
 * after the event loop had a turn (`defer`: setImmediate, so after pending I/O — HTTP requests,
 * the store's next commit). Waiting executors are served round-robin by owner, then by run tree
 * (fair-queue.ts). Why: a commit settles the writes of many runs at once, and without the gate
 * every one of them went on in the same turn of the loop — a fork tree's hundreds of runs held
 * the loop, and every request waited behind all of them. With it, one owner's runs hold the loop
 * for at most one slice at a time, and another owner's run, within its own budget, goes on at
 * once, as it would on an idle engine.
 *
 * Nothing here is durable: a process that dies loses only the order of turns.
 */
import { FairQueue } from './fair-queue.js';
import type { RunParty } from './fair-shares.js';

/** Options of a {@link TurnGate}. */
export interface TurnGateOptions {
  /**
   * Turns one owner is given in one turn of the event loop (64: what 64 runs executing at once
   * take after a shared commit, so a busy engine's commits stay as large as before).
   */
  turnsPerSlice: number;
  /** Runs `callback` after the event loop had a turn (setImmediate); tests pass a manual one. */
  defer: (callback: () => void) => void;
}

/** Gives executors their turns, a slice per turn of the event loop. */
export class TurnGate {
  readonly #options: TurnGateOptions;
  readonly #waiting = new FairQueue<{ owner: string; resume: () => void }>();
  /** Owners' turns given in the current slice. */
  readonly #given = new Map<string, number>();
  /** Owners with executors waiting, and how many. */
  readonly #waitingOf = new Map<string, number>();
  /** The next slice is scheduled (it resets {@link #given}). */
  #nextSlice = false;

  constructor(options: TurnGateOptions) {
    this.#options = options;
  }

  /** Executors waiting for a turn. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /**
   * A turn for a step of `party`: null when it may go on at once (no await, no microtask), else a
   * promise that resolves at its turn. Never rejects.
   */
  turn(party: RunParty): Promise<void> | null {
    const owner = party.runOwner;
    this.#scheduleSlice();
    // Behind its own waiting executors, never ahead of them; other owners' queues do not matter.
    if (!this.#waitingOf.has(owner) && this.#give(owner)) return null;
    this.#waitingOf.set(owner, (this.#waitingOf.get(owner) ?? 0) + 1);
    return new Promise<void>((resume) => this.#waiting.push({ owner, resume }, party));
  }

  /** Counts a turn of `owner` in the current slice; false when it had its budget. */
  #give(owner: string): boolean {
    const given = this.#given.get(owner) ?? 0;
    if (given >= this.#options.turnsPerSlice) return false;
    this.#given.set(owner, given + 1);
    return true;
  }

  #scheduleSlice(): void {
    if (this.#nextSlice) return;
    this.#nextSlice = true;
    this.#options.defer(() => this.#slice());
  }

  #slice(): void {
    this.#nextSlice = false;
    this.#given.clear();
    for (;;) {
      const next = this.#waiting.take((entry) => this.#give(entry.owner));
      if (!next) break;
      const left = this.#waitingOf.get(next.owner)! - 1;
      if (left > 0) this.#waitingOf.set(next.owner, left);
      else this.#waitingOf.delete(next.owner);
      next.resume();
    }
    // Turns given now count until the loop had a turn, as do the ones given at once meanwhile.
    if (this.#given.size > 0) this.#scheduleSlice();
  }
}
