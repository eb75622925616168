/**
 * Issue 14 §3: seed 003's "Listing Runs" and "Run Structure" as its users write them — the
 * ListRunsOptions object verbatim (`startTime: "2023-01-01"`, `endTime: "2023-12-31"`, `offset`,
 * `orderBy: "start_time"`, `markerOnly`), the page's `total`, and the run's `flowTitle`,
 * `flowDescription`, `createdByString`, `runOwnerString` and (asked for) `flowDefinition`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, systemClock, type Clock, type FlowDefinition } from '../index.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';
import { createClient, type FlowClient } from './index.js';

const processing: FlowDefinition = {
  id: 'flow-id',
  title: 'Process files',
  description: 'Copies a file between endpoints',
  roles: { viewers: ['olivia'] },
  actions: { main: { startAt: 'copy', steps: { copy: { stepType: 'COMPUTE', expression: '{copied: true}' } } } },
};

let f: ServerFixture;
/** The time runs start and end at: set by each start (timers stay the machine's). */
let frozenAt = 0;
const clock: Clock = { now: () => frozenAt, setTimeout: (callback, delayMs, options) => systemClock.setTimeout(callback, delayMs, options) };
let client: FlowClient;
const clientAs = (id: string): FlowClient => createClient({ baseUrl: 'http://flowrun.test/', token: `as:${id}`, fetch: f.router.fetch });

beforeEach(async () => {
  frozenAt = Date.UTC(2022, 11, 31, 12);
  const stores = createMemoryStores();
  f = await createServerFixture({ stores, engine: createEngine({ stores, clock, pollIntervalMs: 50 }) });
  await f.engine.principals.setDisplayName('olivia', 'Olivia Ortega');
  await f.engine.deployFlow(processing, { deployedBy: 'adam', publish: true });
  client = clientAs('olivia');
});

afterEach(async () => {
  await f.close();
});

/** Starts and finishes a run of flow-id at `at` (it ends at the same instant). */
async function runAt(at: string, label: string): Promise<string> {
  frozenAt = Date.parse(at);
  const run = await client.runFlow({ flowId: 'flow-id', label, wait: true });
  expect(run.status).toBe('SUCCEEDED');
  return run.runId;
}

