/**
 * Listing through the Globus Flows API with the real `@globus/sdk`: 250 runs paged with
 * `marker`, the documented filters and orderings, and flows get/list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flows } from '@globus/sdk';
import { read, startGlobusFixture, type GlobusFixture } from '../../../test/support/globus-fixture.js';

let fx: GlobusFixture;
beforeAll(async () => {
  fx = await startGlobusFixture();
});
afterAll(async () => {
  await fx?.close();
});

type Run = { run_id: string; status: string; label: string | null; start_time: string; completion_time: string | null; flow_id: string };

/** Every run of a listing, following `marker` while `has_next_page`; the pages' sizes too. */
type RunQuery = NonNullable<NonNullable<Parameters<typeof flows.runs.getAll>[0]>['query']>;

async function listAll(query: RunQuery, sdkOptions?: Parameters<typeof flows.runs.getAll>[1]): Promise<{ runs: Run[]; pages: number[] }> {
  const runs: Run[] = [];
  const pages: number[] = [];
  let marker: string | undefined;
  do {
    // Globus: the marker alone carries the query; the other parameters are left out on purpose.
    const page = await read<{ runs: Run[]; has_next_page: boolean; marker?: string; limit: number }>(flows.runs.getAll({ query: marker ? { marker } : query }, sdkOptions));
    expect(page.status).toBe(200);
    runs.push(...page.body.runs);
    pages.push(page.body.runs.length);
    marker = page.body.has_next_page ? page.body.marker : undefined;
    if (page.body.has_next_page) expect(marker).toEqual(expect.any(String));
  } while (marker);
  return { runs, pages };
}

