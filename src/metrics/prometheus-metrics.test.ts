/**
 * A scrape of `/metrics` after a known workload: the counters and histograms an operator graphs
 * (runs by flow and status, steps, store commits, HTTP requests by route pattern, event streams)
 * count exactly that workload, with no run id in any label.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFilesystemStores } from '../index.js';
import { createServerFixture, type ServerFixture } from '../../test/support/server-fixture.js';
import { PrometheusMetrics } from './prometheus-metrics.js';

let f: ServerFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

/** The value of one sample of a scrape (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2] ? match[2].split(',') : [];
    if (wanted.every((w) => have.includes(w)) && have.length === wanted.length) return Number(match[3]);
  }
  return undefined;
}

describe('PrometheusMetrics at /metrics', () => {
  it('counts a known workload: runs started and ended by flow and status, steps, commits, requests by route, streams', async () => {
    const metrics = new PrometheusMetrics();
    f = await createServerFixture({ router: { observers: [metrics], metricsSource: metrics } });
    const stop = metrics.watch({ engine: f.engine });
    await f.engine.principals.createUser({ id: 'admin' });
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await f.json('POST', '/runs', { as: 'olivia', body: { flowId: 'demo/echo', input: { n } } })).body.run.runId);
    for (const id of ids) await f.engine.waitForRun(id);
    const held = (await f.json('POST', '/runs', { as: 'olivia', body: { flowId: 'demo/hold' } })).body.run.runId as string;
    await f.json('POST', '/runs', { as: 'olivia', body: { flowId: 'demo/echo', input: { n: 'not a number' } } });
    expect((await f.json('GET', `/runs/${held}`, { as: 'olivia' })).status).toBe(200);
    const stream = await f.call('GET', `/runs/${ids[0]}/stream`, { as: 'olivia' });
    await stream.text();

    const scrape = await f.call('GET', '/metrics', { as: 'admin' });
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const text = await scrape.text();
    expect(sample(text, 'flowrun_runs_started_total', { flow: 'demo/echo', source: 'http' })).toBe(3);
    expect(sample(text, 'flowrun_runs_started_total', { flow: 'demo/hold', source: 'http' })).toBe(1);
    expect(sample(text, 'flowrun_runs_ended_total', { flow: 'demo/echo', status: 'SUCCEEDED' })).toBe(3);
    expect(sample(text, 'flowrun_run_duration_seconds_count', { flow: 'demo/echo', status: 'SUCCEEDED' })).toBe(3);
    expect(sample(text, 'flowrun_step_duration_seconds_count', { flow: 'demo/echo', step_type: 'COMPUTE', outcome: 'succeeded' })).toBe(3);
    expect(sample(text, 'flowrun_runs_active')).toBe(1); // the held run
    expect(sample(text, 'flowrun_runs_waiting')).toBe(0);
    expect(sample(text, 'flowrun_leases_held')).toBe(1);
    expect(sample(text, 'flowrun_store_commit_batch_size_count')).toBe(0); // the memory store has no commit batches (SQLite below)
    expect(sample(text, 'flowrun_http_requests_total', { method: 'POST', route: '/runs', status: '201' })).toBe(4);
    expect(sample(text, 'flowrun_http_requests_total', { method: 'POST', route: '/runs', status: '400' })).toBe(1);
    expect(sample(text, 'flowrun_http_requests_total', { method: 'GET', route: '/runs/:id', status: '200' })).toBe(1);
    expect(sample(text, 'flowrun_http_requests_total', { method: 'GET', route: '/runs/:id/stream', status: '200' })).toBe(1);
    expect(sample(text, 'flowrun_sse_connections_opened_total')).toBe(1);
    expect(sample(text, 'flowrun_sse_connections')).toBe(0);
    expect(sample(text, 'flowrun_leases_lost_total')).toBe(0);
    for (const id of [...ids, held]) expect(text).not.toContain(id);

    await f.engine.cancelRun(held);
    const after = await (await f.call('GET', '/metrics', { as: 'admin' })).text();
    expect(sample(after, 'flowrun_runs_ended_total', { flow: 'demo/hold', status: 'CANCELED' })).toBe(1);
    expect(sample(after, 'flowrun_runs_active')).toBe(0);
    expect(sample(after, 'flowrun_http_requests_total', { method: 'GET', route: '/metrics', status: '200' })).toBe(1);
    stop();
  });

  it('times the SQLite store\'s group commits: every new run and transition is in some batch', async () => {
    const metrics = new PrometheusMetrics();
    const stores = createFilesystemStores({ rootDir: mkdtempSync(join(tmpdir(), 'flowrun-metrics-')), developmentOnly: true });
    f = await createServerFixture({ stores, router: { observers: [metrics], metricsSource: metrics } });
    const stop = metrics.watch({ engine: f.engine });
    await f.engine.principals.createUser({ id: 'admin' });
    for (let n = 0; n < 3; n++) await f.engine.waitForRun((await f.json('POST', '/runs', { as: 'olivia', body: { flowId: 'demo/echo', input: { n } } })).body.run.runId);
    const text = await (await f.call('GET', '/metrics', { as: 'admin' })).text();
    const batches = sample(text, 'flowrun_store_commit_batch_size_count')!;
    expect(batches).toBeGreaterThanOrEqual(1);
    // 3 runs, each a write at least (demo/echo only computes: a run that ends within its start is
    // created already ended, one write), however the group commit grouped them.
    expect(sample(text, 'flowrun_store_commit_batch_size_sum')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'flowrun_store_commit_duration_seconds_count')).toBe(batches);
    stop();
  });

  it('keeps two registries apart: two servers in one process count their own requests', async () => {
    const a = new PrometheusMetrics();
    const b = new PrometheusMetrics();
    a.requestEnded({ method: 'GET', route: '/runs', status: 200, durationMs: 3, principalId: 'x' });
    a.requestEnded({ method: 'BREW', route: 'unmatched', status: 404, durationMs: 1, principalId: null });
    expect(sample(await a.metrics(), 'flowrun_http_requests_total', { method: 'GET', route: '/runs', status: '200' })).toBe(1);
    expect(sample(await a.metrics(), 'flowrun_http_requests_total', { method: 'other', route: 'unmatched', status: '404' })).toBe(1);
    expect(sample(await b.metrics(), 'flowrun_http_requests_total', { method: 'GET', route: '/runs', status: '200' })).toBeUndefined();
  });
});
