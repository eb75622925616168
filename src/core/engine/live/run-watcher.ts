/**
 * Watching a run's events as they happen, from this process or another one over the same store:
 * persisted events are read from the store in sequence order (so a watcher that reconnects with
 * `afterSeq` loses and repeats nothing), and anything that may mean "new events" — a local commit,
 * a store notification, or the poll timer — triggers the next read. Transient item changes made
 * in this process are delivered in their place between persisted events.
 */
import type { Clock } from '../../clock.js';
import { NotFoundError } from '../../errors.js';
import { isTerminalStatus } from '../../run.js';
import type { Store, StoreChange } from '../../store.js';
import type { LiveListener } from './live-events.js';
import type { LiveRunEvent, Logger } from '../types.js';
import type { WatchReads } from './watch-reads.js';

/** What a watcher needs from the engine. */
export interface RunWatchDeps {
  store: Store;
  clock: Clock;
  pollIntervalMs: number;
  /** Local live events of one run; returns the unsubscribe function. */
  onRun(runId: string, listener: LiveListener): () => void;
  /** Store change notifications (any run); returns the unsubscribe function. */
  onStoreChange(listener: (change: StoreChange) => void): () => void;
  /** This engine's name: transient changes it sent itself arrive through `onRun` already. */
  origin: string;
  /** Reads and poll ticks shared with the engine's other watchers of the same run. */
  reads: WatchReads;
}

const PAGE = 500;

/**
 * Yields the run's events after `afterSeq` in order, transient ones included, and returns after
 * the event with its terminal status. Throws RUN_NOT_FOUND for an unknown run. Stops early, without
 * error, when `signal` aborts.
 */
export async function* watchRunEvents(deps: RunWatchDeps, runId: string, options: { afterSeq?: number; signal?: AbortSignal } = {}): AsyncGenerator<LiveRunEvent> {
  if (!(await deps.reads.run(runId))) throw new NotFoundError('RUN_NOT_FOUND', `run "${runId}" does not exist`, { runId });
  let seq = options.afterSeq ?? 0;
  let poked = false;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    poked = true;
    wake?.();
  };
  const transients: LiveRunEvent[] = [];
  const stopLive = deps.onRun(runId, (event) => {
    if (event.transient) transients.push(event);
    poke();
  });
  const stopStore = deps.onStoreChange((change) => {
    if (change.runId !== runId && change.runId !== '*') return;
    const t = change.transient;
    if (t && t.origin !== deps.origin) transients.push({ ...t.event, runId, seq: t.afterSeq, time: deps.clock.now(), transient: true } as LiveRunEvent);
    poke();
  });
  const onAbort = (): void => poke();
  options.signal?.addEventListener('abort', onAbort);
  try {
    for (;;) {
      if (options.signal?.aborted) return;
      poked = false;
      const events = await deps.reads.events(runId, seq, PAGE);
      for (const event of events) {
        yield* takeTransients(transients, event.seq - 1);
        yield event;
        seq = event.seq;
        if (event.kind === 'status' && isTerminalStatus(event.status)) return;
      }
      yield* takeTransients(transients, seq);
      if (events.length === PAGE || poked) continue;
      if (events.length === 0) {
        const run = await deps.reads.run(runId);
        // Deleted by retention, or ended without a terminal event past our position: nothing more will come.
        if (!run || (isTerminalStatus(run.status) && run.lastSeq <= seq)) return;
      }
      await new Promise<void>((resolve) => {
        let stopTick: (() => void) | null = null;
        wake = () => {
          stopTick?.();
          wake = null;
          resolve();
        };
        if (poked || options.signal?.aborted) wake();
        else stopTick = deps.reads.onTick(runId, () => wake?.());
      });
    }
  } finally {
    stopLive();
    stopStore();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** Removes and returns the transient events that happened at or before persisted event `seq`. */
function* takeTransients(queue: LiveRunEvent[], seq: number): Generator<LiveRunEvent> {
  while (queue.length > 0 && queue[0]!.seq <= seq) yield queue.shift()!;
}

/**
 * One subscription to the store's change notifications, shared by every watcher and the poller
 * of an engine; opened on first use. Without notifications (memory store) listeners just never fire.
 */
export class StoreChanges {
  readonly #listeners = new Set<(change: StoreChange) => void>();
  readonly #store: Store;
  readonly #logger: Logger | undefined;
  #subscription: Promise<(() => Promise<void>) | null> | null = null;

  constructor(store: Store, logger?: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  listen(listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#subscription && this.#store.subscribe) {
      this.#subscription = this.#store
        .subscribe((change) => {
          for (const l of [...this.#listeners]) l(change);
        })
        .catch((error: unknown) => {
          this.#logger?.warn({ err: error }, 'store notifications unavailable; watchers poll');
          return null;
        });
    }
    return () => void this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    const unsubscribe = await this.#subscription;
    await unsubscribe?.();
  }
}