describe('Globus listings through @globus/sdk', () => {
  it('pages through 250 runs with marker, newest first, each run once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) ids.push((await fx.engine.startRun({ flow: 'demo/echo', input: { n: i }, userId: 'alice', label: `bulk ${i}` })).requestId);
    await Promise.all(ids.map((id) => fx.engine.waitForRun(id)));
    const { runs, pages } = await listAll({ per_page: 50, filter_flow_id: ['demo/echo'], filter_label: ['bulk'] });
    expect(pages).toEqual([50, 50, 50, 50, 50]);
    expect(new Set(runs.map((r) => r.run_id))).toEqual(new Set(ids));
    const starts = runs.map((r) => Date.parse(r.start_time));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));
    // Bob started none of them and may read none.
    expect((await listAll({ per_page: 50, filter_flow_id: ['demo/echo'] }, fx.as('bob'))).runs).toEqual([]);
    // `page` counts pages of per_page: the third page of 50 is runs 101–150.
    const third = await read(flows.runs.getAll({ query: { per_page: 50, page: 3, filter_flow_id: ['demo/echo'], filter_label: ['bulk'] } }));
    expect(third.body.runs.map((r: Run) => r.run_id)).toEqual(runs.slice(100, 150).map((r) => r.run_id));
  });

  it('filters by status (ENDED is canceled), flow, label, start and completion time, and orders', async () => {
    const before = new Date(Date.now() - 1).toISOString();
    const ok = (await read(flows.flows.run('demo/echo', { payload: { body: { n: 1 }, label: 'filters ok' } }))).body.run_id as string;
    const failed = (await read(flows.flows.run('demo/fail', { payload: { body: {}, label: 'filters failed' } }))).body.run_id as string;
    const held = (await read(flows.flows.run('demo/hold', { payload: { body: {}, label: 'filters held' } }))).body.run_id as string;
    const canceled = (await read(flows.flows.run('demo/hold', { payload: { body: {}, label: 'filters canceled' } }))).body.run_id as string;
    await fx.engine.cancelRun(canceled);
    await fx.engine.waitForRun(ok);
    await fx.engine.waitForRun(failed);
    const ids = async (query: RunQuery) => (await listAll({ filter_label: ['filters'], ...query })).runs.map((r) => r.run_id).sort();

    expect(await ids({ filter_status: ['SUCCEEDED'] })).toEqual([ok]);
    expect(await ids({ filter_status: ['FAILED', 'ENDED'] })).toEqual([failed, canceled].sort());
    expect(await ids({ filter_status: ['ACTIVE'] })).toEqual([held]);
    expect(await ids({ filter_flow_id: ['demo/hold'] })).toEqual([held, canceled].sort());
    // The runs of one flow, by its own path (the response lists them under `runs` too).
    const ofFlow = await read(fetch(`${fx.server.url}/flows/demo%2Fhold/runs?filter_label=filters`, { headers: { authorization: `Bearer ${fx.tokens.alice}` } }));
    expect(ofFlow.body.runs.map((r: Run) => r.run_id).sort()).toEqual([held, canceled].sort());
    expect(await ids({ filter_flow_title: ['fail'] })).toEqual([failed]);
    expect(await ids({ filter_start_time: `${before},` })).toEqual([ok, failed, held, canceled].sort());
    expect(await ids({ filter_start_time: `,${before}` })).toEqual([]);
    // A completion range leaves out runs that have not completed.
    expect(await ids({ filter_completion_time: `${before},` })).toEqual([ok, failed, canceled].sort());
    const ascending = (await listAll({ filter_label: ['filters'], orderby: ['start_time ASC'] })).runs.map((r) => Date.parse(r.start_time));
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    const byCompletion = (await listAll({ filter_label: ['filters'], filter_status: ['SUCCEEDED', 'FAILED', 'ENDED'], orderby: ['completion_time DESC', 'id ASC'] })).runs.map((r) => Date.parse(r.completion_time!));
    expect(byCompletion).toEqual([...byCompletion].sort((a, b) => b - a));

    // Roles: carol sees the run she monitors through her group, listed as run_monitors only.
    const monitored = (await read(flows.flows.run('demo/echo', { payload: { body: { n: 2 }, label: 'filters monitored', run_monitors: ['urn:globus:groups:id:auditors'] } }))).body.run_id as string;
    const asCarol = fx.as('carol');
    expect((await listAll({ filter_label: ['filters'], filter_roles: ['run_monitors'] }, asCarol)).runs.map((r) => r.run_id)).toEqual([monitored]);
    expect((await listAll({ filter_label: ['filters'], filter_roles: ['run_owner'] }, asCarol)).runs).toEqual([]);
    expect(await ids({ filter_roles: ['run_owner'] })).toContain(monitored);
    await fx.engine.cancelRun(held);
  });

  it('refuses what it cannot answer exactly with a 400 naming the parameter', async () => {
    for (const [query, param] of [
      [{ per_page: 0 }, 'per_page'],
      [{ per_page: 51 }, 'per_page'],
      [{ filter_status: 'CANCELED' }, 'filter_status'],
      [{ orderby: 'label ASC' }, 'orderby'],
      [{ filter_flow_id: ['a', 'b'] }, 'filter_flow_id'],
      [{ filter_start_time: 'yesterday' }, 'filter_start_time'],
      [{ marker: 'not-a-marker' }, 'marker'],
      [{ filter_roles: 'run_boss' }, 'filter_roles'],
      [{ limit: 5 }, 'limit'],
    ] as const) {
      const answer = await read(flows.runs.getAll({ query: query as never }));
      expect({ param, status: answer.status, code: answer.body.error?.code }).toEqual({ param, status: 400, code: 'BAD_REQUEST' });
      expect(answer.body.error.detail[0].loc).toEqual(['query', param]);
    }
  });

  it('gets and lists the flows the caller may see, paged with marker', async () => {
    const echo = await read(flows.flows.get(encodeURIComponent('demo/echo')));
    expect(echo.status).toBe(200);
    expect(echo.body).toMatchObject({ id: 'demo/echo', title: 'Echo service', description: 'answers with its input', flow_owner: 'urn:globus:auth:identity:alice', user_role: 'flow_owner', input_schema: { type: 'object', required: ['n'] }, flow_starters: ['all_authenticated_users'] });
    expect(echo.body.created_at).toMatch(/Z$/);

    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await read(flows.flows.getAll({ query: marker ? { marker } : { per_page: 1, orderby: ['title ASC'] } }));
      expect(page.status).toBe(200);
      seen.push(...page.body.flows.map((f: { id: string }) => f.id));
      marker = page.body.has_next_page ? page.body.marker : undefined;
    } while (marker);
    expect(seen).toEqual(['demo/echo', 'demo/fail', 'demo/hold', 'alice/private']);

    const asBob = fx.as('bob');
    const bobs = await read(flows.flows.getAll({ query: { filter_title: ['O'] } }, asBob));
    expect(bobs.body.flows.map((f: { id: string }) => f.id).sort()).toEqual(['demo/echo', 'demo/hold']);
    expect(bobs.body.flows.find((f: { id: string }) => f.id === 'demo/echo')).toMatchObject({ user_role: 'flow_starter', flow_starters: [] });
    const hidden = await read(flows.flows.get('alice/private', {}, asBob));
    const missing = await read(flows.flows.get('alice/nothing', {}, asBob));
    expect(hidden).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(hidden.body.error.detail.replace('private', 'X')).toBe(missing.body.error.detail.replace('nothing', 'X'));
    expect((await read(flows.flows.run('alice/private', { payload: { body: {} } }, asBob))).status).toBe(404);
  });
});
