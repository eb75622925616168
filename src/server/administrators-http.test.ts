/**
 * Issue 14 §2, DESIGN.md §6 "System administrators": the way seed 002 and seed 003 use them. A
 * job starts runs for `user_42` with `runAction` over the stores a server uses; the dashboard's
 * administrator token lists, reads, cancels, approves and publishes through the client — and a
 * principal that is no administrator sees nothing more than before and cannot make itself one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient, type FlowClient } from '../client/index.js';
import { createEngine, createMemoryStores, runAction, type FlowDefinition } from '../index.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';

/** user_42's digest: waits for `digest.approved` (an event only the run's managers or granted publishers may send). */
const digestFlow: FlowDefinition = {
  id: 'jobs/digest',
  title: 'Nightly digest',
  actions: {
    main: {
      startAt: 'approved',
      steps: {
        approved: { stepType: 'WAIT', event: 'digest.approved', defaultNextStepInstanceId: 'send' },
        send: { stepType: 'COMPUTE', expression: '{sent: true}' },
      },
    },
  },
};

/** user_42's payout, deployed by user_42 and open to nobody else: a governance approval holds it. */
const payoutFlow: FlowDefinition = {
  id: 'jobs/payout',
  roles: { starters: ['user_42'], viewers: ['user_42'] },
  actions: { main: { startAt: 'pay', steps: { pay: { stepType: 'MODULE', moduleIdentifier: 'pay' } } } },
};

let f: ServerFixture;
const clientAs = (id: string): FlowClient => createClient({ baseUrl: 'http://flowrun.test/', token: `as:${id}`, fetch: f.router.fetch });

beforeEach(async () => {
  f = await createServerFixture({ modules: { pay: () => ({ paid: true }) } });
  await f.engine.principals.createUser({ id: 'admin', displayName: 'flowrun serve administrator' });
  await f.engine.principals.setAdministrator('admin', true);
  await f.engine.principals.createUser({ id: 'user_42' });
  await f.engine.deployFlow(digestFlow, { deployedBy: 'user_42', publish: true });
});

afterEach(async () => {
  await f.close();
});

/** Seed 002: a background job starts user_42's digest and does not wait for it. */
async function nightlyDigest(): Promise<string> {
  const requestId = crypto.randomUUID();
  void runAction({ flow: digestFlow, actionName: 'main', input: {}, userId: 'user_42', sessionId: 'nightly-digest', source: 'manual', stores: f.stores, requestId });
  await expect.poll(async () => (await f.stores.getRun(requestId))?.status).toBe('INACTIVE');
  return requestId;
}

