/**
 * What a PostgreSQL store's change notifications carry to its subscribers. Kept apart from the
 * LISTEN connection (notification-listener.ts) so the store's public declarations need no `pg` types.
 */
import type { TransientChange } from '../../core/store.js';

/** A change of a run: it was created, recorded a transition, was woken, canceled or updated — or, with `transient`, a transient item change. */
export interface RunNotification {
  runId: string;
  /** The run's `lastSeq` after the change: read events after what you have, up to this. */
  lastSeq: number;
  transient?: TransientChange;
}

/** Receives run notifications; what it throws is swallowed so it can never break the store. */
export type RunNotificationListener = (notification: RunNotification) => void;
