/**
 * The engine's watches: one store subscription, shared reads and poll ticks, and the slots of
 * watches waiting for their run to appear — everything `engine.watchRun` composes (run-watcher.ts
 * does the watching itself).
 */
import type { Budgets } from '../../budgets.js';
import type { Clock } from '../../clock.js';
import type { Store, StoreChange } from '../../store.js';
import type { LiveRunEvent, Logger } from '../types.js';
import type { LiveListener } from './live-events.js';
import { PendingWatches } from './pending-watches.js';
import { StoreChanges, watchRunEvents, type WatchRunEventsOptions } from './run-watcher.js';
import { WatchReads } from './watch-reads.js';

/** What {@link RunWatching} needs from the engine. */
export interface RunWatchingOptions<P> {
  store: Store;
  clock: Clock;
  logger: Logger | undefined;
  pollIntervalMs: number;
  budgets: Pick<Budgets, 'maxWatchWaitMs' | 'maxPendingWatchesPerPrincipal' | 'maxPendingWatches'>;
  /** The engine's name in transient changes it sends. */
  origin: string;
  onRun(runId: string, listener: LiveListener): () => void;
  /** Whether `as` may read the run (it exists, for a trusted call). */
  isReadable(runId: string, as: P | undefined): Promise<boolean>;
  /** The id whose slots a waiting watch of `as` takes. */
  principalId(as: P): string;
}

/** Watches of one engine. */
export class RunWatching<P> {
  readonly #options: RunWatchingOptions<P>;
  readonly #changes: StoreChanges;
  readonly #reads: WatchReads;
  readonly #pending: PendingWatches;
  #closed = false;

  constructor(options: RunWatchingOptions<P>) {
    this.#options = options;
    this.#changes = new StoreChanges(options.store, options.logger);
    this.#reads = new WatchReads({ store: options.store, clock: options.clock, pollIntervalMs: options.pollIntervalMs });
    this.#pending = new PendingWatches({ maxPerPrincipal: options.budgets.maxPendingWatchesPerPrincipal, max: options.budgets.maxPendingWatches });
  }

  /** Listens to the store's change notifications (opened on first use); nothing after {@link close}. */
  onStoreChange(listener: (change: StoreChange) => void): () => void {
    return this.#closed ? () => undefined : this.#changes.listen(listener);
  }

  /** See `Engine.watchRun`. */
  watch(runId: string, options: WatchRunEventsOptions & { as?: P }): AsyncGenerator<LiveRunEvent> {
    const o = this.#options;
    const { as, ...watchOptions } = options;
    return watchRunEvents(
      {
        store: o.store,
        clock: o.clock,
        pollIntervalMs: o.pollIntervalMs,
        onRun: o.onRun,
        onStoreChange: (listener) => this.onStoreChange(listener),
        listening: () => this.#changes.listening(),
        origin: o.origin,
        reads: this.#reads,
        // A missing run costs one shared read of the store, however many watches wait for it.
        readable: async (id) => (await this.#reads.run(id)) !== null && (as === undefined || (await o.isReadable(id, as))),
        maxWaitMs: o.budgets.maxWatchWaitMs,
        pending: this.#pending,
        principal: as === undefined ? null : o.principalId(as),
      },
      runId,
      watchOptions,
    );
  }

  /** Closes the store subscription. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#changes.close();
  }
}
