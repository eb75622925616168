/**
 * Reads shared by every watcher of one run in an engine. A thousand SSE clients watching one run
 * would otherwise poll the store a thousand times per interval and read each new event a thousand
 * times: here watchers of a run wait on one shared poll tick, and identical reads in flight at the
 * same moment (same run, same position) are one store call whose result they all get. The events
 * handed out are shared between watchers: treat them as read-only (as live listeners already do).
 */
import type { Clock, TimerHandle } from '../../clock.js';
import type { RunEvent, RunRecord } from '../../run.js';
import type { Store } from '../../store.js';

/** Shared store reads and poll ticks for the watchers of an engine. */
export class WatchReads {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #pollIntervalMs: number;
  readonly #reads = new Map<string, Promise<RunEvent[]>>();
  readonly #runReads = new Map<string, Promise<RunRecord | null>>();
  readonly #ticks = new Map<string, { timer: TimerHandle; waiters: Set<() => void> }>();

  constructor(options: { store: Store; clock: Clock; pollIntervalMs: number }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#pollIntervalMs = options.pollIntervalMs;
  }

  /** The run's events after `afterSeq` (at most `limit`); one store read for every identical request in flight. */
  events(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
    return shared(this.#reads, `${runId}\n${afterSeq}\n${limit}`, () => this.#store.getRunEvents(runId, { afterSeq, limit }));
  }

  /** The run; one store read for every request of it in flight. */
  run(runId: string): Promise<RunRecord | null> {
    return shared(this.#runReads, runId, () => this.#store.getRun(runId));
  }

  /**
   * Calls `wake` at the run's next poll tick, which every watcher of the run shares (the first
   * waiter starts it, one poll interval away). Returns the function that stops waiting.
   */
  onTick(runId: string, wake: () => void): () => void {
    let tick = this.#ticks.get(runId);
    if (!tick) {
      const waiters = new Set<() => void>();
      const timer = this.#clock.setTimeout(() => {
        this.#ticks.delete(runId);
        for (const waiter of waiters) waiter();
      }, this.#pollIntervalMs);
      tick = { timer, waiters };
      this.#ticks.set(runId, tick);
    }
    const current = tick;
    current.waiters.add(wake);
    return () => {
      current.waiters.delete(wake);
      if (current.waiters.size === 0 && this.#ticks.get(runId) === current) {
        current.timer.cancel();
        this.#ticks.delete(runId);
      }
    };
  }
}

function shared<T>(inFlight: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> {
  let pending = inFlight.get(key);
  if (!pending) {
    pending = read().finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}
