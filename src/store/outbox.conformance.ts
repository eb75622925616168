/**
 * The outbox and secret part of the store conformance suite (issue 12): emitted events recorded
 * with their transition and kept until deleted, and the store's secret. Run by
 * `runStoreConformance` against every store.
 */
import { describe, expect, it } from 'vitest';
import type { NewRun, RunRecord } from '../core/run.js';
import type { Store, Transition } from '../core/store.js';

const T0 = Date.UTC(2026, 0, 1);

/** Registers the outbox and secret tests; `store()` is the fresh store of the current test, `newRun` makes a run to create. */
export function describeOutboxConformance(store: () => Store, newRun: (overrides: Partial<NewRun>) => NewRun): void {
  async function leased(runId: string): Promise<{ run: RunRecord; token: number }> {
    const created = await store().createRun({ run: newRun({ runId }), events: [], lease: { owner: 'w1', expiresAt: T0 + 30_000 } });
    return { run: created.run, token: created.lease!.fencingToken };
  }
  const transition = (run: Pick<RunRecord, 'runId' | 'version'>, token: number, extra: Partial<Transition>): Transition => ({
    runId: run.runId,
    lease: { owner: 'w1', fencingToken: token },
    expectedVersion: run.version,
    at: T0 + 10,
    patch: {},
    ...extra,
  });

  describe('emitted-event outbox', () => {
    it('keeps the events a transition emitted, even one that ends the run, until they are deleted', async () => {
      const a = await leased('emitter-a');
      const ended = await store().recordTransition(
        transition(a.run, a.token, {
          at: T0 + 20,
          patch: { status: 'SUCCEEDED', endTime: T0 + 20, output: null },
          emits: [
            { eventId: 'emitter-a:3:e2', event: 'order.shipped', payload: { order: { id: 'o-1' }, n: [1, 2] } },
            { eventId: 'emitter-a:2:e1', event: 'order.packed', payload: null },
          ],
        }),
      );
      expect(ended.status).toBe('SUCCEEDED');
      const b = await leased('emitter-b');
      await store().recordTransition(transition(b.run, b.token, { at: T0 + 10, emits: [{ eventId: 'emitter-b:1:e', event: 'x', payload: 'text' }] }));

      expect(await store().listPendingEmits({ recordedBefore: T0 + 100, limit: 10 })).toEqual([
        { eventId: 'emitter-b:1:e', runId: 'emitter-b', event: 'x', payload: 'text', recordedAt: T0 + 10 },
        { eventId: 'emitter-a:2:e1', runId: 'emitter-a', event: 'order.packed', payload: null, recordedAt: T0 + 20 },
        { eventId: 'emitter-a:3:e2', runId: 'emitter-a', event: 'order.shipped', payload: { order: { id: 'o-1' }, n: [1, 2] }, recordedAt: T0 + 20 },
      ]);
      // Only those recorded by then, and no more than the limit; reading removes nothing.
      expect((await store().listPendingEmits({ recordedBefore: T0 + 15, limit: 10 })).map((e) => e.eventId)).toEqual(['emitter-b:1:e']);
      expect((await store().listPendingEmits({ recordedBefore: T0 + 100, limit: 2 })).map((e) => e.eventId)).toEqual(['emitter-b:1:e', 'emitter-a:2:e1']);

      await store().deletePendingEmits(['emitter-a:2:e1', 'emitter-b:1:e', 'unknown']);
      expect((await store().listPendingEmits({ recordedBefore: T0 + 100, limit: 10 })).map((e) => e.eventId)).toEqual(['emitter-a:3:e2']);
      await store().deletePendingEmits([]);
      expect(await store().listPendingEmits({ recordedBefore: T0 + 100, limit: 10 })).toHaveLength(1);
    });

    it('records nothing of a transition that is refused, and keeps the first entry of an event id', async () => {
      const a = await leased('emitter-c');
      await expect(
        store().recordTransition(transition(a.run, a.token + 5, { emits: [{ eventId: 'refused', event: 'x', payload: 1 }] })),
      ).rejects.toMatchObject({ code: 'LEASE_LOST' });
      const first = await store().recordTransition(transition(a.run, a.token, { emits: [{ eventId: 'same', event: 'x', payload: 1 }] }));
      await store().recordTransition(transition(first, a.token, { at: T0 + 30, emits: [{ eventId: 'same', event: 'x', payload: 2 }] }));
      expect(await store().listPendingEmits({ recordedBefore: T0 + 100, limit: 10 })).toEqual([{ eventId: 'same', runId: 'emitter-c', event: 'x', payload: 1, recordedAt: T0 + 10 }]);
    });
  });

  describe('store secret', () => {
    it('is 32 bytes, created once: every call (concurrent first ones too) returns the same', async () => {
      const [a, b, c] = await Promise.all([store().getStoreSecret(), store().getStoreSecret(), store().getStoreSecret()]);
      expect(a).toBeInstanceOf(Uint8Array);
      expect(a!.length).toBe(32);
      expect([...b!]).toEqual([...a!]);
      expect([...c!]).toEqual([...a!]);
      expect([...(await store().getStoreSecret())]).toEqual([...a!]);
      expect(a!.some((byte) => byte !== 0)).toBe(true);
    });
  });
}
