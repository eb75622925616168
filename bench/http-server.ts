/**
 * The process under load in bench/http.ts. `flowrun` serves the flowrun API over a SQLite store
 * (one-step flow, API-token authentication, every request acting for its principal); `floor`
 * serves the same JSON from a bare Hono app on @hono/node-server with no engine, no store and
 * no authentication: the request rate an HTTP stack of the same kind gives before any work.
 *
 *   node --import tsx bench/http-server.ts flowrun          → prints {url, token, flowId, runId, run}
 *   node --import tsx bench/http-server.ts floor RUN_JSON   → prints {url}
 *   node --import tsx bench/http-server.ts inproc SECONDS   → prints {rps}: engine.startRun from 64 callers, no HTTP
 */
import { serve as listen } from '@hono/node-server';
import { Hono } from 'hono';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createEngine, createFilesystemStores } from '../src/index.js';
import { hashApiToken, newApiToken, serve } from '../src/server/index.js';

const [mode, runJson] = process.argv.slice(2);
const say = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

if (mode === 'flowrun' || mode === 'inproc') {
  const stores = createFilesystemStores({ rootDir: mkdtempSync(join(tmpdir(), 'flowrun-bench-http-')), developmentOnly: true });
  const engine = createEngine({ stores });
  await engine.principals.createUser({ id: 'bench' });
  const token = newApiToken();
  await stores.principals.createToken({ tokenId: 'bench', principalId: 'bench', tokenHash: await hashApiToken(token), at: Date.now() });
  const flowId = 'bench/start';
  await engine.deployFlow(
    { id: flowId, actions: { main: { params: { n: { type: 'number' } }, startAt: 'done', steps: { done: { stepType: 'COMPUTE', expression: '{n: input.n}' } } } } },
    { deployedBy: 'bench', publish: true },
  );
  if (mode === 'inproc') {
    // The reference without HTTP: the same durable start from 64 in-process callers, for `seconds`.
    const seconds = Number(runJson ?? 10);
    const ends = performance.now() + 1000 + seconds * 1000;
    let counting = performance.now() + 1000;
    let started = 0;
    const loop = async (): Promise<void> => {
      while (performance.now() < ends) {
        await engine.startRun({ flow: flowId, input: { n: 1 }, userId: 'bench' });
        if (performance.now() >= counting) started++;
      }
    };
    await Promise.all(Array.from({ length: 64 }, loop));
    counting = seconds;
    say({ rps: started / counting });
    await engine.close();
    await stores.close();
    process.exit(0);
  }
  const server = await serve({ engine, port: 0 });
  const started = await fetch(`${server.url}/runs`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ flowId, input: { n: 1 }, wait: true }) });
  const { run } = (await started.json()) as { run: { runId: string } };
  say({ url: server.url, token, flowId, runId: run.runId, run });
  process.on('SIGTERM', () => void server.close().then(() => engine.close()).then(() => stores.close()).then(() => process.exit(0)));
} else if (mode === 'floor') {
  const body = JSON.stringify({ run: JSON.parse(runJson!) });
  const app = new Hono();
  app.post('/runs', async (c) => {
    await c.req.json();
    return c.body(body, 201, { 'content-type': 'application/json; charset=utf-8' });
  });
  app.get('/runs/:id', (c) => c.body(body, 200, { 'content-type': 'application/json; charset=utf-8' }));
  const server = listen({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => say({ url: `http://127.0.0.1:${info.port}` }));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
} else {
  throw new Error('usage: http-server.ts flowrun | floor RUN_JSON');
}
