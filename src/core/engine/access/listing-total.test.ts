/**
 * A listing's `total` and `offset` (issue 14 §3) where the pages of a caller and the runs of the
 * store part ways: a principal that reads only some of the matching runs, past the 1,000 the
 * count checks one by one, and offsets deeper than the listing allows.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores } from '../../../index.js';
import { sampleRun } from '../../../store/store.conformance.js';
import { CHECKED_TOTAL_UP_TO, MAX_LIST_OFFSET } from './authorize.js';

async function engineWithRuns(count: number, stores = createMemoryStores()) {
  const engine = createEngine({ stores, poll: false });
  await engine.principals.createUser({ id: 'root' });
  await engine.principals.setAdministrator('root', true);
  await engine.deployFlow({ id: 'orders/process', actions: { main: { startAt: 's', steps: { s: { stepType: 'SUCCEED' } } } } }, { deployedBy: 'adam' });
  // Every other run is olivia's; the rest otto's.
  for (let i = 0; i < count; i++) {
    const owner = i % 2 === 0 ? 'olivia' : 'otto';
    await stores.createRun({ run: sampleRun({ runOwner: owner, createdBy: owner, startTime: Date.UTC(2026, 0, 1) + i }) });
  }
  return engine;
}

describe('a listing total', () => {
  it("is exact for a principal while no more than the checked runs match, and counts only what it may read", async () => {
    const engine = await engineWithRuns(CHECKED_TOTAL_UP_TO);
    const page = await engine.listRuns({ flowId: 'orders/process', limit: 10 }, { as: 'olivia', withTotal: true });
    expect(page).toMatchObject({ total: CHECKED_TOTAL_UP_TO / 2, totalIsEstimate: false });
    expect(page.runs.every((run) => run.runOwner === 'olivia')).toBe(true);
    await engine.close();
  });

  it('is a lower bound, and says so, past them — while an administrator gets the exact count', async () => {
    const engine = await engineWithRuns(CHECKED_TOTAL_UP_TO + 200);
    // A lower bound of runs olivia may read: never scaled by runs she may not see.
    expect(await engine.listRuns({ flowId: 'orders/process' }, { as: 'olivia', withTotal: true })).toMatchObject({ total: CHECKED_TOTAL_UP_TO / 2, totalIsEstimate: true });
    expect(await engine.listRuns({ flowId: 'orders/process' }, { as: 'root', withTotal: true })).toMatchObject({ total: CHECKED_TOTAL_UP_TO + 200, totalIsEstimate: false });
    expect(await engine.listRuns({ flowId: 'orders/process' }, { as: 'nobody', withTotal: true })).toMatchObject({ runs: [], total: 0, totalIsEstimate: true });
    await engine.close();
  });

  it("reads the store once when the first page's scan already reached the end of the listing", async () => {
    const stores = createMemoryStores();
    const engine = await engineWithRuns(40, stores);
    const listRuns = stores.listRuns.bind(stores);
    let reads = 0;
    stores.listRuns = (filter) => ((reads += 1), listRuns(filter));
    expect(await engine.listRuns({ flowId: 'orders/process' }, { as: 'olivia', withTotal: true })).toMatchObject({ total: 20, totalIsEstimate: false });
    expect(reads).toBe(1);
    await engine.close();
  });

  it('skips offset runs the caller may read, and refuses an offset past the limit by name', async () => {
    const engine = await engineWithRuns(40);
    const all = (await engine.listRuns({ orderDir: 'asc', limit: 100 }, { as: 'olivia' })).runs.map((r) => r.runId);
    const skipped = await engine.listRuns({ orderDir: 'asc', limit: 5 }, { as: 'olivia', offset: 12 });
    expect(skipped.runs.map((r) => r.runId)).toEqual(all.slice(12, 17));
    await expect(engine.listRuns({}, { as: 'olivia', offset: MAX_LIST_OFFSET + 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'offset' }] });
    await engine.close();
  });
});
