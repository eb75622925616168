/**
 * `GET /runs/{id}` answered in the request's own turn (`router.answerNow`, which `serve()` tries
 * first) with API tokens over a SQLite file, a second store on the file standing for another
 * process: an answer is given that way only while the token, the principal's access and the run
 * are what they were when it was made; anything changed anywhere sends the request through
 * `fetch`, which answers as if nothing had been cached.
 */
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../index.js';
import { createEngine } from '../index.js';
import { createManualClock } from '../testing/index.js';
import { openSharedFileFixture, type ServerFixture, type SharedFileFixture } from '../../test/support/server-fixture.js';
import { createFlowApiRouter, hashApiToken, newApiToken, serve, type FlowApiRouter } from './index.js';

let stores: SqliteStore;
let otherProcess: SqliteStore;
let f: ServerFixture;
let fixture: SharedFileFixture;
let router: FlowApiRouter;
const tokens = new Map<string, string>();

beforeEach(async () => {
  fixture = await openSharedFileFixture('flowrun-answers-now-');
  ({ stores, otherProcess, f } = fixture);
  for (const id of ['olivia', 'mona', 'gina', 'otto']) {
    const token = newApiToken();
    tokens.set(id, token);
    await stores.principals.createToken({ tokenId: id, principalId: id, tokenHash: await hashApiToken(token), at: Date.now() });
  }
  router = createFlowApiRouter({ engine: f.engine });
});
afterEach(async () => {
  router.close();
  await fixture.close();
});

/** An ended run of olivia's that the group `ops` manages and mona monitors. */
async function endedRun(): Promise<string> {
  const { status, body } = await f.json('POST', '/runs', { body: { flowId: 'demo/echo', input: { n: 1 }, wait: true, runManagingGroups: ['ops'], runMonitoringBy: ['mona'] } });
  expect(status).toBe(200);
  return body.run.runId;
}

/** What `serve()` does with a request: `answerNow`, else `fetch`; says which answered. */
async function get(path: string, as: string, on: FlowApiRouter = router): Promise<{ now: boolean; status: number; text: string; type: string | null }> {
  const request = new Request(`http://flowrun.test${path}`, { headers: { authorization: `Bearer ${tokens.get(as)}` } });
  const now = on.answerNow!(request);
  const response = now ?? (await on.fetch(request));
  return { now: now !== undefined, status: response.status, text: await response.text(), type: response.headers.get('content-type') };
}

describe('GET /runs/{id} answered in its own turn', () => {
  it('answers a repeated read at once, with what fetch answered', async () => {
    const runId = await endedRun();
    const first = await get(`/runs/${runId}`, 'olivia');
    expect(first).toMatchObject({ now: false, status: 200 });
    const second = await get(`/runs/${runId}`, 'olivia');
    expect(second).toEqual({ ...first, now: true });
  });

  it('refuses a token another process revoked, at the next request', async () => {
    const runId = await endedRun();
    await get(`/runs/${runId}`, 'olivia');
    expect((await get(`/runs/${runId}`, 'olivia')).now).toBe(true);
    await otherProcess.principals.revokeToken({ tokenId: 'olivia', at: Date.now() });
    expect(await get(`/runs/${runId}`, 'olivia')).toMatchObject({ now: false, status: 401 });
  });

  it('refuses a token that expired since its last read', async () => {
    const clock = createManualClock(Date.now());
    const engine = createEngine({ stores, clock, poll: false });
    const timed = createFlowApiRouter({ engine });
    const runId = await endedRun();
    await stores.principals.createToken({ tokenId: 'olivia-1s', principalId: 'olivia', tokenHash: await hashApiToken(tokens.get('olivia')!.replace(/.$/, 'x')), at: clock.now(), expiresAt: clock.now() + 1000 });
    tokens.set('olivia-1s', tokens.get('olivia')!.replace(/.$/, 'x'));
    await get(`/runs/${runId}`, 'olivia-1s', timed);
    expect(await get(`/runs/${runId}`, 'olivia-1s', timed)).toMatchObject({ now: true, status: 200 });
    await clock.advance(1000);
    expect(await get(`/runs/${runId}`, 'olivia-1s', timed)).toMatchObject({ now: false, status: 401 });
    timed.close();
    await engine.close();
  });

  it('hides the run from a manager another process removed from its managing group', async () => {
    const runId = await endedRun();
    await get(`/runs/${runId}`, 'gina');
    expect(await get(`/runs/${runId}`, 'gina')).toMatchObject({ now: true, status: 200 });
    await otherProcess.principals.removeGroupMember({ groupId: 'ops', memberId: 'gina' });
    const after = await get(`/runs/${runId}`, 'gina');
    expect(after).toMatchObject({ now: false, status: 404 });
    expect(JSON.parse(after.text).error.code).toBe('RUN_NOT_FOUND');
  });

  it('never gives one principal the answer kept for another', async () => {
    const runId = await endedRun();
    await get(`/runs/${runId}`, 'mona');
    expect(await get(`/runs/${runId}`, 'mona')).toMatchObject({ now: true, status: 200 });
    expect(await get(`/runs/${runId}`, 'otto')).toMatchObject({ now: false, status: 404 });
    expect(await get(`/runs/${runId}`, 'otto')).toMatchObject({ now: false, status: 404 });
  });

  it('answers with the change another process made to the run', async () => {
    const runId = await endedRun();
    await get(`/runs/${runId}`, 'olivia');
    expect((await get(`/runs/${runId}`, 'olivia')).now).toBe(true);
    await otherProcess.updateRun({ runId, at: Date.now(), label: 'relabelled elsewhere', tags: ['x'] });
    const after = await get(`/runs/${runId}`, 'olivia');
    expect(after.now).toBe(false);
    expect(JSON.parse(after.text).run).toMatchObject({ label: 'relabelled elsewhere', tags: ['x'] });
  });

  it('does the same through serve(), over a socket', async () => {
    const runId = await endedRun();
    const server = await serve({ router });
    try {
      const read = () => fetch(`${server.url}/runs/${runId}`, { headers: { authorization: `Bearer ${tokens.get('olivia')}` } });
      const first = await read();
      const firstText = await first.text();
      const second = await read();
      expect([second.status, second.headers.get('content-type'), await second.text()]).toEqual([200, first.headers.get('content-type'), firstText]);
      await otherProcess.principals.revokeToken({ tokenId: 'olivia', at: Date.now() });
      expect((await read()).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});

describe('GET /runs/{id} answered in its own turn, traced', () => {
  it('records the server span fetch would, under the request\'s traceparent', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();
    try {
      const runId = await endedRun();
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const request = () => new Request(`http://flowrun.test/runs/${runId}`, { headers: { authorization: `Bearer ${tokens.get('olivia')}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
      expect((await router.fetch(request())).status).toBe(200);
      const answered = router.answerNow!(request());
      expect(answered?.status).toBe(200);
      const servers = exporter.getFinishedSpans().filter((span) => span.name === 'GET /runs/:id');
      expect(servers).toHaveLength(2);
      for (const span of servers) {
        expect(span.spanContext().traceId).toBe(traceId);
        expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
        expect(span.attributes).toMatchObject({ 'http.route': '/runs/:id', 'http.response.status_code': 200, 'http.request.method': 'GET' });
      }
    } finally {
      await provider.shutdown();
      trace.disable();
      context.disable();
    }
  });
});
