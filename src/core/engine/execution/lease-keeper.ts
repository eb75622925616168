/**
 * Keeps this engine's leases alive while it executes runs: every third of the lease time it
 * renews the leases of all runs it executes, in one store call. A run whose lease could not be
 * renewed in time — or that the store says another owner holds — is stopped at once (its modules'
 * signal aborts and it writes nothing more), so no run is ever executed by two processes at once.
 */
import type { Clock, TimerHandle } from '../../clock.js';
import { ConflictError } from '../../errors.js';
import type { Store } from '../../store.js';
import type { RunExecutor } from './run-executor.js';
import type { Logger } from '../types.js';

/** Options of {@link LeaseKeeper}. */
export interface LeaseKeeperOptions {
  store: Store;
  clock: Clock;
  owner: string;
  leaseMs: number;
  /** The engine's executing runs (read on every beat). */
  executing: ReadonlyMap<string, RunExecutor>;
  logger?: Logger;
  /** Told of every run stopped here because its lease was lost. */
  leaseLost?: (runId: string) => void;
}

/** The heartbeat of an engine's leases. */
export class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  #timer: TimerHandle | null = null;
  #stopped = false;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
  }

  /** Starts beating if it is not already (called whenever a run starts executing). */
  start(): void {
    if (this.#timer || this.#stopped) return;
    const { clock, leaseMs } = this.#options;
    this.#timer = clock.setTimeout(() => void this.#beat(), Math.max(10, Math.floor(leaseMs / 3)), { keepAlive: false });
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  #stopRun(executor: RunExecutor, why: string): void {
    if (executor.signal.aborted) return;
    this.#options.logger?.warn({ runId: executor.runId, owner: this.#options.owner }, `lease lost (${why}): the run stops here and resumes where its lease is held`);
    executor.abort(leaseLost(executor.runId));
    this.#options.leaseLost?.(executor.runId);
  }

  async #beat(): Promise<void> {
    this.#timer = null;
    const { store, clock, owner, leaseMs, executing, logger } = this.#options;
    const now = clock.now();
    // A lease that ran out before it was renewed may be another process's by now.
    for (const executor of executing.values()) if (executor.leaseExpiresAt <= now) this.#stopRun(executor, 'it was not renewed in time');
    const live = [...executing.values()].filter((executor) => !executor.signal.aborted);
    if (live.length === 0) return;
    const expiresAt = now + leaseMs;
    try {
      const held = new Set(await store.renewLeases({ owner, runIds: live.map((executor) => executor.runId), expiresAt }));
      for (const executor of live) {
        if (held.has(executor.runId)) executor.leaseExpiresAt = expiresAt;
        else if (executing.get(executor.runId) === executor) this.#stopRun(executor, 'another owner holds it');
      }
    } catch (error) {
      logger?.warn({ err: error }, 'lease renewal failed; runs stop if their leases run out');
    } finally {
      this.start();
    }
  }
}

function leaseLost(runId: string): ConflictError {
  return new ConflictError(`this engine lost its lease on run ${runId}; another may resume it`, { code: 'LEASE_LOST', runId });
}
