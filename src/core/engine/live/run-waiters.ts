/**
 * Waiting for runs to end. A run that ends in this engine resolves its waiters at once; a run
 * executed by another process over the same store is noticed by polling the store, so waiting
 * works across processes too.
 */
import type { Clock, TimerHandle } from '../../clock.js';
import { CanceledError, FlowError, NotFoundError, TimeoutError } from '../../errors.js';
import { isTerminalStatus, type RunRecord } from '../../run.js';
import type { Store } from '../../store.js';
import { cloneJson } from '../../json.js';
import { RecentMap } from '../../recent-map.js';

/** Most runs that ended here are remembered (see {@link RunWaiters.endedRun}); at least half as many. */
const RECENTLY_ENDED = 4096;

/** Waiters on run ends. */
export class RunWaiters {
  readonly #waiters = new Map<string, Set<(run: RunRecord) => void>>();
  readonly #ended = new RecentMap<string, RunRecord>(RECENTLY_ENDED);
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #pollIntervalMs: number;
  readonly #isRunningHere: (runId: string) => boolean;

  /** `isRunningHere`: the run is executing (or queued) in this engine, which will notify its end. */
  constructor(options: { store: Store; clock: Clock; pollIntervalMs: number; isRunningHere: (runId: string) => boolean }) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#isRunningHere = options.isRunningHere;
  }

  /** A run ended in this engine: resolve whoever waits for it, and remember the record. */
  notify(run: RunRecord): void {
    this.#ended.set(run.runId, run);
    const waiters = this.#waiters.get(run.runId);
    if (waiters) for (const resolve of [...waiters]) resolve(cloneJson(run));
  }

  /**
   * A copy of the record of a run that recently ended in this engine, as it ended. An ended run
   * never changes again except its label and tags (see {@link forget}), so a parent resuming after
   * its child, or a caller waiting for a run that just ended here, need not read it back.
   */
  endedRun(runId: string): RunRecord | undefined {
    const run = this.#ended.get(runId);
    return run && cloneJson(run);
  }

  /** True when the run recently ended in this engine. */
  endedHere(runId: string): boolean {
    return this.#ended.has(runId);
  }

  /** The run changed after it ended (label, tags) or is gone: read it from the store again. */
  forget(runId: string): void {
    this.#ended.delete(runId);
  }

  /**
   * Resolves with the run once it has ended. Rejects with TIMEOUT after `timeoutMs` (the run goes
   * on), CANCELED when `signal` aborts, RUN_NOT_FOUND for an unknown id.
   */
  async wait(runId: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RunRecord> {
    const known = this.endedRun(runId);
    if (known) return known;
    const cleanup: (() => void)[] = [];
    // Register before reading the store, so an end between the two is not missed.
    const ended = new Promise<RunRecord>((resolve) => {
      let set = this.#waiters.get(runId);
      if (!set) this.#waiters.set(runId, (set = new Set()));
      set.add(resolve);
      cleanup.push(() => {
        set.delete(resolve);
        if (set.size === 0 && this.#waiters.get(runId) === set) this.#waiters.delete(runId);
      });
    });
    const stopped = new Promise<never>((_, reject) => {
      if (options.timeoutMs !== undefined) {
        const timer = this.#clock.setTimeout(() => reject(new TimeoutError(`run ${runId} did not end within ${options.timeoutMs} ms`, { runId })), options.timeoutMs);
        cleanup.push(() => timer.cancel());
      }
      const signal = options.signal;
      if (signal) {
        const onAbort = (): void => reject(new CanceledError(`waiting for run ${runId} was aborted`, { runId }));
        if (signal.aborted) onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        cleanup.push(() => signal.removeEventListener('abort', onAbort));
      }
    });
    const polling = { active: true, timer: null as TimerHandle | null };
    cleanup.push(() => {
      polling.active = false;
      polling.timer?.cancel();
    });
    try {
      return await Promise.race([ended, stopped, this.#poll(runId, polling)]);
    } finally {
      for (const fn of cleanup) fn();
    }
  }

  async #poll(runId: string, polling: { active: boolean; timer: TimerHandle | null }): Promise<RunRecord> {
    // A run this engine executes notifies its end; the store is read only if it has not ended by
    // the first poll interval (its lease was lost to another process, say).
    let skipRead = this.#isRunningHere(runId);
    for (;;) {
      const run = skipRead
        ? undefined
        : await this.#store.getRun(runId).catch((error: unknown) => {
        // A store that is down for a moment delays the answer; it does not end the wait.
        if (error instanceof FlowError && error.code === 'STORE_ERROR') return undefined;
        throw error;
      });
      skipRead = false;
      if (run === null) throw new NotFoundError('RUN_NOT_FOUND', `run "${runId}" does not exist`, { runId });
      if (run && isTerminalStatus(run.status)) return run;
      await new Promise<void>((resolve) => {
        polling.timer = this.#clock.setTimeout(resolve, this.#pollIntervalMs, { keepAlive: false });
      });
      if (!polling.active) return new Promise<RunRecord>(() => undefined);
    }
  }
}
