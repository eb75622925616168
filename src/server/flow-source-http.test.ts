/**
 * Issue 15's flow page and ledger: a version deployed from a `.flow` file keeps the program's text
 * and file name, `GET /flows/{id}` answers them to whoever may see the flow, and a run's ledger
 * (`GET /runs/{id}/events?kinds=ledger`) names the `file:line` of each `run` / `goto` / `decide`.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient } from '../client/index.js';
import { compileFlow } from '../dsl/compile-flow.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';

const text = readFileSync(new URL('../../examples/countdown.flow', import.meta.url), 'utf8');
const compiled = compileFlow(text, { file: 'countdown.flow' });
if (!compiled.ok) throw new Error('examples/countdown.flow does not compile');
const definition = { ...compiled.flow, roles: { viewers: ['mona'] } };

let f: ServerFixture;
let chargeCalls = 0;
beforeEach(async () => {
  chargeCalls = 0;
  // Fails its first attempt: the step is retried once.
  f = await createServerFixture({ modules: { flaky: () => (++chargeCalls === 1 ? Promise.reject(Object.assign(new Error('busy'), { code: 'BUSY' })) : { ok: true }) } });
});
afterEach(async () => {
  await f.close();
});

describe('flow sources and the ledger over HTTP', () => {
  it('answers the .flow text a version was deployed with to those who may see the flow, and nothing to others', async () => {
    const deployed = await f.json('POST', '/flows', { as: 'olivia', body: { definition, publish: true, source: { fileName: 'countdown.flow', text } } });
    expect(deployed.status).toBe(201);
    const read = await f.json('GET', `/flows/${encodeURIComponent(definition.id)}`, { as: 'mona' });
    expect(read.status).toBe(200);
    expect(read.body.flow).toMatchObject({ flowId: definition.id, version: 1, source: { fileName: 'countdown.flow', text } });
    expect((await f.json('GET', `/flows/${encodeURIComponent(definition.id)}`, { as: 'otto' })).body.error.code).toBe('FLOW_NOT_FOUND');

    // A JSON deploy of the same definition is a version of its own, without a source.
    const asJson = await f.json('POST', '/flows', { as: 'olivia', body: { definition } });
    expect(asJson.body.version).toBe(2);
    expect((await f.json('GET', `/flows/${encodeURIComponent(definition.id)}?version=2`, { as: 'olivia' })).body.flow).not.toHaveProperty('source');
  });

  it('refuses a source past 256 KiB, or one that is not text, naming the field, and stores nothing', async () => {
    const tooLarge = await f.json('POST', '/flows', { as: 'olivia', body: { definition, source: { fileName: 'countdown.flow', text: `${text}\n//${'x'.repeat(256 * 1024)}` } } });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.error.details.issues).toEqual([{ path: 'source.text', message: 'must be at most 262144 bytes' }]);
    const notText = await f.json('POST', '/flows', { as: 'olivia', body: { definition, source: { text: 42 } } });
    expect(notText.status).toBe(400);
    expect(notText.body.error.details.issues[0].path).toBe('body.source.text');
    expect((await f.json('GET', `/flows/${encodeURIComponent(definition.id)}`, { as: 'olivia' })).body.error.code).toBe('FLOW_NOT_FOUND');
  });

  it("answers a run's ledger alone, each dispatch with the file and line it was written at", async () => {
    const client = createClient({ baseUrl: 'http://flowrun.test', headers: { authorization: 'Bearer as:olivia' }, fetch: (request) => f.router.fetch(request) });
    await client.deployFlow(definition, { publish: true, source: { fileName: 'countdown.flow', text } });
    expect((await client.getFlow(definition.id)).source).toEqual({ fileName: 'countdown.flow', text });
    const run = await client.runFlow({ flowId: definition.id, input: { from: 1 }, wait: true });
    expect(run.status).toBe('SUCCEEDED');

    const ledger = await client.getRunEvents(run.runId, { kinds: ['ledger'] });
    expect(ledger.every((e) => e.kind === 'ledger')).toBe(true);
    const lines = text.split('\n');
    const dispatches = ledger.map((e) => (e.kind === 'ledger' ? [e.entry.kind, e.entry.from.source?.file, lines[e.entry.from.source!.line - 1]!.trim()] : []));
    expect(dispatches).toEqual([
      ['goto', 'countdown.flow', 'goto flow(tick)'],
      ['decide', 'countdown.flow', 'decide check'],
      ['goto', 'countdown.flow', 'goto flow(tick)'],
      ['decide', 'countdown.flow', 'decide check'],
    ]);
    const bad = await f.json('GET', `/runs/${run.runId}/events?kinds=ledger,steps`, { as: 'olivia' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe('query.kinds');
  });

  it("answers a run's step visits alone, with when each started, how long it took and its attempt, retries included", async () => {
    const retried = { id: 'demo/retried', actions: { main: { startAt: 'charge', steps: { charge: { stepType: 'MODULE' as const, moduleIdentifier: 'flaky', retry: { maxAttempts: 2, backoffMs: 0 } } } } } };
    await f.engine.deployFlow(retried, { deployedBy: 'olivia', publish: true });
    const run = (await f.json('POST', '/runs', { as: 'olivia', body: { flowId: 'demo/retried', wait: true } })).body.run;
    expect(run.status).toBe('SUCCEEDED');
    const logs = (await f.json('GET', `/runs/${run.runId}/events?kinds=log`, { as: 'olivia' })).body.events;
    const visits = logs.filter((e: any) => e.entry.code.startsWith('Step')).map((e: any) => [e.entry.code, e.entry.details.stepId, e.entry.details.attempt, typeof e.entry.details.startedAt, typeof e.entry.details.durationMs]);
    expect(visits).toEqual([
      ['StepRetrying', 'charge', 1, 'number', 'number'],
      ['StepSucceeded', 'charge', 2, 'number', 'number'],
    ]);
    expect(logs.every((e: any) => e.kind === 'log')).toBe(true);
  });
});
