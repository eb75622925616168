/**
 * The dashboard's run tree (issue 15): `GET /runs?rootsOnly=true` lists runs without a parent, and
 * `childCounts=true` gives each run the number of its child runs the caller may read — children
 * of another user that the caller may not read are neither listed nor counted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient } from '../client/index.js';
import type { NewRun } from '../core/run.js';
import { sampleRun } from '../store/store.conformance.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';

let f: ServerFixture;
let t = Date.UTC(2026, 0, 1);
beforeEach(async () => {
  f = await createServerFixture();
});
afterEach(async () => {
  await f.close();
});

/** A run of demo/echo as a store holds it, ended, so no engine picks it up. */
async function run(runId: string, owner: string, extra: Partial<NewRun> = {}): Promise<string> {
  t += 1;
  const parent = extra.parentRunId ?? null;
  await f.stores.createRun({ run: sampleRun({ runId, flowId: 'demo/echo', flowVersion: 1, status: 'SUCCEEDED', readyAt: null, createdBy: owner, runOwner: owner, startTime: t, parentRunId: parent, rootRunId: extra.rootRunId ?? parent ?? runId, ...extra }) });
  return runId;
}

const page = async (as: string, query: string) => (await f.json('GET', `/runs?${query}`, { as })).body;
const counted = (body: { runs: { runId: string; childCount?: number; childCountIsEstimate?: boolean }[] }) => body.runs.map((r) => [r.runId, r.childCount, r.childCountIsEstimate]);

describe('the run tree of the runs listing', () => {
  beforeEach(async () => {
    await run('r-olivia', 'olivia');
    await run('c-olivia', 'olivia', { parentRunId: 'r-olivia' });
    await run('c-otto-hidden', 'otto', { parentRunId: 'r-olivia' });
    await run('c-otto-shared', 'otto', { parentRunId: 'r-olivia', monitors: { users: ['olivia'], groups: [] } });
    await run('g-olivia', 'olivia', { parentRunId: 'c-olivia', rootRunId: 'r-olivia' });
    await run('r-otto', 'otto');
  });

  it("lists roots only, each with the children the caller may read; another user's hidden child is not counted", async () => {
    expect(counted(await page('olivia', 'rootsOnly=true&childCounts=true'))).toEqual([['r-olivia', 2, false]]);
    expect(counted(await page('otto', 'rootsOnly=true&childCounts=true'))).toEqual([['r-otto', 0, false]]);
    expect((await page('olivia', 'rootsOnly=true')).runs.map((r: { runId: string; childCount?: number }) => [r.runId, r.childCount])).toEqual([['r-olivia', undefined]]);
    await f.engine.principals.setAdministrator('gina', true);
    expect(counted(await page('gina', 'rootsOnly=true&childCounts=true'))).toEqual([
      ['r-otto', 0, false],
      ['r-olivia', 3, false],
    ]);
    // Without rootsOnly every readable run is listed, children too.
    expect((await page('olivia', 'childCounts=true')).runs.map((r: { runId: string }) => r.runId)).toEqual(['g-olivia', 'c-otto-shared', 'c-olivia', 'r-olivia']);
  });

  it('opens a branch: the children page carries child counts too', async () => {
    const children = (await f.json('GET', '/runs/r-olivia/children?childCounts=true', { as: 'olivia' })).body;
    expect(counted(children)).toEqual([
      ['c-olivia', 1, false],
      ['c-otto-shared', 0, false],
    ]);
  });

  it('counts the first 20 children and flags a run with more; refuses rootsOnly with a parent', async () => {
    await run('r-wide', 'olivia');
    for (let i = 0; i < 21; i++) await run(`w-${String(i).padStart(3, '0')}`, 'olivia', { parentRunId: 'r-wide' });
    const client = createClient({ baseUrl: 'http://flowrun.test', headers: { authorization: 'Bearer as:olivia' }, fetch: (request) => f.router.fetch(request) });
    const roots = await client.listRuns({ rootsOnly: true, childCounts: true, limit: 1 });
    expect(roots.runs.map((r) => [r.runId, r.childCount, r.childCountIsEstimate])).toEqual([['r-wide', 20, true]]);
    expect(roots.total).toBe(2);

    const refused = await f.json('GET', '/runs?rootsOnly=true&parentRunId=r-olivia', { as: 'olivia' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.issues[0].path).toBe('query.rootsOnly');
    await expect(client.listRuns({ rootsOnly: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
