/**
 * Conformance of listing runs (part of runStoreConformance): filters, orders, marker paging and
 * refused markers, the same on every store.
 */
import { describe, expect, it } from 'vitest';
import type { NewRun, RunRecord } from '../core/run.js';
import type { Store } from '../core/store.js';

/** Registers the listing tests; `store` answers the current test's store. */
export function describeRunListingConformance(store: () => Store, sampleRun: (overrides?: Partial<NewRun>) => NewRun, T0: number): void {
  describe('listing', () => {
    async function seed(): Promise<void> {
      const rows: Partial<NewRun>[] = [
        { runId: 'r01', flowId: 'a', startTime: T0 + 1, label: 'nightly digest', tags: ['x'] },
        { runId: 'r02', flowId: 'a', startTime: T0 + 2, status: 'FAILED', tags: ['x', 'y'] },
        { runId: 'r03', flowId: 'b', startTime: T0 + 3, status: 'SUCCEEDED', label: 'weekly digest' },
        { runId: 'r04', flowId: 'b', startTime: T0 + 4, parentRunId: 'r03', rootRunId: 'r03' },
        { runId: 'r05', flowId: 'a', startTime: T0 + 5, status: 'CANCELED', tags: ['y'] },
      ];
      for (const r of rows) await store().createRun({ run: sampleRun(r) });
      // End three of them at known times (ends are set through cancel, the one terminal write without a lease).
      await store().cancelRun({ runId: 'r01', at: T0 + 50, events: [], runError: { code: 'CANCELED', description: '' } });
      await store().cancelRun({ runId: 'r04', at: T0 + 40, events: [], runError: { code: 'CANCELED', description: '' } });
    }
    const ids = (page: { runs: RunRecord[] }): string[] => page.runs.map((r) => r.runId);

    it('filters by flow, status, time ranges, label, tags, parent and root', async () => {
      await seed();
      expect(ids(await store().listRuns({ flowId: 'a' }))).toEqual(['r05', 'r02', 'r01']);
      expect(ids(await store().listRuns({ status: 'FAILED' }))).toEqual(['r02']);
      expect(ids(await store().listRuns({ status: ['CANCELED', 'SUCCEEDED'] }))).toEqual(['r05', 'r04', 'r03', 'r01']);
      expect(ids(await store().listRuns({ startTimeFrom: T0 + 2, startTimeTo: T0 + 4 }))).toEqual(['r03', 'r02']);
      expect(ids(await store().listRuns({ endTimeFrom: T0 + 45 }))).toEqual(['r01']);
      expect(ids(await store().listRuns({ endTimeTo: T0 + 45 }))).toEqual(['r04']);
      expect(ids(await store().listRuns({ label: 'digest' }))).toEqual(['r03', 'r01']);
      expect(ids(await store().listRuns({ tags: ['x', 'y'] }))).toEqual(['r02']);
      expect(ids(await store().listRuns({ parentRunId: 'r03' }))).toEqual(['r04']);
      expect(ids(await store().listRuns({ rootRunId: 'r03' }))).toEqual(['r04', 'r03']);
    });

    it('lists root runs only, paged with markers and counted, past the child runs between them', async () => {
      await seed();
      expect(ids(await store().listRuns({ rootsOnly: true }))).toEqual(['r05', 'r03', 'r02', 'r01']);
      expect(ids(await store().listRuns({ rootsOnly: true, flowId: 'b' }))).toEqual(['r03']);
      expect(ids(await store().listRuns({ rootsOnly: true, status: ['CANCELED', 'SUCCEEDED'] }))).toEqual(['r05', 'r03', 'r01']);
      const first = await store().listRuns({ rootsOnly: true, limit: 2, orderBy: 'endTime', orderDir: 'asc' });
      expect(ids(first)).toEqual(['r01', 'r02']);
      expect(ids(await store().listRuns({ rootsOnly: true, limit: 2, orderBy: 'endTime', orderDir: 'asc', marker: first.marker! }))).toEqual(['r03', 'r05']);
      expect(await store().countRuns({ rootsOnly: true })).toBe(4);
      expect(await store().countRuns({ rootsOnly: true, parentRunId: 'r03' })).toBe(0);
    });

    it('orders by start or end time either way', async () => {
      await seed();
      expect(ids(await store().listRuns({ orderBy: 'startTime', orderDir: 'asc' }))).toEqual(['r01', 'r02', 'r03', 'r04', 'r05']);
      expect(ids(await store().listRuns({ orderBy: 'endTime', orderDir: 'asc', status: 'CANCELED' }))).toEqual(['r04', 'r01', 'r05']);
    });

    it('pages with opaque markers: every run exactly once, in order, even with equal start times', async () => {
      for (let i = 0; i < 23; i++) await store().createRun({ run: sampleRun({ runId: `p-${String(i).padStart(2, '0')}`, startTime: T0 + Math.floor(i / 3) }) });
      for (const orderDir of ['asc', 'desc'] as const) {
        const seen: string[] = [];
        let marker: string | undefined;
        for (let page = 0; page < 10; page++) {
          const result = await store().listRuns({ limit: 5, orderDir, ...(marker ? { marker } : {}) });
          seen.push(...ids(result));
          if (!result.hasNextPage) break;
          marker = result.marker!;
        }
        const expected = Array.from({ length: 23 }, (_, i) => `p-${String(i).padStart(2, '0')}`);
        expect(seen).toEqual(orderDir === 'asc' ? expected : [...expected].reverse());
      }
    });

    it('refuses forged markers and markers of another order, and caps the page size', async () => {
      await seed();
      const page = await store().listRuns({ limit: 2, orderDir: 'asc' });
      await expect(store().listRuns({ marker: page.marker!, orderDir: 'desc' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(store().listRuns({ marker: 'not-a-marker' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      await expect(store().listRuns({ marker: btoa('[1,"x","startTime:desc"') })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
      expect((await store().listRuns({ limit: 100_000 })).runs.length).toBe(5);
    });
  });
}
