/**
 * `flowrun serve --globus-port 0` in its own process, with the real `@globus/sdk` configured the
 * way Globus users configure it (`GLOBUS_SDK_SERVICE_URL_FLOWS`, a bearer token in
 * `GLOBUS_SDK_OPTIONS`) and a flowrun token: a run started through the Globus API is an ordinary
 * flowrun run that `flowrun/client` watches to its end, and a run started with `flowrun/client`
 * is one the Globus API reads.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flows } from '@globus/sdk';
import { createClient } from '../../src/client/index.js';
import { runFlowrunCli } from '../support/run-cli.js';
import { freshSqliteSpec, issueToken, startServeProcess, type ServeProcess } from '../support/serve-process.js';

let server: ServeProcess;
let globusUrl: string;
let token: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowrun-globus-'));
  const nap = {
    id: 'jobs/nap',
    title: 'Nap then double',
    actions: { main: { params: { n: { type: 'number', required: true } }, startAt: 'nap', steps: { nap: { stepType: 'WAIT', durationMs: 300, defaultNextStepInstanceId: 'double' }, double: { stepType: 'SET', target: '$.outputs.doubled', expression: 'input.n * 2' } }, outputs: { doubled: { type: 'number', returned: true } } } },
  };
  writeFileSync(join(dir, 'nap.json'), JSON.stringify(nap));
  const store = freshSqliteSpec();
  server = await startServeProcess({ store, args: ['--globus-port', '0', '--flows', dir, '--no-dashboard'] });
  for (let i = 0; i < 40 && !/globus flows API: /.test(server.output()); i++) await new Promise((r) => setTimeout(r, 50));
  globusUrl = /^globus flows API: (http:\/\/\S+)$/m.exec(server.output())?.[1] ?? '';
  token = await issueToken(store, 'alice');
  process.env.GLOBUS_SDK_SERVICE_URL_FLOWS = globusUrl;
  process.env.GLOBUS_SDK_OPTIONS = JSON.stringify({ fetch: { options: { headers: { Authorization: `Bearer ${token}` } } } });
});

afterAll(async () => {
  delete process.env.GLOBUS_SDK_SERVICE_URL_FLOWS;
  delete process.env.GLOBUS_SDK_OPTIONS;
  await server?.stop();
});

describe('flowrun serve --globus-port', () => {
  it('prints the Globus API address on its own line, on a port of its own', () => {
    expect(globusUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(globusUrl).not.toBe(server.url);
  });

  it('refuses a --globus-port that is not a port', async () => {
    const result = await runFlowrunCli(['serve', '--store', 'memory', '--port', '0', '--globus-port', '70000']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--globus-port must be at most 65535/);
  });

  it('starts a run through @globus/sdk that flowrun/client watches to completion, and the other way round', async () => {
    const started = await flows.flows.run('jobs/nap', { payload: { body: { n: 21 }, label: 'from globus', tags: ['globus'] } });
    expect(started.status).toBe(201);
    const run = (await started.json()) as { run_id: string; status: string; run_owner: string };
    expect(run).toMatchObject({ status: 'ACTIVE', run_owner: 'urn:globus:auth:identity:alice' });

    const client = createClient({ baseUrl: server.url, token });
    const ended = await client.waitForRun(run.run_id, { pollIntervalMs: 50, timeoutMs: 20_000 });
    expect(ended).toMatchObject({ runId: run.run_id, status: 'SUCCEEDED', label: 'from globus', tags: ['globus'], createdBy: 'alice', output: { doubled: 42 } });
    const seen = (await (await flows.runs.get(run.run_id)).json()) as Record<string, unknown>;
    expect(seen).toMatchObject({ status: 'SUCCEEDED', details: { output: { doubled: 42 } }, completion_time: new Date(ended.endTime!).toISOString() });

    const fromClient = await client.runFlow({ flowId: 'jobs/nap', input: { n: 1 }, label: 'from flowrun' });
    const listed = (await (await flows.runs.getAll({ query: { filter_label: ['from flowrun'] } })).json()) as { runs: { run_id: string; status: string }[] };
    expect(listed.runs.map((r) => r.run_id)).toEqual([fromClient.runId]);
    const canceled = await flows.runs.cancel(fromClient.runId);
    expect(canceled.status).toBe(202);
    expect((await client.getRun(fromClient.runId)).status).toBe('CANCELED');
  });

  it("hides another user's run behind the same 404 as a missing one", async () => {
    const bob = await issueToken(server.store, 'bob');
    const started = (await (await flows.flows.run('jobs/nap', { payload: { body: { n: 1 } } })).json()) as { run_id: string };
    const asBob = { fetch: { options: { headers: { Authorization: `Bearer ${bob}` } } } };
    const hidden = await flows.runs.get(started.run_id, {}, asBob);
    const missing = await flows.runs.get('01900000-0000-7000-8000-000000000000', {}, asBob);
    expect([hidden.status, missing.status]).toEqual([404, 404]);
    const [a, b] = (await Promise.all([hidden.json(), missing.json()])) as unknown as { error: { code: string; detail: string } }[];
    expect(a!.error.code).toBe('NOT_FOUND');
    expect(a!.error.detail.replace(started.run_id, 'ID')).toBe(b!.error.detail.replace('01900000-0000-7000-8000-000000000000', 'ID'));
  });
});
