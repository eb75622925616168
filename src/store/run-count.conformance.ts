/**
 * The `countRuns` part of the store conformance suite (issue 14): the count of a listing's
 * `total`, under every RunFilter field the listing takes, and bounded by `max`. Run by
 * `runStoreConformance` against every store.
 */
import { describe, expect, it } from 'vitest';
import type { NewRun } from '../core/run.js';
import type { Store } from '../core/store.js';

const T0 = Date.UTC(2026, 0, 1);

/** Registers the count tests; `store()` is the fresh store of the current test, `newRun` makes a run to create. */
export function describeRunCountConformance(store: () => Store, newRun: (overrides: Partial<NewRun>) => NewRun): void {
  describe('countRuns', () => {
    async function seed(): Promise<void> {
      const runs: (Partial<NewRun> & { endedAt?: number })[] = [
        { flowId: 'a', status: 'ACTIVE', startTime: T0, label: 'Processing Job 1', tags: ['x'] },
        { flowId: 'a', startTime: T0 + 10, endedAt: T0 + 20, label: 'Processing Job 2', tags: ['x', 'y'] },
        { flowId: 'a', startTime: T0 + 20, endedAt: T0 + 30, label: 'Backup' },
        { flowId: 'b', startTime: T0 + 30, endedAt: T0 + 40, tags: ['y'] },
        { flowId: 'b', status: 'INACTIVE', startTime: T0 + 40 },
      ];
      for (const { endedAt, ...run } of runs) {
        const { run: created } = await store().createRun({ run: newRun(run) });
        if (endedAt !== undefined) await store().cancelRun({ runId: created.runId, at: endedAt, events: [], runError: { code: 'CANCELED', description: 'canceled' } });
      }
    }

    it('counts the runs a listing with the same filter would list, ignoring its page fields', async () => {
      await seed();
      const s = store();
      expect(await s.countRuns({})).toBe(5);
      expect(await s.countRuns({ flowId: 'a' })).toBe(3);
      expect(await s.countRuns({ status: 'CANCELED' })).toBe(3);
      expect(await s.countRuns({ status: ['CANCELED', 'INACTIVE', 'CANCELED'] })).toBe(4);
      expect(await s.countRuns({ status: [] })).toBe(0);
      expect(await s.countRuns({ flowId: 'a', status: 'CANCELED' })).toBe(2);
      expect(await s.countRuns({ label: 'Processing' })).toBe(2);
      expect(await s.countRuns({ tags: ['y'] })).toBe(2);
      expect(await s.countRuns({ tags: ['x', 'y'] })).toBe(1);
      expect(await s.countRuns({ startTimeFrom: T0 + 10, startTimeTo: T0 + 40 })).toBe(3);
      expect(await s.countRuns({ endTimeFrom: T0 + 20, endTimeTo: T0 + 40 })).toBe(2);
      expect(await s.countRuns({ endTimeTo: T0 + 1000 })).toBe(3);
      expect(await s.countRuns({ flowId: 'a', limit: 1, orderBy: 'endTime', orderDir: 'asc' })).toBe(3);
      const page = await s.listRuns({ flowId: 'a', limit: 1 });
      expect(await s.countRuns({ flowId: 'a', marker: page.marker! })).toBe(3);
      expect(await s.countRuns({ flowId: 'nothing' })).toBe(0);
    });

    it('stops counting at max', async () => {
      await seed();
      const s = store();
      expect(await s.countRuns({}, { max: 2 })).toBe(2);
      expect(await s.countRuns({ status: ['ACTIVE', 'CANCELED', 'INACTIVE'] }, { max: 2 })).toBe(2);
      expect(await s.countRuns({ flowId: 'b' }, { max: 10 })).toBe(2);
      expect(await s.countRuns({}, { max: 0 })).toBe(0);
    });
  });
}
