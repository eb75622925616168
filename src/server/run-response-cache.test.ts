/**
 * Cached `GET /runs/{id}` answers (run-response-cache.ts) over a SQLite file, with a second store
 * on the same file standing for another process: whatever changes there — the run, a token, a
 * group — the next read answers as if nothing had been cached.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SqliteStore } from '../index.js';
import { openSharedFileFixture, type ServerFixture, type SharedFileFixture } from '../../test/support/server-fixture.js';
import { createFlowApiRouter, hashApiToken, newApiToken } from './index.js';

let stores: SqliteStore;
let otherProcess: SqliteStore;
let f: ServerFixture;

let fixture: SharedFileFixture;

beforeEach(async () => {
  fixture = await openSharedFileFixture('flowrun-run-answers-');
  ({ stores, otherProcess, f } = fixture);
});
afterEach(() => fixture.close());

/** An ended run of olivia's that the group `ops` manages and mona monitors. */
async function endedRun(): Promise<string> {
  const { status, body } = await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n: 1 }, wait: true, runManagingGroups: ['ops'], runMonitoringBy: ['mona'] } });
  expect(status).toBe(200);
  return body.run.runId;
}

describe('GET /runs/{id} answered from memory', () => {
  it('does not read the run again while nothing changed', async () => {
    const runId = await endedRun();
    const first = await f.json('GET', `/runs/${runId}`);
    const getRun = vi.spyOn(stores, 'getRun');
    const second = await f.json('GET', `/runs/${runId}`);
    expect(second).toEqual(first);
    expect(getRun).not.toHaveBeenCalled();
  });

  it('answers with the change another process made to the run', async () => {
    const runId = await endedRun();
    expect((await f.json('GET', `/runs/${runId}`)).body.run.label).toBeNull();
    await f.json('GET', `/runs/${runId}`);
    await otherProcess.updateRun({ runId, at: Date.now(), label: 'relabelled elsewhere', tags: ['x'] });
    const after = await f.json('GET', `/runs/${runId}`);
    expect(after.body.run).toMatchObject({ label: 'relabelled elsewhere', tags: ['x'] });
  });

  it('answers with the change this process made to the run', async () => {
    const runId = await endedRun();
    await f.json('GET', `/runs/${runId}`);
    expect((await f.json('PATCH', `/runs/${runId}`, { body: { label: 'renamed' } })).status).toBe(200);
    expect((await f.json('GET', `/runs/${runId}`)).body.run.label).toBe('renamed');
  });

  it('hides the run from a manager removed from its managing group by another process', async () => {
    const runId = await endedRun();
    expect((await f.json('GET', `/runs/${runId}`, { as: 'gina' })).status).toBe(200);
    expect((await f.json('GET', `/runs/${runId}`, { as: 'gina' })).status).toBe(200);
    // Among groups the run names only `ops`: out of it, gina has no role on the run left.
    await otherProcess.principals.removeGroupMember({ groupId: 'ops', memberId: 'gina' });
    const after = await f.json('GET', `/runs/${runId}`, { as: 'gina' });
    expect(after.status).toBe(404);
    expect(after.body.error.code).toBe('RUN_NOT_FOUND');
  });

  it('never serves one principal the answer cached for another', async () => {
    const runId = await endedRun();
    expect((await f.json('GET', `/runs/${runId}`, { as: 'mona' })).status).toBe(200);
    expect((await f.json('GET', `/runs/${runId}`, { as: 'mona' })).status).toBe(200);
    const otto = await f.json('GET', `/runs/${runId}`, { as: 'otto' });
    expect(otto.status).toBe(404);
    expect(otto.body.error.code).toBe('RUN_NOT_FOUND');
  });

  it('keeps the answer for groups an identity provider asserted apart from the same principal without them', async () => {
    const runId = await endedRun();
    // otto is in no stored group: only the asserted `ops` lets him read the run.
    const router = createFlowApiRouter({ engine: f.engine, authenticate: (request) => ({ userId: 'otto', groups: request.headers.get('x-groups')?.split(',') ?? [] }) });
    const get = (groups?: string) => router.fetch(new Request(`http://flowrun.test/runs/${runId}`, { headers: groups ? { 'x-groups': groups } : {} }));
    expect((await get('ops')).status).toBe(200);
    expect((await get('ops')).status).toBe(200);
    expect((await get()).status).toBe(404);
    expect((await get('auditors')).status).toBe(404);
    router.close();
  });

  it('refuses a token that another process revoked, at the next request', async () => {
    const runId = await endedRun();
    const token = newApiToken();
    await stores.principals.createToken({ tokenId: 'olivias', principalId: 'olivia', tokenHash: await hashApiToken(token), at: Date.now() });
    const router = createFlowApiRouter({ engine: f.engine });
    const get = () => router.fetch(new Request(`http://flowrun.test/runs/${runId}`, { headers: { authorization: `Bearer ${token}` } }));
    expect((await get()).status).toBe(200);
    expect((await get()).status).toBe(200);
    await otherProcess.principals.revokeToken({ tokenId: 'olivias', at: Date.now() });
    const after = await get();
    expect(after.status).toBe(401);
    router.close();
  });
});
