/**
 * Resuming INACTIVE runs. Whoever resumes one — an approver, an event's publisher, the poller
 * when a WAIT timer is due, in any process — first claims it (`claimRun`/`claimRuns` with
 * status INACTIVE: one claimer wins), then records one transition: the suspension's decision in
 * the run's state, a log entry, the run ACTIVE again. The step it waited at reads the decision
 * when it runs again. A resumer that dies after its claim leaves the run INACTIVE, claimable
 * again once the lease runs out.
 */
import type { Clock } from '../../clock.js';
import type { LedgerEntry, RunEventBody, RunRecord, RunState, Suspension } from '../../run.js';
import type { ClaimedRun, Store } from '../../store.js';
import type { LiveRunRef } from '../engine-core.js';
import { describeTime, payloadMatches } from '../steps/wait-step.js';

/** What resuming needs of the engine. */
export interface ResumeDeps {
  store: Store;
  clock: Clock;
  workerId: string;
  leaseMs: number;
  published: (run: LiveRunRef, events: RunEventBody[]) => void;
  /** The run is claimable again: execute it here if there is room. */
  dispatch: (runId: string) => void;
}

/** How many waiting runs one read of the store returns. */
const WAITERS_PAGE = 500;

/** How many event ids a run remembers having been woken by (a duplicate publish wakes nothing). */
const RECEIVED_EVENT_IDS_KEPT = 100;

/**
 * Records the transition that resumes a claimed INACTIVE run: `decided` becomes its suspension,
 * `state` changes merge into its state. With `keepLease` the caller goes on executing it under
 * the same lease; otherwise the lease is given back and the run dispatched.
 */
export async function resumeSuspended(
  deps: ResumeDeps,
  claimed: ClaimedRun,
  change: { decided: Suspension; log: { code: string; description: string; details: Record<string, unknown> }; ledger?: LedgerEntry; state?: Partial<RunState>; keepLease?: boolean },
): Promise<RunRecord> {
  const at = deps.clock.now();
  const state: RunState = { ...claimed.run.state, ...change.state, suspension: change.decided };
  const events: RunEventBody[] = [
    ...(change.ledger ? [{ kind: 'ledger' as const, entry: change.ledger }] : []),
    { kind: 'log', entry: { time: at, ...change.log } },
    { kind: 'status', status: 'ACTIVE' },
  ];
  const recorded = await deps.store.recordTransition({
    runId: claimed.run.runId,
    lease: { owner: claimed.lease.owner, fencingToken: claimed.lease.fencingToken },
    expectedVersion: claimed.run.version,
    at,
    patch: { status: 'ACTIVE', state, readyAt: at },
    events,
    ...(change.keepLease ? {} : { releaseLease: true }),
  });
  deps.published(recorded, events);
  if (!change.keepLease) deps.dispatch(recorded.runId);
  // The transition hands back neither the input nor (but for the object given) the state.
  return { ...recorded, input: claimed.run.input, state };
}

/** Gives back a claim that turned out not to be needed (the run was resumed and suspended anew meanwhile). */
export async function releaseClaim(deps: Pick<ResumeDeps, 'store' | 'clock'>, claimed: ClaimedRun, patch: { readyAt?: number | null } = {}): Promise<void> {
  await deps.store.recordTransition({
    runId: claimed.run.runId,
    lease: { owner: claimed.lease.owner, fencingToken: claimed.lease.fencingToken },
    expectedVersion: claimed.run.version,
    at: deps.clock.now(),
    patch,
    releaseLease: true,
  });
}

/**
 * Resumes a run the poller claimed because its `readyAt` is due: a WAIT timer elapsed, or an
 * event wait timed out. Resolves to the record to execute under the claim's lease, or null when
 * the run had nothing due (its claim is given back).
 */
export async function resumeDue(deps: ResumeDeps, claimed: ClaimedRun): Promise<RunRecord | null> {
  const s = claimed.run.state.suspension;
  const now = deps.clock.now();
  const deadline = claimed.run.deadline;
  if (s && deadline !== null && deadline <= now) {
    // Past the run's own timeout: resumed as it is, the executor ends it FAILED / TIMEOUT.
    return resumeSuspended(deps, claimed, { decided: s, log: { code: 'WaitTimedOut', description: `the run passed its deadline while waiting at step ${s.stepId}`, details: { stepId: s.stepId } }, keepLease: true });
  }
  if (!s || s.decision !== undefined || s.until === undefined || s.until > now) {
    const next = [s?.decision === undefined ? s?.until : undefined, deadline].filter((t): t is number => t !== undefined && t !== null);
    await releaseClaim(deps, claimed, { readyAt: next.length ? Math.min(...next) : null });
    return null;
  }
  const description = s.kind === 'timer' ? `step ${s.stepId} waited until ${describeTime(s.until)}` : `step ${s.stepId} stopped waiting for event ${s.event}: timed out`;
  return resumeSuspended(deps, claimed, { decided: { ...s, decision: 'elapsed' }, log: { code: 'WaitElapsed', description, details: { stepId: s.stepId, kind: s.kind } }, keepLease: true });
}

/** True when the run waits (INACTIVE, at an event WAIT) for this event and has not seen its id. */
export function waitsForEvent(run: RunRecord, name: string, eventId: string, payload: unknown): boolean {
  const s = run.state.suspension;
  return (
    run.status === 'INACTIVE' &&
    s?.kind === 'event' &&
    s.decision === undefined &&
    s.event === name &&
    !(run.state.receivedEventIds ?? []).includes(eventId) &&
    payloadMatches(s.match, payload)
  );
}

/**
 * Wakes every run waiting for this event that `admit` lets it resume (one claim each; a run
 * another process is resuming is left to it). A run `admit` refuses is left waiting, unclaimed.
 * Resolves to the ids of the runs woken here.
 */
export async function wakeEventWaiters(
  deps: ResumeDeps,
  event: { name: string; eventId: string; payload: unknown; publishedBy: string | null; admit: (run: RunRecord) => Promise<boolean> },
): Promise<string[]> {
  const { name, eventId, payload } = event;
  const woken: string[] = [];
  let after: string | undefined;
  // The store reads only the runs waiting for this name (an index), however many wait on others.
  for (;;) {
    const page = await deps.store.listEventWaiters({ event: name, limit: WAITERS_PAGE, ...(after === undefined ? {} : { after }) });
    for (const candidate of page) {
      if (!waitsForEvent(candidate, name, eventId, payload)) continue;
      if (!(await event.admit(candidate))) continue;
      const now = deps.clock.now();
      const claimed = await deps.store.claimRun({ runId: candidate.runId, owner: deps.workerId, now, leaseExpiresAt: now + deps.leaseMs, status: 'INACTIVE' });
      if (!claimed) continue;
      if (!waitsForEvent(claimed.run, name, eventId, payload)) {
        await releaseClaim(deps, claimed);
        continue;
      }
      const s = claimed.run.state.suspension!;
      const received = [...(claimed.run.state.receivedEventIds ?? []), eventId].slice(-RECEIVED_EVENT_IDS_KEPT);
      await resumeSuspended(deps, claimed, {
        decided: { ...s, decision: 'received', eventId, payload: payload ?? null },
        log: { code: 'EventReceived', description: `step ${s.stepId} received event ${name} (${eventId})`, details: { stepId: s.stepId, event: name, eventId, publishedBy: event.publishedBy } },
        state: { receivedEventIds: received },
      });
      woken.push(candidate.runId);
    }
    if (page.length < WAITERS_PAGE) return woken;
    after = page.at(-1)!.runId;
  }
}
