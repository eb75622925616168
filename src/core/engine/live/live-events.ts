/**
 * In-process fan-out of a run's live events (persisted ones after they committed, and transient
 * item changes) to listeners such as `onItem`, `watchRun` and SSE streams. A listener that throws
 * is logged and skipped; it never breaks the run or the other listeners.
 *
 * The `engine/live/` room: watching runs as they happen — in-process fan-out (this file), `watchRun`
 * across processes (run-watcher.ts, watch-reads.ts), `waitForRun` (run-waiters.ts), callee outputs
 * streamed to callers (output-streams.ts) and to `runAction`'s `onOutput` (output-follower.ts), and
 * the snapshot throttle they share. It may import core, the engine's contracts, start/ and calls/
 * (return mappings of streamed outputs); it never changes a run.
 */
import type { RunEventBody } from '../../run.js';
import type { LiveRunRef } from '../engine-core.js';
import type { Logger, LiveRunEvent } from '../types.js';

/** A listener of live run events. */
export type LiveListener = (event: LiveRunEvent) => void;

/** Listeners keyed by run id or by root run id (a run and its synchronous children). */
export class LiveEvents {
  readonly #byRun = new Map<string, Set<LiveListener>>();
  readonly #byRoot = new Map<string, Set<LiveListener>>();
  readonly #all = new Set<LiveListener>();
  readonly #logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.#logger = logger;
  }

  /** Listens to one run's events; returns the function that stops listening. */
  onRun(runId: string, listener: LiveListener): () => void {
    return add(this.#byRun, runId, listener);
  }

  /** Listens to the events of every run in a call tree (the root and its synchronous children). */
  onTree(rootRunId: string, listener: LiveListener): () => void {
    return add(this.#byRoot, rootRunId, listener);
  }

  /** Listens to the events of every run this engine executes. */
  onAll(listener: LiveListener): () => void {
    this.#all.add(listener);
    return () => void this.#all.delete(listener);
  }

  /** True when somebody listens to this run or its tree (lets the engine skip building events). */
  hasListeners(runId: string, rootRunId: string): boolean {
    return this.#all.size > 0 || this.#byRun.has(runId) || this.#byRoot.has(rootRunId);
  }

  /**
   * Publishes the events of a committed transition with their sequence numbers, and the transient
   * item changes queued behind them in their place, so listeners see changes in the order they happened.
   */
  publishCommitted(run: LiveRunRef, events: RunEventBody[], transients: { afterIndex: number; body: RunEventBody }[], time: number): void {
    if ((events.length === 0 && transients.length === 0) || !this.hasListeners(run.runId, run.rootRunId)) return;
    const first = run.lastSeq - events.length + 1;
    let t = 0;
    for (let i = 0; i <= events.length; i++) {
      // Transient changes queued behind the first i persisted events come right after them.
      for (; t < transients.length && transients[t]!.afterIndex <= i; t++) {
        this.publish({ ...transients[t]!.body, runId: run.runId, seq: first + i - 1, time, transient: true } as LiveRunEvent, run.rootRunId);
      }
      if (i < events.length) this.publish({ ...events[i]!, runId: run.runId, seq: first + i, time } as LiveRunEvent, run.rootRunId);
    }
  }

  publish(event: LiveRunEvent, rootRunId: string): void {
    this.#deliver(this.#byRun.get(event.runId), event);
    this.#deliver(this.#byRoot.get(rootRunId), event);
    if (this.#all.size > 0) this.#deliver(this.#all, event);
  }

  #deliver(listeners: Set<LiveListener> | undefined, event: LiveRunEvent): void {
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#logger?.warn({ err: error, runId: event.runId }, 'a run event listener threw; the run goes on');
      }
    }
  }
}

function add(map: Map<string, Set<LiveListener>>, key: string, listener: LiveListener): () => void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0 && map.get(key) === set) map.delete(key);
  };
}
