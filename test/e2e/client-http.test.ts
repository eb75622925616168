/**
 * The client against `serve()` on a real port over a SQLite store, with API tokens issued into
 * the store: a watch that survives the server going away and coming back on the same port,
 * permissions (an invisible run is "not found"), batches and waiting.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, isRunNotFoundError, type LiveRunEvent } from '../../src/client/index.js';
import { createEngine, createFilesystemStores, type Engine, type FlowDefinition, type Module, type Store } from '../../src/index.js';
import { hashApiToken, newApiToken, serve, type RunningServer } from '../../src/server/index.js';

const ticker: Module = async (_input, ctx) => {
  const count = 8;
  for (let i = 1; i <= count; i++) {
    ctx.log('TICK', `tick ${i}`);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  return { ticks: count };
};

const hold: Module = (_input, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null), { once: true }));

const flows: FlowDefinition[] = [
  { id: 'e2e/ticker', actions: { main: { startAt: 'tick', steps: { tick: { stepType: 'MODULE', moduleIdentifier: 'ticker' } } } } },
  { id: 'e2e/quick', actions: { main: { startAt: 'done', steps: { done: { stepType: 'COMPUTE', expression: '{ticks: 1}' } } } } },
  { id: 'e2e/hold', actions: { main: { startAt: 'wait', steps: { wait: { stepType: 'MODULE', moduleIdentifier: 'hold' } } } } },
];

let stores: Store;
let engine: Engine;
let server: RunningServer;
const tokens: Record<string, string> = {};

async function issue(userId: string): Promise<string> {
  await engine.principals.createUser({ id: userId });
  const token = newApiToken();
  await stores.principals.createToken({ tokenId: `tok-${userId}`, principalId: userId, tokenHash: await hashApiToken(token), at: Date.now() });
  return token;
}

const clientOf = (userId: string) => createClient({ baseUrl: server.url, token: tokens[userId]! });

beforeAll(async () => {
  stores = createFilesystemStores({ rootDir: mkdtempSync(join(tmpdir(), 'flowrun-client-e2e-')) });
  engine = createEngine({ stores, modules: { ticker, hold }, pollIntervalMs: 50 });
  for (const flow of flows) await engine.deployFlow(flow, { deployedBy: 'admin', publish: true });
  for (const user of ['alice', 'bob']) tokens[user] = await issue(user);
  server = await serve({ engine, port: 0 });
});

afterAll(async () => {
  await server?.close();
  for (const run of (await engine.listRuns({ status: 'ACTIVE', limit: 1000 })).runs) await engine.cancelRun(run.runId).catch(() => undefined);
  await engine?.close();
  await stores?.close();
});

describe('flowrun/client over a real port', () => {
  it('authenticates with a stored token and refuses a wrong one', async () => {
    expect(await clientOf('alice').health()).toMatchObject({ ok: true });
    await expect(createClient({ baseUrl: server.url, token: 'frt_not-a-real-token' }).listRuns()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('resumes a watch after the server drops every connection and comes back on the same port: no loss, no duplicate', async () => {
    // Its own address, so the connections the restart leaves in fetch's pool serve no other test.
    let own = await serve({ engine, port: 0, hostname: '127.0.0.2' });
    try {
      const alice = createClient({ baseUrl: own.url, token: tokens.alice! });
      const run = await alice.runFlow({ flowId: 'e2e/ticker' });
      const events: LiveRunEvent[] = [];
      let restarted = false;
      for await (const event of alice.watchRun(run.runId, { reconnectDelayMs: 50, maxReconnects: 40 })) {
        events.push(event);
        if (!restarted && event.kind === 'log' && event.entry.code === 'TICK' && event.entry.description === 'tick 3') {
          restarted = true;
          const port = own.port;
          await own.close();
          own = await serve({ engine, port, hostname: '127.0.0.2' });
        }
      }
      expect(restarted).toBe(true);
      const seqs = events.filter((e) => !e.transient).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(events.filter((e) => e.kind === 'log' && e.entry.code === 'TICK').map((e) => (e.kind === 'log' ? e.entry.description : ''))).toEqual(
        Array.from({ length: 8 }, (_, i) => `tick ${i + 1}`),
      );
      expect(events.at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
    } finally {
      await own.close();
    }
  });

  it('answers RUN_NOT_FOUND for unknown runs and for runs another user may not see', async () => {
    const run = await clientOf('alice').runFlow({ flowId: 'e2e/hold' });
    const bob = clientOf('bob');
    const attempts = [() => bob.getRun(run.runId), () => bob.cancelRun(run.runId), () => bob.getRunLogs(run.runId), () => bob.getRun('01a00000-0000-7000-8000-000000000000')];
    for (const attempt of attempts) {
      const error = await attempt().catch((e: unknown) => e);
      expect(isRunNotFoundError(error)).toBe(true);
    }
    await expect(bob.watchRun(run.runId).next()).rejects.toSatisfy(isRunNotFoundError);
    expect((await clientOf('alice').cancelRun(run.runId)).status).toBe('CANCELED');
  });

  it('runs batches with partial failures in input order, and waits by polling or until a signal', async () => {
    const alice = clientOf('alice');
    const started = await alice.batchRunFlows({ concurrency: 2, runs: [{ flowId: 'e2e/hold' }, { flowId: 'e2e/missing' }, { flowId: 'e2e/quick' }] });
    expect(started.map((r) => r.error?.code ?? r.run?.flowId)).toEqual(['e2e/hold', 'FLOW_NOT_FOUND', 'e2e/quick']);
    const [held, , quick] = started.map((r) => r.run?.runId);
    expect(await alice.waitForRun(quick!, { pollIntervalMs: 20, timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED', output: { ticks: 1 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(alice.waitForRun(held!, { pollIntervalMs: 20, signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELED' });
    const canceled = await alice.batchCancelRuns({ runIds: [held!, 'no-such-run'] });
    expect(canceled.map((r) => [r.runId, r.run?.status ?? r.error?.code])).toEqual([
      [held, 'CANCELED'],
      ['no-such-run', 'RUN_NOT_FOUND'],
    ]);
    expect((await alice.batchGetRuns({ runIds: [quick!, held!] })).map((r) => r.run?.status)).toEqual(['SUCCEEDED', 'CANCELED']);
  });

  it('reports a server that is gone as NETWORK_ERROR', async () => {
    const gone = await serve({ engine, port: 0 });
    const url = gone.url;
    await gone.close();
    await expect(createClient({ baseUrl: url, token: tokens.alice! }).health()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });
});
