/**
 * Issue 12 over HTTP: starts per principal per second (429 LIMIT_EXCEEDED with Retry-After,
 * nothing started), and canceling a run tree (`POST /runs/{id}/cancel {"tree": true}`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServerFixture, hold, testAuthenticate, type ServerFixture } from '../../test/support/server-fixture.js';
import { createGlobusFlowsHandler } from './globus/create-globus-flows-handler.js';
import { createEngine, createMemoryStores, type FlowDefinition } from '../index.js';
import { createManualClock, type ManualClock } from '../testing/index.js';
import { StartRateLimiter } from './start-rate-limiter.js';
import { createClient } from '../client/index.js';

let f: ServerFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function limited(maxStartsPerSecond: number): Promise<{ f: ServerFixture; clock: ManualClock }> {
  const clock = createManualClock();
  const stores = createMemoryStores();
  const engine = createEngine({ stores, clock, poll: false, modules: { hold }, runtimeConfig: { budgets: { maxStartsPerSecond } } });
  f = await createServerFixture({ stores, engine });
  await engine.deployFlow({ id: 'on/ping', actions: { main: { startAt: 's', steps: { s: { stepType: 'SUCCEED' } } } }, subscriptions: [{ on: 'ping', run: 'main' }] } as FlowDefinition, { publish: true });
  return { f, clock };
}

const runsOf = async (fx: ServerFixture, flowId: string) => (await fx.engine.listRuns({ flowId, limit: 1000 })).runs.length;

describe('starts per principal per second over HTTP', () => {
  it('answers 429 LIMIT_EXCEEDED with Retry-After past the burst, starts nothing, and lets the principal in again as the bucket refills', async () => {
    const { f: fx, clock } = await limited(2);
    for (let i = 0; i < 2; i++) expect((await fx.call('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', input: { n: i } } })).status).toBe(201);
    const refused = await fx.call('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', input: { n: 3 } } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toEqual({
      error: { code: 'LIMIT_EXCEEDED', message: expect.stringContaining('maxStartsPerSecond'), details: { limit: 'maxStartsPerSecond', max: 2, value: 1, retryAfterSeconds: 1 } },
    });
    expect(await runsOf(fx, 'demo/echo')).toBe(2);
    // Someone else's bucket is their own.
    expect((await fx.call('POST', '/runs', { as: 'mona', body: { flowId: 'demo/echo' } })).status).toBe(201);
    await clock.advance(500);
    expect((await fx.call('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo' } })).status).toBe(201);
    expect((await fx.call('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo' } })).status).toBe(429);
  });

  it('shares the buckets with the Globus Flows API of the same engine: a principal cannot double its budget through the other port', async () => {
    const { f: fx } = await limited(2);
    const globus = createGlobusFlowsHandler({ engine: fx.engine, authenticate: testAuthenticate });
    expect((await fx.call('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', input: { n: 1 } } })).status).toBe(201);
    const viaGlobus = () => globus.fetch(new Request('http://globus.test/flows/demo%2Fecho/run', { method: 'POST', headers: { authorization: 'Bearer as:otto', 'content-type': 'application/json' }, body: JSON.stringify({ body: { n: 2 } }) }));
    expect((await viaGlobus()).status).toBe(201);
    expect((await viaGlobus()).status).toBe(429);
    expect((await fx.call('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', input: { n: 3 } } })).status).toBe(429);
    await globus.close();
  });

  it('counts a publish as every run it starts: one event reaching three subscribers spends three starts', async () => {
    const { f: fx } = await limited(4);
    for (const id of ['on/pong', 'on/pang']) {
      await fx.engine.deployFlow({ id, actions: { main: { startAt: 's', steps: { s: { stepType: 'SUCCEED' } } } }, subscriptions: [{ on: 'ping', run: 'main' }] } as FlowDefinition, { publish: true });
    }
    const published = await fx.json('POST', '/events', { as: 'otto', body: { name: 'ping' } });
    expect(published.body.runIds).toHaveLength(3);
    // One token left of four: one start goes through, the next is refused.
    expect((await fx.call('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo' } })).status).toBe(201);
    expect((await fx.call('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo' } })).status).toBe(429);
  });

  it('counts every item of a batch start and refuses the whole batch, and counts event publishes', async () => {
    const { f: fx, clock } = await limited(3);
    expect((await fx.call('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo' } })).status).toBe(201);
    const batch = await fx.call('POST', '/runs/batch/start', { as: 'otto', body: { runs: [{ flowId: 'demo/echo' }, { flowId: 'demo/echo' }, { flowId: 'demo/echo' }] } });
    expect(batch.status).toBe(429);
    expect(batch.headers.get('retry-after')).toBe('1');
    expect(await runsOf(fx, 'demo/echo')).toBe(1);
    expect((await fx.call('POST', '/events', { as: 'otto', body: { name: 'ping' } })).status).toBe(200);
    expect((await fx.call('POST', '/events', { as: 'otto', body: { name: 'ping' } })).status).toBe(200);
    const publish = await fx.call('POST', '/events', { as: 'otto', body: { name: 'ping' } });
    expect(publish.status).toBe(429);
    expect(await runsOf(fx, 'on/ping')).toBe(2);
    // A batch larger than the burst goes through on a full bucket, and the debt is paid in time.
    await clock.advance(10_000);
    const big = await fx.json('POST', '/runs/batch/start', { as: 'otto', body: { runs: Array.from({ length: 5 }, () => ({ flowId: 'demo/echo' })) } });
    expect(big.status).toBe(200);
    expect((await fx.call('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo' } })).headers.get('retry-after')).toBe('1');
  });

  it('keeps the memory of its buckets bounded, dropping refilled ones first', async () => {
    const clock = createManualClock();
    const limiter = new StartRateLimiter({ startsPerSecond: 10, now: () => clock.now(), maxPrincipals: 3 });
    for (let i = 0; i < 100; i++) limiter.take(`user-${i}`, 1);
    expect(limiter.size).toBeLessThanOrEqual(3);
    limiter.take('hog', 10);
    await clock.advance(1000);
    for (let i = 0; i < 5; i++) limiter.take(`later-${i}`, 1);
    expect(limiter.size).toBeLessThanOrEqual(3);
  });
});

describe('POST /runs/{id}/cancel with {"tree": true}', () => {
  const spawner: FlowDefinition = { id: 'tree/spawner', actions: { main: { startAt: 'go', steps: { go: { stepType: 'RUN_FLOW', flowDefinitionId: 'demo/hold', async: true } } } } } as FlowDefinition;

  it("cancels the runs a run launched, and a bare cancel leaves them going", async () => {
    f = await createServerFixture();
    await f.engine.deployFlow(spawner, { publish: true });
    const started = await f.json('POST', '/runs', { body: { flowId: 'tree/spawner', wait: true } });
    expect(started.body.run).toMatchObject({ status: 'SUCCEEDED', treeId: started.body.run.runId });
    const root = started.body.run.runId as string;
    const [launched] = (await f.engine.listRuns({ parentRunId: root })).runs;
    expect(launched).toMatchObject({ treeId: root, status: 'ACTIVE' });
    expect((await f.json('POST', `/runs/${root}/cancel`)).status).toBe(200);
    expect((await f.engine.getRun(launched!.runId)).status).toBe('ACTIVE');
    expect((await f.json('POST', `/runs/${root}/cancel`, { as: 'stranger', body: { tree: true } })).body.error.code).toBe('RUN_NOT_FOUND');
    const bad = await f.json('POST', `/runs/${root}/cancel`, { body: { tree: 'yes' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('body.tree');
    expect((await f.engine.getRun(launched!.runId)).status).toBe('ACTIVE');
    const client = createClient({ baseUrl: 'http://flowrun.test/', token: 'as:olivia', fetch: (request) => f!.router.fetch(request) });
    await expect(client.cancelRun(root, { tree: 'yes' as never })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(await client.cancelRun(root, { tree: true })).toMatchObject({ runId: root, treeId: root });
    expect((await f.engine.getRun(launched!.runId)).status).toBe('CANCELED');
  });
});
