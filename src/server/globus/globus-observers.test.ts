/**
 * What an operator sees of the Globus Flows API: its requests are logged and counted like
 * flowrun's own, under route names of their own, never with a token or an id in them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type Engine } from '../../index.js';
import { PrometheusMetrics } from '../../metrics/prometheus-metrics.js';
import type { Logger } from '../../core/engine/types.js';
import { hashApiToken, newApiToken } from '../api-tokens.js';
import { echoFlow } from '../../../test/support/globus-fixture.js';
import { createGlobusFlowsHandler, type GlobusFlowsHandler } from './create-globus-flows-handler.js';

let engine: Engine;
let handler: GlobusFlowsHandler;
let token: string;
const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
const capture = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message });
const logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') } as unknown as Logger;
const metrics = new PrometheusMetrics();

beforeAll(async () => {
  const stores = createMemoryStores();
  engine = createEngine({ stores });
  await engine.principals.createUser({ id: 'alice' });
  token = newApiToken();
  await stores.principals.createToken({ tokenId: 'tok-alice', principalId: 'alice', tokenHash: await hashApiToken(token), at: Date.now() });
  await engine.deployFlow(echoFlow, { deployedBy: 'alice', publish: true });
  handler = createGlobusFlowsHandler({ engine, logger, observers: [metrics] });
});
afterAll(async () => {
  await engine?.close();
});

const call = (method: string, path: string, body?: unknown, bearer = token) =>
  handler.fetch(new Request(`http://globus.test${path}`, { method, headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));

describe('Globus Flows API requests, as an operator sees them', () => {
  it('logs one line per request with its route pattern, status and principal, never the token or the run id', async () => {
    const started = await call('POST', `/flows/${encodeURIComponent('demo/echo')}/run`, { body: { n: 2 } });
    expect(started.status).toBe(201);
    const runId = ((await started.json()) as { run_id: string }).run_id;
    expect((await call('GET', `/runs/${runId}`)).status).toBe(200);
    expect((await call('GET', '/runs', undefined, 'not-a-token')).status).toBe(401);

    const requests = lines.filter((l) => l.message === 'request');
    expect(requests.map((l) => [l.level, l.fields.method, l.fields.route, l.fields.status, l.fields.principal])).toEqual([
      ['info', 'POST', 'globus /flows/:flowId/run', 201, 'alice'],
      ['info', 'GET', 'globus /runs/:runId', 200, 'alice'],
      ['info', 'GET', 'unmatched', 401, null],
    ]);
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(runId);
  });

  it('counts its requests in the same metrics as flowrun, by route and status', async () => {
    const scrape = await metrics.metrics();
    expect(scrape).toMatch(/flowrun_http_requests_total\{[^}]*route="globus \/runs\/:runId"[^}]*\} 1/);
    expect(scrape).toMatch(/flowrun_http_requests_total\{[^}]*route="globus \/flows\/:flowId\/run"[^}]*status="201"[^}]*\} 1/);
  });
});
