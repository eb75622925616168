/**
 * The event-waiter part of the store conformance suite (issue 13): `listEventWaiters` finds the
 * runs a transition left waiting at an event WAIT for that name, follows every later transition
 * of theirs (resumed, re-aimed, ended, canceled), and pages in run-id order; the runs waiting for
 * an approval decision the same way, under {@link AWAITING_APPROVAL}.
 */
import { describe, expect, it } from 'vitest';
import type { NewRun, RunRecord, RunState, Suspension } from '../core/run.js';
import { AWAITING_APPROVAL, type RecordedRun, type Store, type Transition } from '../core/store.js';

/** What the event-waiter tests need from the main suite. */
export interface EventWaitersConformanceHelpers {
  store: () => Store;
  leased: (overrides?: Partial<NewRun>) => Promise<{ run: RunRecord; token: number }>;
  transition: (run: RunRecord, token: number, extra?: Partial<Transition>) => Transition;
  t0: number;
}

/** Registers the event-waiter tests against the store the main suite made for each test. */
export function describeEventWaitersConformance(h: EventWaitersConformanceHelpers): void {
  const suspension = (extra: Partial<Suspension>): Suspension => ({ kind: 'event', stepId: 'wait', graph: 'action:main', stepSeq: 1, since: h.t0, ...extra });
  const withSuspension = (run: RunRecord, s: Suspension): RunState => ({ ...run.state, suspension: s });
  const ids = async (event: string, options: { after?: string; limit?: number } = {}): Promise<string[]> =>
    (await h.store().listEventWaiters({ event, limit: options.limit ?? 100, ...(options.after === undefined ? {} : { after: options.after }) })).map((r) => r.runId);

  /** A run the engine would leave waiting: INACTIVE with this suspension, its lease given back. */
  async function waiting(runId: string, s: Suspension): Promise<RecordedRun> {
    const { run, token } = await h.leased({ runId });
    return h.store().recordTransition(
      h.transition(run, token, { patch: { status: 'INACTIVE', state: withSuspension(run, s), readyAt: s.until ?? null }, releaseLease: true, events: [{ kind: 'status', status: 'INACTIVE' }] }),
    );
  }

  /** Claims a waiting run the way a resumer does, for the transition that follows. */
  async function claimed(run: Pick<RunRecord, 'runId'>): Promise<{ run: RunRecord; token: number }> {
    const claim = await h.store().claimRun({ runId: run.runId, owner: 'w1', now: h.t0 + 20, leaseExpiresAt: h.t0 + 30_000, status: 'INACTIVE' });
    if (!claim) throw new Error(`run ${run.runId} could not be claimed`);
    return { run: claim.run, token: claim.lease.fencingToken };
  }

  describe('event waiters', () => {
    it('finds a run once a transition leaves it waiting for the event, whole, and only under that name', async () => {
      expect(await ids('order.paid')).toEqual([]);
      const paid = await waiting('waits-paid', suspension({ event: 'order.paid', match: { order: 'o-1' } }));
      await waiting('waits-shipped', suspension({ event: 'order.shipped' }));
      await waiting('waits-timer', suspension({ kind: 'timer', until: h.t0 + 3_600_000 }));
      await waiting('waits-approval', suspension({ kind: 'approval', reason: 'review' }));
      const { run: active, token } = await h.leased({ runId: 'not-suspended' });
      await h.store().recordTransition(h.transition(active, token, { patch: { state: active.state } }));

      const found = await h.store().listEventWaiters({ event: 'order.paid', limit: 10 });
      expect(found).toEqual([expect.objectContaining({ runId: 'waits-paid', status: 'INACTIVE', version: paid.version, leaseOwner: null })]);
      expect(found[0]!.state.suspension).toEqual(suspension({ event: 'order.paid', match: { order: 'o-1' } }));
      expect(await ids('order.shipped')).toEqual(['waits-shipped']);
      expect(await ids('order')).toEqual([]);
    });

    it('no longer finds a run once an event resumed it, its wait elapsed, it ended or it was canceled', async () => {
      const resumed = await claimed(await waiting('resumed', suspension({ event: 'e' })));
      const elapsed = await claimed(await waiting('elapsed', suspension({ event: 'e', until: h.t0 + 5 })));
      const ended = await claimed(await waiting('ended', suspension({ event: 'e' })));
      await waiting('canceled', suspension({ event: 'e' }));
      await waiting('still-waiting', suspension({ event: 'e' }));
      // A claim alone changes nothing: the claimer has not decided yet.
      expect(await ids('e')).toEqual(['canceled', 'ended', 'elapsed', 'resumed', 'still-waiting'].sort());

      const decided = (c: { run: RunRecord }, decision: Suspension['decision']): RunState => withSuspension(c.run, { ...c.run.state.suspension!, decision });
      await h.store().recordTransition(h.transition(resumed.run, resumed.token, { patch: { status: 'ACTIVE', state: decided(resumed, 'received'), readyAt: h.t0 + 20 } }));
      await h.store().recordTransition(h.transition(elapsed.run, elapsed.token, { patch: { status: 'ACTIVE', state: decided(elapsed, 'elapsed'), readyAt: h.t0 + 20 } }));
      // Ended as it waited (past its deadline): the state still holds the undecided suspension.
      await h.store().recordTransition(h.transition(ended.run, ended.token, { patch: { status: 'FAILED', endTime: h.t0 + 20, runError: { code: 'TIMEOUT', description: 'late' } } }));
      await h.store().cancelRun({ runId: 'canceled', at: h.t0 + 20, events: [], runError: { code: 'CANCELED', description: 'stop' } });

      expect(await ids('e')).toEqual(['still-waiting']);
    });

    it('follows a waiting run whose transition changes its suspension, and keeps it through one that leaves the state alone', async () => {
      const first = await claimed(await waiting('moving', suspension({ event: 'first' })));
      // Given back with only a new readyAt (a claim that turned out not to be needed): still waiting.
      const kept = await h.store().recordTransition(h.transition(first.run, first.token, { patch: { readyAt: null }, releaseLease: true }));
      expect(await ids('first')).toEqual(['moving']);

      const again = await claimed(kept);
      const moved = await h.store().recordTransition(
        h.transition(again.run, again.token, { patch: { state: withSuspension(again.run, suspension({ event: 'second', stepSeq: 2 })) }, releaseLease: true }),
      );
      expect(await ids('first')).toEqual([]);
      expect(await ids('second')).toEqual(['moving']);

      // Waiting on a timer now: found under no event name.
      const last = await claimed(moved);
      await h.store().recordTransition(
        h.transition(last.run, last.token, { patch: { state: withSuspension(last.run, suspension({ kind: 'timer', until: h.t0 + 60_000, stepSeq: 3 })), readyAt: h.t0 + 60_000 }, releaseLease: true }),
      );
      expect(await ids('second')).toEqual([]);
    });

    it('lists the runs waiting for an approval decision under AWAITING_APPROVAL until one is decided, the run ends or is canceled', async () => {
      const approval = (extra: Partial<Suspension> = {}): Suspension => suspension({ kind: 'approval', stepId: 'charge', reason: 'over 100', ...extra });
      const approved = await claimed(await waiting('approved', approval()));
      const ended = await claimed(await waiting('ended-waiting', approval()));
      await waiting('canceled-waiting', approval());
      await waiting('awaits-decision', approval());
      await waiting('awaits-event', suspension({ event: 'order.paid' }));
      expect(await ids(AWAITING_APPROVAL)).toEqual(['approved', 'awaits-decision', 'canceled-waiting', 'ended-waiting']);
      const [found] = await h.store().listEventWaiters({ event: AWAITING_APPROVAL, limit: 1, after: 'approved' });
      expect(found!.state.suspension).toEqual(approval());

      await h.store().recordTransition(h.transition(approved.run, approved.token, { patch: { status: 'ACTIVE', state: withSuspension(approved.run, approval({ decision: 'approved', by: 'olivia' })), readyAt: h.t0 + 20 } }));
      await h.store().recordTransition(h.transition(ended.run, ended.token, { patch: { status: 'FAILED', endTime: h.t0 + 20, runError: { code: 'TIMEOUT', description: 'late' } } }));
      await h.store().cancelRun({ runId: 'canceled-waiting', at: h.t0 + 20, events: [], runError: { code: 'CANCELED', description: 'stop' } });
      expect(await ids(AWAITING_APPROVAL)).toEqual(['awaits-decision']);
      expect(await ids('order.paid')).toEqual(['awaits-event']);
    });

    it('pages in run-id order after the id given, up to the limit', async () => {
      // Recorded at once: a store that commits transitions in groups writes them together.
      await Promise.all(['w-3', 'w-5', 'w-1', 'w-4', 'w-2'].map((runId) => waiting(runId, suspension({ event: 'paged' }))));
      await waiting('w-0', suspension({ event: 'elsewhere' }));
      expect(await ids('paged', { limit: 2 })).toEqual(['w-1', 'w-2']);
      expect(await ids('paged', { after: 'w-2', limit: 2 })).toEqual(['w-3', 'w-4']);
      expect(await ids('paged', { after: 'w-4', limit: 2 })).toEqual(['w-5']);
      expect(await ids('paged', { after: 'w-5', limit: 2 })).toEqual([]);
      expect(await ids('paged', { limit: 0 })).toEqual([]);
    });
  });
}
