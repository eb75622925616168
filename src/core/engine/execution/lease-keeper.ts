/**
 * Keeps this engine's leases alive while it executes runs: about every third of the lease time it
 * renews the leases of all runs it executes, in one store call. A run whose lease could not be
 * renewed in time — or that the store says another owner holds — is stopped at once (its modules'
 * signal aborts and it writes nothing more), so no run is ever executed by two processes at once.
 *
 * Before a module is called, {@link LeaseKeeper.confirm} checks that the lease has at least
 * {@link CALL_MARGIN_SHARE} of its time left by the engine clock, renewing it first when it has
 * less: a process that was paused past its lease (a starved CPU, SIGSTOP, a VM pause) and woke up
 * with the answer of its last commit never starts a module of a run another process took over.
 * What no lease can fence is a pause *during* a call, or between the check and the call, longer
 * than what is left of the lease then (docs/operating.md, "Leases").
 */
import type { Clock, TimerHandle } from '../../clock.js';
import { ConflictError } from '../../errors.js';
import type { Store } from '../../store.js';
import type { RunExecutor } from './run-executor.js';
import type { Logger } from '../types.js';

/**
 * The share of its lease a run must have left, by the engine clock, for a module to be called;
 * with less, the lease is renewed first. The heartbeat renews every third, so only a late
 * heartbeat (a loaded or paused process) makes a call wait for a renewal.
 */
export const CALL_MARGIN_SHARE = 1 / 2;

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
  /** The renewal in flight, if any: renewals are sent one after another, so the store applies them in order. */
  #renewing: Promise<unknown> = Promise.resolve();
  /** How late the last beat's timer fired (the event loop's delay): the next beat is set that much earlier. */
  #lateMs = 0;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
  }

  /** Starts beating if it is not already (called whenever a run starts executing). */
  start(delayMs = Math.floor(this.#options.leaseMs / 3)): void {
    if (this.#timer || this.#stopped) return;
    const { clock } = this.#options;
    const dueAt = clock.now() + Math.max(10, delayMs);
    this.#timer = clock.setTimeout(() => void this.#beat(dueAt), dueAt - clock.now(), { keepAlive: false });
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  /**
   * Whether `caller`, the executor of run `runId` here, may call a module now: true at once while at least
   * {@link CALL_MARGIN_SHARE} of its lease is left by the engine clock. Otherwise its lease is
   * renewed first, and the answer waits for the store's: true when the lease is held with that
   * margin afterwards. False when it is lost, or could not be renewed with that margin (a store or a
   * process too slow): the run is then stopped like a lost lease — nothing more is called or
   * written — and resumes from its last transition where a lease is held once this one runs out.
   * False too when `caller` is not the run's executor here (this engine claimed the run again after
   * its lease ran out): `caller` is stopped; its writes would be fenced, and it calls nothing either.
   */
  confirm(runId: string, caller: { abort(reason: ConflictError): void }): boolean | Promise<boolean> {
    const { clock, leaseMs, executing, logger } = this.#options;
    const executor = executing.get(runId);
    if (executor !== caller) {
      caller.abort(leaseLost(runId));
      return false;
    }
    if (executor.isAborted) return false;
    const marginMs = leaseMs * CALL_MARGIN_SHARE;
    if (clock.now() + marginMs < executor.leaseExpiresAt) return true;
    return this.#renew([executor]).then(
      () => {
        if (executor.isAborted) return false;
        if (clock.now() + marginMs < executor.leaseExpiresAt) return true;
        this.#stopRun(executor, `less than ${marginMs} ms of it was left before a module call`);
        return false;
      },
      (error: unknown) => {
        logger?.warn({ err: error, runId }, 'lease renewal before a module call failed');
        this.#stopRun(executor, 'it could not be renewed before a module call');
        return false;
      },
    );
  }

  #stopRun(executor: RunExecutor, why: string): void {
    if (executor.isAborted) return;
    this.#options.logger?.warn({ runId: executor.runId, owner: this.#options.owner }, `lease lost (${why}): the run stops here and resumes where its lease is held`);
    executor.abort(leaseLost(executor.runId));
    this.#options.leaseLost?.(executor.runId);
  }

  /**
   * Renews the leases of `executors` once the renewal in flight settled: sent one at a time, the
   * renewals are applied in the order they were sent, so `leaseExpiresAt` (counted from when each
   * was sent) never says more than the store holds.
   */
  #renew(executors: readonly RunExecutor[]): Promise<void> {
    const renew = async (): Promise<void> => {
      const { store, clock, owner, leaseMs, executing } = this.#options;
      const live = executors.filter((executor) => !executor.isAborted);
      if (live.length === 0) return;
      const expiresAt = clock.now() + leaseMs;
      const held = new Set(await store.renewLeases({ owner, runIds: live.map((executor) => executor.runId), expiresAt }));
      for (const executor of live) {
        if (held.has(executor.runId)) executor.leaseExpiresAt = expiresAt;
        else if (executing.get(executor.runId) === executor) this.#stopRun(executor, 'another owner holds it');
      }
    };
    const renewal = this.#renewing.then(renew, renew);
    this.#renewing = renewal.catch(() => undefined);
    return renewal;
  }

  async #beat(dueAt: number): Promise<void> {
    this.#timer = null;
    const { clock, leaseMs, executing, logger } = this.#options;
    const now = clock.now();
    this.#lateMs = Math.max(0, now - dueAt);
    // A lease that ran out before it was renewed may be another process's by now.
    for (const executor of executing.values()) if (executor.leaseExpiresAt <= now) this.#stopRun(executor, 'it was not renewed in time');
    const live = [...executing.values()].filter((executor) => !executor.isAborted);
    if (live.length === 0) return;
    try {
      await this.#renew(live);
    } catch (error) {
      logger?.warn({ err: error }, 'lease renewal failed; runs stop if their leases run out');
    } finally {
      // A third of the lease after this beat began, earlier by how late its timer fired and by how
      // long the renewal took: a process whose loop runs late still renews about every third.
      this.start(now + Math.floor(leaseMs / 3) - this.#lateMs - clock.now());
    }
  }
}

/** The reason a run stops where its lease was lost (LEASE_LOST): the executor then returns quietly. */
export function leaseLost(runId: string, why = 'another may resume it'): ConflictError {
  return new ConflictError(`this engine lost its lease on run ${runId}; ${why}`, { code: 'LEASE_LOST', runId });
}
