/**
 * The run operations of the Globus Flows API, called through the real `@globus/sdk` against the
 * Globus handler on a port with flowrun tokens: what a Globus user's code does, unchanged.
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

const ALICE = 'urn:globus:auth:identity:alice';
const BOB = 'urn:globus:auth:identity:bob';
const AUDITORS = 'urn:globus:groups:id:auditors';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function startHold(label = 'held'): Promise<string> {
  const { status, body } = await read(flows.flows.run('demo/hold', { payload: { body: {}, label } }));
  expect(status).toBe(201);
  return body.run_id as string;
}

describe('Globus run operations through @globus/sdk', () => {
  it('runs a flow with body, label, tags, monitors and managers, and the run is an ordinary flowrun run', async () => {
    const { status, body } = await read(
      flows.flows.run(encodeURIComponent('demo/echo'), { payload: { body: { n: 7 }, label: 'experiment 7', tags: ['  Site:Nautilus ', 'Friday   COB'], run_monitors: [AUDITORS], run_managers: [BOB], activity_notification_policy: { status: ['FAILED'] } } }),
    );
    expect(status).toBe(201);
    // An echo only computes: it ended within its start, and the answer says so (run-creation.ts).
    expect(body).toMatchObject({ flow_id: 'demo/echo', flow_title: 'Echo service', label: 'experiment 7', tags: ['Site:Nautilus', 'Friday COB'], status: 'SUCCEEDED', created_by: ALICE, run_owner: ALICE, run_managers: [BOB], run_monitors: [AUDITORS], user_role: 'run_owner' });
    expect(body.start_time).toMatch(ISO);
    expect(body.action_id).toBe(body.run_id);

    const ended = await fx.engine.waitForRun(body.run_id);
    expect(ended).toMatchObject({ status: 'SUCCEEDED', label: 'experiment 7', createdBy: 'alice', monitors: { users: [], groups: ['auditors'] }, managers: { users: ['bob'], groups: [] }, input: { n: 7 } });
    const got = await read(flows.runs.get(body.run_id, { query: { include_flow_description: true } }));
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ run_id: body.run_id, status: 'SUCCEEDED', display_status: 'SUCCEEDED', details: { code: 'FlowSucceeded', input: { n: 7 }, output: { n: 7 } }, flow_description: { id: 'demo/echo', title: 'Echo service', flow_owner: ALICE } });
    expect(got.body.completion_time).toMatch(ISO);
    expect(Date.parse(got.body.completion_time)).toBe(ended.endTime);
  });

  it('takes the flow id unencoded too: flowrun ids contain slashes', async () => {
    const { status, body } = await read(flows.flows.run('demo/echo', { payload: { body: { n: 1 } } }));
    expect(status).toBe(201);
    expect(body.flow_id).toBe('demo/echo');
  });

  it('updates label and tags; monitors and managers as they are; refuses to change them', async () => {
    const runId = await startHold();
    const updated = await read(flows.runs.update(runId, { payload: { label: 'renamed', tags: ['a', ' b  c '], run_monitors: [], run_managers: [] } }));
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ run_id: runId, label: 'renamed', tags: ['a', 'b c'] });
    expect(await fx.engine.getRun(runId)).toMatchObject({ label: 'renamed', tags: ['a', 'b c'] });

    const changed = await read(flows.runs.update(runId, { payload: { run_managers: [BOB] } }));
    expect(changed.status).toBe(501);
    expect(changed.body.error).toMatchObject({ code: 'NOT_IMPLEMENTED' });
    expect(changed.body.error.detail).toMatch(/run_managers/);
    await fx.engine.cancelRun(runId);
  });

  it('cancels a run: 202, then ENDED with display status CANCELED, as flowrun records CANCELED', async () => {
    const runId = await startHold();
    const canceled = await read(flows.runs.cancel(runId));
    expect(canceled.status).toBe(202);
    expect(canceled.body).toMatchObject({ run_id: runId, status: 'ENDED', display_status: 'CANCELED' });
    expect((await fx.engine.getRun(runId)).status).toBe('CANCELED');
    expect((await read(flows.runs.get(runId))).body).toMatchObject({ status: 'ENDED', details: { code: 'FlowCanceled' } });
  });

  it('releases only ended runs: 409 for an active one, and says flowrun keeps ended runs', async () => {
    const runId = await startHold();
    const active = await read(flows.runs.remove(runId));
    expect(active.status).toBe(409);
    expect(active.body.error.code).toBe('CONFLICT');
    await fx.engine.cancelRun(runId);
    const ended = await read(flows.runs.remove(runId));
    expect(ended.status).toBe(501);
    expect(ended.body.error.detail).toMatch(/retention/);
  });

  it("pages through a run's log with limit and marker, forward and in reverse", async () => {
    const { body } = await read(flows.flows.run('demo/echo', { payload: { body: { n: 2 } } }));
    await fx.engine.waitForRun(body.run_id);
    const all = (await fx.engine.getRunLogs(body.run_id, { limit: 100 })).entries;
    expect(all.length).toBeGreaterThanOrEqual(4);

    const readAll = async (reverse: boolean) => {
      const codes: string[] = [];
      let marker: string | undefined;
      let pages = 0;
      do {
        const page = await read(flows.runs.getLog(body.run_id, { query: marker ? { marker } : { limit: 2, reverse_order: reverse } }));
        expect(page.status).toBe(200);
        expect(page.body.limit).toBe(2);
        for (const entry of page.body.entries) {
          expect(entry.time).toMatch(ISO);
          codes.push(entry.code);
        }
        marker = page.body.has_next_page ? page.body.marker : undefined;
        pages++;
      } while (marker);
      expect(pages).toBe(Math.ceil(all.length / 2));
      return codes;
    };
    expect(await readAll(false)).toEqual(all.map((e) => e.code));
    expect(await readAll(true)).toEqual(all.map((e) => e.code).reverse());
  });

  it("answers a run's definition and input schema", async () => {
    const { body } = await read(flows.flows.run('demo/echo', { payload: { body: { n: 3 } } }));
    const definition = await read(flows.runs.getDefinition(body.run_id));
    expect(definition.status).toBe(200);
    expect(definition.body).toMatchObject({ flow_id: 'demo/echo', definition: { id: 'demo/echo', title: 'Echo service' }, input_schema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } });
  });

  it("answers another user's run exactly like a missing one, on every run route", async () => {
    const runId = await startHold('alice only');
    const missing = '01900000-0000-7000-8000-000000000000';
    const asBob = fx.as('bob');
    const calls: [string, (id: string) => Promise<Response>][] = [
      ['get', (id) => flows.runs.get(id, {}, asBob)],
      ['update', (id) => flows.runs.update(id, { payload: { label: 'mine now' } }, asBob)],
      ['cancel', (id) => flows.runs.cancel(id, {}, asBob)],
      ['release', (id) => flows.runs.remove(id, {}, asBob)],
      ['log', (id) => flows.runs.getLog(id, {}, asBob)],
      ['definition', (id) => flows.runs.getDefinition(id, {}, asBob)],
    ];
    for (const [name, call] of calls) {
      const hidden = await read(call(runId));
      const absent = await read(call(missing));
      expect({ name, status: hidden.status, code: hidden.body.error?.code }).toEqual({ name, status: 404, code: 'NOT_FOUND' });
      expect(hidden.body.error.detail.replace(runId, 'ID')).toBe(absent.body.error.detail.replace(missing, 'ID'));
    }
    const listed = await read(flows.runs.getAll({ query: { filter_flow_id: ['demo/hold'], per_page: 50 } }, asBob));
    expect(listed.body.runs.map((r: { run_id: string }) => r.run_id)).not.toContain(runId);
    expect((await fx.engine.getRun(runId)).label).toBe('alice only');
    // A monitor (carol, through her group) reads it, as run_monitor, without the role lists.
    const { body } = await read(flows.flows.run('demo/hold', { payload: { body: {}, run_monitors: [AUDITORS] } }));
    const asMonitor = await read(flows.runs.get(body.run_id, {}, fx.as('carol')));
    expect(asMonitor.body).toMatchObject({ user_role: 'run_monitor', run_monitors: [], run_managers: [] });
    expect((await read(flows.runs.cancel(body.run_id, {}, fx.as('carol')))).status).toBe(403);
    await fx.engine.cancelRun(runId);
    await fx.engine.cancelRun(body.run_id);
  });

  it('answers malformed requests with Globus-shaped errors', async () => {
    const noBody = await read(flows.flows.run('demo/echo', { payload: { label: 'x' } as never }));
    expect(noBody.status).toBe(422);
    expect(noBody.body).toMatchObject({ error: { code: 'UNPROCESSABLE_ENTITY', detail: [{ loc: ['body', 'body'], type: 'value_error' }] } });
    expect(noBody.body.debug_id).toEqual(expect.any(String));

    const badUrn = await read(flows.flows.run('demo/echo', { payload: { body: { n: 1 }, run_managers: ['bob'] } }));
    expect(badUrn.status).toBe(422);
    expect(badUrn.body.error.detail[0]).toMatchObject({ loc: ['body', 'run_managers', '0'] });

    const notJson = await read(flows.flows.run('demo/echo', { body: '{"body": ' } as never));
    expect(notJson.status).toBe(422);
    expect(notJson.body.error.detail[0].msg).toMatch(/JSON/);

    const badInput = await read(flows.flows.run('demo/echo', { payload: { body: {} } }));
    expect(badInput.status).toBe(400);
    expect(badInput.body.error.code).toBe('BAD_REQUEST');

    const noFlow = await read(flows.flows.run('demo/none', { payload: { body: {} } }));
    expect(noFlow).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });

    const badTags = await read(flows.runs.update('anything', { payload: { tags: 'a,b' } as never }));
    expect(badTags.status).toBe(422);

    const unauthenticated = await read(flows.runs.getAll({}, { fetch: { options: { headers: { Authorization: 'Bearer frt_not-a-token' } } } }));
    expect(unauthenticated).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });

    const unknownRoute = await read(fetch(`${fx.server.url}/actions/x`, { headers: { authorization: `Bearer ${fx.tokens.alice}` } }));
    expect(unknownRoute).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });

    const actionStates = await read(flows.flows.create({ payload: { definition: { StartAt: 'Hello', States: { Hello: { Type: 'Action', ActionUrl: 'https://actions.globus.org/hello_world', End: true } } } } }));
    expect(actionStates.status).toBe(501);
    expect(actionStates.body.error).toMatchObject({ code: 'NOT_IMPLEMENTED' });
    expect(actionStates.body.error.detail).toMatch(/Action states \(Hello\)/);

    // Last: the server answers before reading the body and closes that connection.
    const huge = await read(flows.flows.run('demo/echo', { payload: { body: { n: 1, pad: 'x'.repeat(1024 * 1024) } } }));
    expect(huge).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
  });
});
