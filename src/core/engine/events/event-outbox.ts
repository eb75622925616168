/**
 * Publishing what EMIT steps emitted, with nothing lost at the edges. An EMIT puts its event in
 * the run's state (`state.outbox`); the executor moves it into the transition it commits
 * (`Transition.emits`), so the store keeps it in its outbox atomically with the step that emitted
 * it — also when that transition ends the run. Once the commit returns, {@link EmitOutbox.publish}
 * publishes it and removes it from the store's outbox. If the process dies in between (or
 * publishing fails), the event stays there, and {@link EmitOutbox.sweep} — run by the poller of
 * every engine over the store — publishes it once it is older than the grace period.
 *
 * Delivery is at least once with a stable event id (fixed per step visit): two engines sweeping
 * at once, or a sweep racing a slow publish, publish the same id twice, and publishing is
 * idempotent per event id — subscribers start once (their run ids derive from it) and a waiting
 * run remembers the ids that woke it.
 */
import type { Clock } from '../../clock.js';
import type { RunState } from '../../run.js';
import type { EmittedEvent, Store } from '../../store.js';
import type { Logger } from '../types.js';

/**
 * An emitted event and the run whose transition recorded it. `publishedBy`: the principal it is
 * published as — the run's (`runAs ?? createdBy`), so an EMIT starts and wakes only what that
 * principal's own publish would (DESIGN.md §6). `treeId`: the run's tree, which the runs the event
 * starts join, so a flow subscribed to what it emits is bounded by `maxRunsPerTree`. A sweep,
 * which has only the run id, looks both up.
 */
export type RunEmit = EmittedEvent & { runId: string; treeId?: string; publishedBy?: string };

/** What the outbox needs of the engine. */
export interface EmitOutboxDeps {
  store: Store;
  clock: Clock;
  logger: Logger | undefined;
  /** Publishes an event (engine.publishEvent). */
  publishEvent: (name: string, payload: unknown, options: { eventId: string; userId: string; treeId: string }) => Promise<unknown>;
  /** How old an outbox entry must be before a sweep publishes it (the live path had its chance). */
  graceMs: number;
}

/**
 * Takes the events EMIT steps put in the run's state since the last commit, for the transition
 * about to be committed (`Transition.emits`): the state written with it no longer holds them.
 */
export function takeEmits(state: RunState): EmittedEvent[] {
  const emits = state.outbox ?? [];
  delete state.outbox;
  return emits;
}

/** Most outbox entries one sweep publishes; the next poll takes the rest. */
const SWEEP_LIMIT = 100;

/** One engine's publisher of emitted events: right after their commit, and by sweeping the store's outbox. */
export class EmitOutbox {
  readonly #deps: EmitOutboxDeps;
  /** Event ids this engine is publishing now, so a sweep does not start them again meanwhile. */
  readonly #publishing = new Set<string>();
  /** The publishes in flight, for {@link settled}. */
  readonly #inFlight = new Set<Promise<boolean>>();

  constructor(deps: EmitOutboxDeps) {
    this.#deps = deps;
  }

  /**
   * Publishes the events a committed transition emitted, each then removed from the store's
   * outbox. Never throws or rejects: an event not published stays in the outbox for a sweep.
   */
  publish(emits: readonly RunEmit[]): void {
    for (const emit of emits) void this.#publishOne(emit);
  }

  /**
   * Publishes the outbox entries recorded more than the grace period ago (their process died
   * between commit and publish, or publishing failed), oldest first, up to a batch; resolves to
   * how many were published. Rejects only when the outbox cannot be read.
   */
  async sweep(): Promise<number> {
    const { store, clock, graceMs } = this.#deps;
    const pending = await store.listPendingEmits({ recordedBefore: clock.now() - graceMs, limit: SWEEP_LIMIT });
    const results = await Promise.all(pending.filter((emit) => !this.#publishing.has(emit.eventId)).map((emit) => this.#publishOne(emit)));
    return results.filter(Boolean).length;
  }

  /**
   * Publishes an EMIT as its run's principal, into its run's tree. A swept entry names only its
   * run: principal and tree are read from it; an entry whose run no longer exists (deleted by
   * retention) is dropped, logged.
   */
  async #publishAsItsRun(emit: RunEmit): Promise<void> {
    let { publishedBy: userId, treeId } = emit;
    if (userId === undefined || treeId === undefined) {
      const run = await this.#deps.store.getRun(emit.runId);
      if (!run) {
        this.#deps.logger?.warn({ runId: emit.runId, eventId: emit.eventId, event: emit.event }, 'emitted event dropped: its run no longer exists');
        return;
      }
      userId = run.runAs ?? run.createdBy;
      treeId = run.treeId;
    }
    await this.#deps.publishEvent(emit.event, emit.payload, { eventId: emit.eventId, userId, treeId });
  }

  /**
   * Resolves once every publish in flight settled, its event removed from the store's outbox or
   * left there for a sweep, or after `withinMs` (a store that does not answer), whichever comes
   * first (engine.close: a graceful close does not leave what it began publishing to another
   * process's sweep, nor hang on it). Never rejects.
   */
  async settled(withinMs: number): Promise<void> {
    if (this.#inFlight.size === 0) return;
    let timer: { cancel(): void } | undefined;
    const late = new Promise<void>((resolve) => (timer = this.#deps.clock.setTimeout(resolve, withinMs)));
    const all = (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    })();
    await Promise.race([all, late]);
    timer?.cancel();
  }

  #publishOne(emit: RunEmit): Promise<boolean> {
    if (this.#publishing.has(emit.eventId)) return Promise.resolve(false);
    const publishing = this.#publishTracked(emit);
    this.#inFlight.add(publishing);
    void publishing.finally(() => this.#inFlight.delete(publishing));
    return publishing;
  }

  async #publishTracked(emit: RunEmit): Promise<boolean> {
    this.#publishing.add(emit.eventId);
    try {
      await this.#publishAsItsRun(emit);
      await this.#deps.store.deletePendingEmits([emit.eventId]);
      return true;
    } catch (error) {
      this.#deps.logger?.warn({ err: error, runId: emit.runId, eventId: emit.eventId }, 'emitted event not published yet; the outbox sweep retries it');
      return false;
    } finally {
      this.#publishing.delete(emit.eventId);
    }
  }
}
