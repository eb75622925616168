/**
 * The retention policy: ended runs older than `days` are deleted with everything of theirs, in
 * bounded batches so one sweep never holds the store for long. Active and waiting runs are never
 * touched. Runs periodically in the background of an engine that has a `retention` option; over
 * a store with `runExclusive` (PostgreSQL), one process sweeps at a time and the others skip that
 * round, so every worker may be given the option.
 */
import type { Clock, TimerHandle } from '../../clock.js';
import type { Store } from '../../store.js';
import type { Logger } from '../types.js';

/** Options of a retention policy. */
export interface RetentionPolicy {
  /** Delete runs that ended more than this many days ago. */
  days: number;
  /** Runs deleted per batch (default 500). */
  batchSize?: number;
  /** Time between sweeps (default one hour). */
  intervalMs?: number;
}

const DAY_MS = 86_400_000;

/** Deletes every run that ended before the cutoff, batch by batch; returns how many. */
export async function sweepEndedRuns(store: Store, clock: Clock, policy: RetentionPolicy): Promise<number> {
  const endedBefore = clock.now() - policy.days * DAY_MS;
  const limit = Math.max(1, policy.batchSize ?? 500);
  let total = 0;
  for (;;) {
    const deleted = await store.deleteEndedRuns({ endedBefore, limit });
    total += deleted;
    if (deleted < limit) return total;
  }
}

/** Sweeps on a timer until stopped. */
export class RetentionSweeper {
  #timer: TimerHandle | null = null;
  #stopped = false;

  constructor(private readonly options: { store: Store; clock: Clock; policy: RetentionPolicy; logger?: Logger }) {}

  start(delayMs = 0): void {
    if (this.#stopped) return;
    this.#timer = this.options.clock.setTimeout(
      () => {
        const { store, clock, policy, logger } = this.options;
        let deleted = 0;
        const sweep = async (): Promise<void> => void (deleted = await sweepEndedRuns(store, clock, policy));
        (store.runExclusive ? store.runExclusive('retention', sweep) : sweep().then(() => true))
          .then((ran) => {
            if (!ran) logger?.debug({ days: policy.days }, 'retention: another process sweeps now; this one skips the round');
            else if (deleted > 0) logger?.info({ deleted, days: policy.days }, 'retention: deleted ended runs');
          })
          .catch((error: unknown) => this.options.logger?.warn({ err: error }, 'retention sweep failed; it runs again later'))
          .finally(() => this.start(this.options.policy.intervalMs ?? 3_600_000));
      },
      delayMs,
      { keepAlive: false },
    );
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }
}
