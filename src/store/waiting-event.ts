/**
 * The rule every store applies to the event name a run waits for (`Store.listEventWaiters`): the
 * SQL stores keep it in the run's row (`waiting_event`, under a partial index) and write it in
 * the same statement as the transition that changes the run's state, so publishing an event reads
 * the runs waiting for that name and no other run. One function here decides it, so the three
 * stores, and the migrations that fill the column for runs already waiting, cannot disagree.
 */
import { isTerminalStatus, type Suspension } from '../core/run.js';
import { AWAITING_APPROVAL, type RunPatch } from '../core/store.js';

/**
 * The event name a run with this suspension waits for: an event WAIT nothing has resumed yet (no
 * `decision`), or {@link AWAITING_APPROVAL} for an approval nobody decided yet; otherwise null.
 */
export function awaitedEvent(suspension: Suspension | undefined): string | null {
  if (suspension?.decision !== undefined) return null;
  if (suspension?.kind === 'approval') return AWAITING_APPROVAL;
  return suspension?.kind === 'event' && typeof suspension.event === 'string' ? suspension.event : null;
}

/**
 * The run's waiting event after a transition with this patch: null once the run ends (an ended
 * run waits for nothing, and leaves the index), the event its new state's suspension awaits when
 * the patch replaces the state, and `undefined` — left as it is — otherwise.
 */
export function waitingEventAfter(patch: RunPatch): string | null | undefined {
  if (patch.status !== undefined && isTerminalStatus(patch.status)) return null;
  if (patch.state !== undefined) return awaitedEvent(patch.state.suspension);
  return undefined;
}
