/**
 * Transient changes (items that are never persisted, output snapshots) sent on to watchers in
 * other processes through the store, when it can carry them (PostgreSQL NOTIFY): best effort, a
 * change that cannot be sent is dropped (logged at debug), never retried.
 */
import type { RunEventBody } from '../../run.js';
import type { Store } from '../../store.js';
import type { LiveRunRef } from '../engine-core.js';
import type { Logger } from '../types.js';

/** Sends the transient changes of a committed transition (after its `events`) through `store`, if it carries them. */
export function relayTransients(deps: { store: Store; origin: string; logger: Logger | undefined }, run: LiveRunRef, events: readonly RunEventBody[], transients: readonly { afterIndex: number; body: RunEventBody }[]): void {
  const { store } = deps;
  if (transients.length === 0 || !store.publishTransient) return;
  const first = run.lastSeq - events.length + 1;
  for (const t of transients) {
    store
      .publishTransient({ runId: run.runId, afterSeq: first + t.afterIndex - 1, origin: deps.origin, event: t.body })
      .catch((error: unknown) => deps.logger?.debug({ err: error, runId: run.runId }, 'transient change not sent'));
  }
}
