/**
 * `GET /approvals` (issue 15, the dashboard's Approvals page): the runs waiting for an approval
 * decision the caller may make — owner, managers, the flow's administrators, system
 * administrators — with the step to decide, the policy's reason and since when; nothing of the
 * runs it may not decide, not even that they exist.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient } from '../client/index.js';
import { createEngine, createMemoryStores, type FlowDefinition } from '../index.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';

const charge: FlowDefinition = {
  id: 'billing/charge',
  actions: { main: { startAt: 'charge', steps: { charge: { stepType: 'MODULE', moduleIdentifier: 'card/charge', defaultNextStepInstanceId: 'done' }, done: { stepType: 'COMPUTE', expression: '"charged"' } } } },
};

let f: ServerFixture;
beforeEach(async () => {
  const stores = createMemoryStores();
  const engine = createEngine({
    stores,
    pollIntervalMs: 50,
    runtimeConfig: { modules: { 'card/charge': () => ({ ok: true }) }, governance: (request) => (request.stepId === 'charge' ? { decision: 'approve', reason: `charge for ${request.createdBy}` } : 'allow') },
  });
  f = await createServerFixture({ stores, engine });
  await engine.deployFlow(charge, { deployedBy: 'adam', publish: true });
});
afterEach(async () => {
  await f.close();
});

/** Starts a charge as `as` (with these run roles) and waits until it is held for approval. */
async function heldCharge(as: string, roles: Record<string, string[]> = {}): Promise<string> {
  const runId = (await f.json('POST', '/runs', { as, body: { flowId: 'billing/charge', ...roles } })).body.run.runId as string;
  await f.engine.whenIdle();
  expect((await f.engine.getRun(runId)).status).toBe('INACTIVE');
  return runId;
}

const pending = async (as: string, query = ''): Promise<{ status: number; body: any }> => f.json('GET', `/approvals${query}`, { as });
const runIdsOf = (body: { approvals: { run: { runId: string } }[] }): string[] => body.approvals.map((a) => a.run.runId);

describe('GET /approvals', () => {
  it('lists the run waiting for a decision with its step, the reason and since when; deciding it takes it off the list', async () => {
    const runId = await heldCharge('olivia');
    const answer = await pending('olivia');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      approvals: [{ run: expect.objectContaining({ runId, status: 'INACTIVE', flowId: 'billing/charge', runOwnerString: 'olivia' }), stepId: 'charge', graph: 'action:main', stepType: 'MODULE', reason: 'charge for olivia', since: expect.any(Number) }],
      hasNextPage: false,
      marker: null,
    });
    expect(answer.body.approvals[0].run).not.toHaveProperty('state');
    // The run itself says where it is and what it waits for (the dashboard colours its graph with it).
    const held = (await f.json('GET', `/runs/${runId}`, { as: 'olivia' })).body.run;
    expect(held.frames).toEqual([{ graph: 'action:main', at: 'charge', attempt: 1 }]);
    expect(held.suspension).toEqual({ kind: 'approval', stepId: 'charge', graph: 'action:main', since: answer.body.approvals[0].since, reason: 'charge for olivia' });

    expect((await f.json('POST', `/runs/${runId}/approve`, { as: 'olivia', body: { stepId: 'charge' } })).status).toBe(200);
    expect((await pending('olivia')).body.approvals).toEqual([]);
    expect((await f.engine.waitForRun(runId, { timeoutMs: 5_000 })).output).toBe('charged');
    const ended = (await f.json('GET', `/runs/${runId}`, { as: 'olivia' })).body.run;
    expect([ended.status, ended.frames, ended.suspension]).toEqual(['SUCCEEDED', undefined, undefined]);
  });

  it("shows each principal only the decisions it may make: not another user's, not a monitor's", async () => {
    const olivias = await heldCharge('olivia', { runMonitoringBy: ['mona'], runManagingBy: ['manny'] });
    const ottos = await heldCharge('otto');
    expect(runIdsOf((await pending('olivia')).body)).toEqual([olivias]);
    expect(runIdsOf((await pending('otto')).body)).toEqual([ottos]);
    expect(runIdsOf((await pending('manny')).body)).toEqual([olivias]);
    // mona may read olivia's run but not decide it; gina may do neither: both see an empty list, nothing else.
    expect((await pending('mona')).body).toEqual({ approvals: [], hasNextPage: false, marker: null });
    expect((await pending('gina')).body).toEqual({ approvals: [], hasNextPage: false, marker: null });
    // The flow's administrator decides every run of it, as does a system administrator.
    expect(runIdsOf((await pending('adam')).body).sort()).toEqual([olivias, ottos].sort());
    await f.engine.principals.setAdministrator('gina', true);
    expect(runIdsOf((await pending('gina')).body).sort()).toEqual([olivias, ottos].sort());
  });

  it('pages oldest first with a marker, and refuses a forged marker naming the field', async () => {
    const first = await heldCharge('olivia');
    await heldCharge('otto');
    const second = await heldCharge('olivia');
    const third = await heldCharge('olivia');
    const page1 = await pending('olivia', '?limit=2');
    expect(runIdsOf(page1.body)).toEqual([first, second]);
    expect(page1.body.hasNextPage).toBe(true);
    const page2 = await pending('olivia', `?limit=2&marker=${page1.body.marker}`);
    expect(runIdsOf(page2.body)).toEqual([third]);
    expect(page2.body.hasNextPage).toBe(false);

    const forged = await pending('olivia', '?marker=not-a-marker');
    expect(forged.status).toBe(400);
    expect(forged.body.error.details.issues[0].path).toBe('query.marker');
    expect((await pending('olivia', '?sort=asc')).body.error.details.issues[0].path).toBe('query');
  });

  it('is in the client: listApprovals, then approve with the step it names', async () => {
    const runId = await heldCharge('olivia');
    const client = createClient({ baseUrl: 'http://flowrun.test', headers: { authorization: 'Bearer as:olivia' }, fetch: (request) => f.router.fetch(request) });
    const page = await client.listApprovals({ limit: 10 });
    expect(page).toMatchObject({ approvals: [{ run: { runId }, stepId: 'charge', reason: 'charge for olivia' }], hasNextPage: false });
    await client.approve(runId, { stepId: page.approvals[0]!.stepId });
    expect((await client.listApprovals()).approvals).toEqual([]);
  });
});