describe('a system administrator', () => {
  it("lists, reads, updates and cancels runs runAction started for user_42, with total counting them", async () => {
    const first = await nightlyDigest();
    const second = await nightlyDigest();
    const admin = clientAs('admin');
    const page = await admin.listRuns({ flowId: 'jobs/digest', status: 'INACTIVE' });
    expect(page.runs.map((run) => run.runId).sort()).toEqual([first, second].sort());
    expect(page.total).toBe(2);
    const run = await admin.getRun(first);
    expect(run).toMatchObject({ createdBy: 'user_42', runOwner: 'user_42', status: 'INACTIVE', flowTitle: 'Nightly digest' });
    expect((await admin.updateRun(first, { label: 'checked by ops', tags: ['ops'] })).label).toBe('checked by ops');
    expect((await admin.cancelRun(second)).status).toBe('CANCELED');
    const results = await admin.batchGetRuns({ runIds: [first, second] });
    expect(results.map((r) => r.run?.status)).toEqual(['INACTIVE', 'CANCELED']);
  });

  it('publishes any event without a grant: the event resumes user_42 waiting run', async () => {
    const runId = await nightlyDigest();
    expect(await f.engine.principals.listEventGrants({ principalId: 'admin' })).toEqual([]);
    const published = await clientAs('admin').publishEvent({ name: 'digest.approved', payload: {} });
    expect(published.runIds).toEqual([]);
    await expect.poll(async () => (await f.stores.getRun(runId))?.status).toBe('SUCCEEDED');
  });

  it('sees, starts, redeploys and publishes flows others deployed for themselves alone', async () => {
    await f.engine.deployFlow(payoutFlow, { deployedBy: 'user_42', publish: true });
    const admin = clientAs('admin');
    expect((await admin.listFlows()).map((flow) => flow.flowId)).toContain('jobs/payout');
    expect((await admin.getFlow('jobs/payout')).deployedBy).toBe('user_42');
    expect((await admin.runFlow({ flowId: 'jobs/payout', wait: true })).status).toBe('SUCCEEDED');
    const deployed = await f.json('POST', '/flows', { as: 'admin', body: { definition: { ...payoutFlow, title: 'Payouts' }, publish: true } });
    expect(deployed.status).toBe(201);
  });

  it('decides every approval, for runs it neither owns nor manages', async () => {
    const stores = createMemoryStores();
    const engine = createEngine({ stores, modules: { pay: () => ({ paid: true }) }, pollIntervalMs: 50, runtimeConfig: { governance: () => 'approve' } });
    const g = await createServerFixture({ stores, engine });
    try {
      await engine.principals.createUser({ id: 'admin' });
      await engine.principals.setAdministrator('admin', true);
      await engine.deployFlow(payoutFlow, { deployedBy: 'user_42', publish: true });
      const { requestId: runId } = await engine.startRun({ flow: 'jobs/payout', userId: 'user_42' });
      await expect.poll(async () => (await stores.getRun(runId))?.status).toBe('INACTIVE');
      const admin = createClient({ baseUrl: 'http://flowrun.test/', token: 'as:admin', fetch: g.router.fetch });
      expect((await admin.approve(runId, { stepId: 'pay' })).runId).toBe(runId);
      await expect.poll(async () => (await stores.getRun(runId))?.status).toBe('SUCCEEDED');
    } finally {
      await g.close();
    }
  });

  it('counts through a group: every member of a group marked administrator is one, until removed', async () => {
    const runId = await nightlyDigest();
    const p = f.engine.principals;
    await p.createGroup({ id: 'platform' });
    await p.setAdministrator('platform', true);
    await p.addMember('platform', 'otto');
    expect((await clientAs('otto').getRun(runId)).runId).toBe(runId);
    await p.removeMember('platform', 'otto');
    await expect(clientAs('otto').getRun(runId)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });

  it('reads /metrics by its mark, whatever the router option names', async () => {
    const g = await createServerFixture({ router: { administrators: ['nobody-else'] } });
    try {
      await g.engine.principals.setAdministrator('olivia', true);
      expect((await g.call('GET', '/metrics', { as: 'olivia' })).status).toBe(200);
      expect((await g.json('GET', '/metrics', { as: 'otto' })).body.error.code).toBe('PERMISSION_DENIED');
    } finally {
      await g.close();
    }
  });
});

describe('a principal that is no administrator', () => {
  it('sees nothing more than before: not user_42 runs, not in the list, not in total', async () => {
    const runId = await nightlyDigest();
    const otto = clientAs('otto');
    const page = await otto.listRuns({ flowId: 'jobs/digest' });
    expect(page.runs).toEqual([]);
    expect(page.total).toBe(0);
    await expect(otto.getRun(runId)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    await expect(otto.cancelRun(runId)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    const published = await otto.publishEvent({ name: 'digest.approved', payload: {} });
    expect(published.runIds).toEqual([]);
    await f.engine.whenIdle();
    expect((await f.stores.getRun(runId))?.status).toBe('INACTIVE');
  });

  it('is not one by its name: an unmarked principal called "admin" sees nothing of others', async () => {
    await f.engine.principals.setAdministrator('admin', false);
    const runId = await nightlyDigest();
    await expect(clientAs('admin').getRun(runId)).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    expect((await clientAs('admin').listRuns({ flowId: 'jobs/digest' })).total).toBe(0);
  });

  it('cannot make itself an administrator over HTTP: no route takes the mark, and fields naming it are refused', async () => {
    for (const [method, path, body] of [
      ['POST', '/principals', { id: 'otto', isAdministrator: true }],
      ['PATCH', '/principals/otto', { isAdministrator: true }],
      ['PUT', '/principals/otto/administrator', {}],
      ['POST', '/admin/principals/otto', { isAdministrator: true }],
    ] as const) {
      expect((await f.call(method, path, { as: 'otto', body })).status).toBe(404);
    }
    expect((await f.json('POST', '/runs', { as: 'otto', body: { flowId: 'demo/echo', isAdministrator: true } })).status).toBe(400);
    expect((await f.json('PATCH', `/runs/${await nightlyDigest()}`, { as: 'user_42', body: { isAdministrator: true } })).status).toBe(400);
    expect((await f.json('GET', '/runs?isAdministrator=true', { as: 'otto' })).status).toBe(400);
    expect(await f.engine.principals.get('otto')).toMatchObject({ isAdministrator: false });
    expect((await f.engine.principals.resolve('otto')).isAdministrator).toBe(false);
  });

  it('gains nothing from an identity provider asserting a group that is not a marked administrator group', async () => {
    const idp = async (request: Request): Promise<{ userId: string; groups?: string[] } | null> => {
      const match = /^Bearer idp:([^:]+):(.*)$/.exec(request.headers.get('authorization') ?? '');
      return match ? { userId: match[1]!, groups: match[2]!.split(',').filter(Boolean) } : null;
    };
    const g = await createServerFixture({ router: { authenticate: idp } });
    try {
      await g.engine.principals.createGroup({ id: 'admins' });
      const { requestId: runId } = await g.engine.startRun({ flow: 'demo/hold', userId: 'olivia' });
      const read = (token: string) => g.call('GET', `/runs/${runId}`, { as: null, headers: { authorization: `Bearer ${token}` } });
      expect((await read('idp:ida:admins,admin,root')).status).toBe(404);
      await g.engine.principals.setAdministrator('admins', true);
      expect((await read('idp:ida:admins')).status).toBe(200);
      expect((await read('idp:ida:ops')).status).toBe(404);
    } finally {
      await g.close();
    }
  });
});