describe("seed 003's ListRunsOptions", () => {
  it('filters by start and end day (UTC, inclusive), label and status, newest first, with the total', async () => {
    await runAt('2022-12-31T23:59:59.999Z', 'Processing Job 2022');
    const first = await runAt('2023-01-01T00:00:00.000Z', 'Processing Job A');
    const middle = await runAt('2023-06-15T08:00:00.000Z', 'Processing Job B');
    await runAt('2023-07-01T00:00:00.000Z', 'Backup');
    const last = await runAt('2023-12-31T23:59:59.999Z', 'Processing Job C');
    await runAt('2024-01-01T00:00:00.000Z', 'Processing Job 2024');

    const runList = await client.listRuns({
      limit: 100,
      offset: 0,
      flowId: 'flow-id',
      status: 'SUCCEEDED',
      startTime: '2023-01-01',
      endTime: '2023-12-31',
      label: 'Processing',
      orderBy: 'start_time',
      orderDir: 'desc',
      markerOnly: false,
    });
    expect(runList.runs.map((run) => run.runId)).toEqual([last, middle, first]);
    expect(runList.total).toBe(3);
    expect(runList.hasNextPage).toBe(false);
    expect(runList.runs[0]).toMatchObject({ startTime: Date.parse('2023-12-31T23:59:59.999Z'), label: 'Processing Job C' });
  });

  it('reads a day in the offset it names', async () => {
    const late = await runAt('2023-12-31T22:30:00.000Z', 'late in Berlin');
    await runAt('2023-12-31T21:30:00.000Z', 'early');
    // 2024-01-01 in +01:00 begins at 2023-12-31T23:00Z; 2023-12-31 in -03:00 begins at 03:00Z.
    expect((await client.listRuns({ startTime: '2024-01-01+01:00' })).runs).toEqual([]);
    expect((await client.listRuns({ startTime: '2023-12-31T22:00:00+00:00' })).runs.map((r) => r.runId)).toEqual([late]);
    expect((await client.listRuns({ endTime: '2023-12-30-03:00' })).total).toBe(0);
    expect((await client.listRuns({ endTime: '2023-12-31-03:00' })).total).toBe(2);
  });

  it('honours offset over the pages of GET /runs and in the iterator', async () => {
    const ids: string[] = [];
    for (let day = 1; day <= 5; day++) ids.push(await runAt(`2023-03-0${day}T00:00:00Z`, `Processing ${day}`));
    const page = await client.listRuns({ limit: 2, offset: 1, orderBy: 'start_time', orderDir: 'asc' });
    expect(page.runs.map((r) => r.runId)).toEqual(ids.slice(1, 3));
    expect(page.total).toBe(5);
    const next = await client.listRuns({ limit: 2, marker: page.marker, orderBy: 'start_time', orderDir: 'asc' });
    expect(next.runs.map((r) => r.runId)).toEqual(ids.slice(3, 5));
    const rest: string[] = [];
    for await (const run of client.runs({ limit: 2, offset: 3, orderBy: 'start_time', orderDir: 'asc' })) rest.push(run.runId);
    expect(rest).toEqual(ids.slice(3));
  });

  it('pages by marker alone with markerOnly: no total, and offset refused by name', async () => {
    await runAt('2023-03-01T00:00:00Z', 'one');
    const page = await client.listRuns({ markerOnly: true });
    expect(page.runs).toHaveLength(1);
    expect(page.total).toBeUndefined();
    await expect(client.listRuns({ markerOnly: true, offset: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT', issues: [{ path: 'query.offset' }] });
  });

  it('refuses unknown query parameters of GET /runs, naming them', async () => {
    const answer = await f.json('GET', '/runs?flow_id=flow-id&limit=5&order=desc');
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('INVALID_INPUT');
    expect(JSON.stringify(answer.body.error)).toContain('flow_id');
    expect(JSON.stringify(answer.body.error)).toContain('order');
    expect((await f.json('GET', '/runs?startTime=2023-02-30')).body.error.details.issues).toEqual([{ path: 'query.startTime', message: '"2023-02-30" is not a day or a time' }]);
  });
});

describe("seed 003's run structure", () => {
  it('carries the flow title and description and the display names of createdBy and runOwner', async () => {
    const runId = await runAt('2023-05-05T00:00:00Z', 'Processing');
    const run = await client.getRun(runId);
    expect(run).toMatchObject({ flowId: 'flow-id', flowTitle: 'Process files', flowDescription: 'Copies a file between endpoints', createdBy: 'olivia', createdByString: 'Olivia Ortega', runOwnerString: 'Olivia Ortega' });
    expect(run.flowDefinition).toBeUndefined();
    expect((await client.listRuns()).runs[0]).toMatchObject({ flowTitle: 'Process files', createdByString: 'Olivia Ortega' });
    expect((await client.getRun(runId, { includeFlowDefinition: true })).flowDefinition).toMatchObject({ id: 'flow-id', title: 'Process files' });
  });

  it("names a principal without a display name by its id, and gives flow fields only to those who may see the flow", async () => {
    await f.engine.principals.setDisplayName('olivia', null);
    const runId = (await client.runFlow({ flowId: 'flow-id', runMonitoringBy: ['mona'], wait: true })).runId;
    expect(await client.getRun(runId)).toMatchObject({ createdByString: 'olivia', flowTitle: 'Process files' });
    // mona monitors the run but is no viewer of flow-id: the run, without the flow's definition or title.
    const asMona = await clientAs('mona').getRun(runId, { includeFlowDefinition: true });
    expect(asMona).toMatchObject({ runId, createdByString: 'olivia' });
    expect(asMona).not.toHaveProperty('flowTitle');
    expect(asMona).not.toHaveProperty('flowDefinition');
  });
});
