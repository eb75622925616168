/**
 * `flowrun serve`'s logs as an operator reads them: one JSON line per request (method, route
 * pattern, status, duration, principal) and never a token — the admin's, a bad one, one in a
 * query, a header or a request body — nor a body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSqliteSpec, startServeProcess, type ServeProcess } from '../support/serve-process.js';

let serve: ServeProcess;
beforeAll(async () => {
  serve = await startServeProcess({ store: freshSqliteSpec(), args: ['--flows', 'examples', '--log-level', 'debug', '--log-format', 'json', '--no-dashboard'] });
}, 60_000);
afterAll(async () => {
  await serve?.stop();
});

describe('serve logs and metrics', () => {
  it('logs every request as a JSON line with its route pattern and principal, and no token or body anywhere', async () => {
    const admin = serve.adminToken!;
    const bogus = 'frt_bogusbogusbogusbogusbogus';
    const secret = 'body-secret-1234';
    const started = await serve.json('POST', '/runs', { body: { flowId: 'countdown', input: { from: 2 }, label: secret } });
    expect(started.status).toBe(201);
    const runId = started.body.run.runId as string;
    expect((await serve.request('GET', `/runs/${runId}?wait=${admin}`)).status).toBe(400);
    expect((await serve.request('GET', '/runs', { token: bogus })).status).toBe(401);
    expect((await serve.request('GET', '/runs', { token: `${admin}x` })).status).toBe(401);
    expect((await serve.request('POST', '/events/x/publish', { token: bogus, body: { token: admin } })).status).toBe(401);
    expect((await serve.request('POST', '/runs', { body: `{"flowId": "countdown", "input": {"token": "${admin}"` })).status).toBe(400);
    const scrape = await serve.request('GET', '/metrics');
    expect(scrape.status).toBe(200);
    const metrics = await scrape.text();
    expect(metrics).toMatch(/^flowrun_runs_started_total\{flow="countdown",source="http"\} 1$/m);
    expect(metrics).toMatch(/^flowrun_store_commit_duration_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^flowrun_process_cpu_seconds_total /m);
    expect((await serve.request('GET', '/health', { token: bogus })).status).toBe(200);
    const stopped = await serve.stop();
    expect(stopped).toBe(0);

    const logs = serve.logs();
    for (const needle of [admin, admin.slice(4, 20), bogus, secret, 'bogusbogus']) expect(logs).not.toContain(needle);
    const lines = logs.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.map((l) => [l.method, l.route, l.status, l.principal])).toEqual(
      expect.arrayContaining([
        ['POST', '/runs', 201, 'admin'],
        ['GET', '/runs/:id', 400, 'admin'],
        ['GET', 'unmatched', 401, null],
        ['POST', 'unmatched', 401, null],
        ['POST', '/runs', 400, 'admin'],
        ['GET', '/metrics', 200, 'admin'],
        ['GET', '/health', 200, null],
      ]),
    );
    expect(requests.every((l) => typeof l.durationMs === 'number' && l.level === 'info' && l.role === 'api+worker' && typeof l.time === 'string')).toBe(true);
    expect(JSON.stringify(requests)).not.toContain(runId);
  }, 60_000);
});
