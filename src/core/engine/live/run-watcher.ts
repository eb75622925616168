/**
 * Watching a run's events as they happen, from this process or another one over the same store:
 * persisted events are read from the store in sequence order (so a watcher that reconnects with
 * `afterSeq` loses and repeats nothing), and anything that may mean "new events" — a local commit,
 * a store notification, or the poll timer — triggers the next read. Transient item changes — made
 * in this process, or sent by another one through the store (`publishTransient`) — are delivered
 * in their place between persisted events.
 */
import type { Clock } from '../../clock.js';
import { NotFoundError } from '../../errors.js';
import { isTerminalStatus } from '../../run.js';
import type { Store, StoreChange } from '../../store.js';
import type { LiveListener } from './live-events.js';
import type { LiveRunEvent, Logger } from '../types.js';
import type { WatchReads } from './watch-reads.js';
import type { PendingWatches } from './pending-watches.js';

/** What a watcher needs from the engine. */
export interface RunWatchDeps {
  store: Store;
  clock: Clock;
  pollIntervalMs: number;
  /** Local live events of one run; returns the unsubscribe function. */
  onRun(runId: string, listener: LiveListener): () => void;
  /** Store change notifications (any run); returns the unsubscribe function. */
  onStoreChange(listener: (change: StoreChange) => void): () => void;
  /** Resolves once store notifications reach `onStoreChange` listeners (or are known to be unavailable). */
  listening(): Promise<void>;
  /** This engine's name: transient changes it sent itself arrive through `onRun` already. */
  origin: string;
  /** Reads and poll ticks shared with the engine's other watchers of the same run. */
  reads: WatchReads;
  /** Whether the watcher may read the run: false for a missing and an invisible run alike. */
  readable(runId: string): Promise<boolean>;
  /** Longest the watch waits for a run that is not there (or not readable) yet: `maxWatchWaitMs`. */
  maxWaitMs: number;
  /** The slots of waiting watches, and whose slot this watch takes (null: a trusted caller's). */
  pending: PendingWatches;
  principal: string | null;
}

/** Options of one watch. */
export interface WatchRunEventsOptions {
  afterSeq?: number;
  signal?: AbortSignal;
  /**
   * Called once the run is there and readable and the watch listens to it: from then on every
   * transient change it makes reaches this watch (the HTTP stream answers 200 at this point).
   */
  onAttached?: () => void;
}

const PAGE = 500;
/** Transient changes kept for a watch that has not caught up with them (or waits for its run): the oldest go first. */
const MAX_QUEUED_TRANSIENTS = 10_000;

/**
 * Yields the run's events after `afterSeq` in order, transient ones included, and returns after
 * the event with its terminal status. A run that is not recorded yet (a job that starts it
 * fire-and-forget with its own requestId is still on its way) is waited for, up to
 * `maxWaitMs`; then the watch throws RUN_NOT_FOUND — and so it does, after the same wait, for a
 * run the watcher may not read, so the answer tells nothing about it. While it waits it takes a
 * slot of `pending` (LIMIT_EXCEEDED when there is none). Transient changes the run makes from the
 * moment the watch starts are kept (up to {@link MAX_QUEUED_TRANSIENTS}) and yielded in their
 * place. Stops early, without error, when `signal` aborts.
 */
export async function* watchRunEvents(deps: RunWatchDeps, runId: string, options: WatchRunEventsOptions = {}): AsyncGenerator<LiveRunEvent> {
  let seq = options.afterSeq ?? 0;
  let poked = false;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    poked = true;
    wake?.();
  };
  const transients: LiveRunEvent[] = [];
  const queue = (event: LiveRunEvent): void => {
    if (transients.push(event) > MAX_QUEUED_TRANSIENTS) transients.shift();
  };
  // Listening starts before the run is looked up, so nothing it emits once found is missed.
  const stopLive = deps.onRun(runId, (event) => {
    if (event.transient) queue(event);
    poke();
  });
  const stopStore = deps.onStoreChange((change) => {
    if (change.runId !== runId && change.runId !== '*') return;
    const t = change.transient;
    if (t && t.origin !== deps.origin) queue({ ...t.event, runId, seq: t.afterSeq, time: deps.clock.now(), transient: true } as LiveRunEvent);
    poke();
  });
  const onAbort = (): void => poke();
  options.signal?.addEventListener('abort', onAbort);
  /** Waits for a poke, the run's poll tick, or `timeoutMs`. */
  const pause = (timeoutMs?: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const stops: (() => void)[] = [];
      wake = () => {
        for (const stop of stops) stop();
        wake = null;
        resolve();
      };
      if (poked || options.signal?.aborted) return wake();
      stops.push(deps.reads.onTick(runId, () => wake?.()));
      if (timeoutMs !== undefined) {
        const timer = deps.clock.setTimeout(() => wake?.(), timeoutMs);
        stops.push(() => timer.cancel());
      }
    });
  try {
    await deps.listening();
    if (!(await deps.readable(runId))) {
      if (!(await waitToAppear(deps, runId, options.signal, pause, () => (poked = false)))) return;
    }
    options.onAttached?.();
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
      await pause();
    }
  } finally {
    stopLive();
    stopStore();
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Waits, holding a slot of `pending`, until the run is readable (true), `signal` aborts (false),
 * or `maxWaitMs` passed (throws RUN_NOT_FOUND). Missing and invisible runs wait alike.
 */
async function waitToAppear(deps: RunWatchDeps, runId: string, signal: AbortSignal | undefined, pause: (timeoutMs?: number) => Promise<void>, unpoke: () => void): Promise<boolean> {
  const notFound = (): NotFoundError => new NotFoundError('RUN_NOT_FOUND', `run "${runId}" does not exist`, { runId });
  if (deps.maxWaitMs <= 0) throw notFound();
  const release = deps.pending.take(deps.principal);
  try {
    const deadline = deps.clock.now() + deps.maxWaitMs;
    for (;;) {
      const left = deadline - deps.clock.now();
      if (left <= 0) throw notFound();
      await pause(left);
      if (signal?.aborted) return false;
      unpoke();
      if (await deps.readable(runId)) return true;
    }
  } finally {
    release();
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

  /** Resolves once the store's subscription (opened by the first `listen`) delivers changes, or failed; at once without one. */
  async listening(): Promise<void> {
    await this.#subscription;
  }

  async close(): Promise<void> {
    this.#listeners.clear();
    const unsubscribe = await this.#subscription;
    await unsubscribe?.();
  }
}
