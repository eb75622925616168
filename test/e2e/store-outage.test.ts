/**
 * The database goes away in the middle of a run and comes back: the run pauses and then goes on
 * from its last committed transition, losing nothing. The outage is made with a TCP proxy in front
 * of PostgreSQL (cut, then restored on the same port), so other tests sharing the server are not touched.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, createPostgresStores, type FlowDefinition } from '../../src/index.js';
import { createFlowApiRouter } from '../../src/server/index.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { CuttableProxy } from '../support/cuttable-proxy.js';

describe('store outage', () => {
  it.skipIf(!pgUrl)(`pauses runs while PostgreSQL is unreachable and finishes them when it is back; /ready says so, /health stays up${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_outage');
    const target = new URL(pgUrl!);
    const proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    const viaProxy = new URL(spec);
    viaProxy.port = String(proxy.port);
    const schema = viaProxy.searchParams.get('schema')!;
    viaProxy.searchParams.delete('schema');
    const store = createPostgresStores({ connectionString: viaProxy.toString(), schema });
    const ticks: string[] = [];
    let ticked: () => void = () => undefined;
    const engine = createEngine({
      stores: store,
      leaseMs: 1_000,
      pollIntervalMs: 100,
      modules: {
        tick: async (_input, ctx) => {
          ticks.push(ctx.idempotencyKey);
          ticked();
          await new Promise((r) => setTimeout(r, 40));
          return { n: ticks.length };
        },
      },
    });
    const steps = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`t${i}`, { stepType: 'MODULE' as const, moduleIdentifier: 'tick', ...(i < 9 ? { defaultNextStepInstanceId: `t${i + 1}` } : {}) }]),
    );
    const flow: FlowDefinition = { id: 'outage/ticks', actions: { main: { startAt: 't0', steps } } };
    const router = createFlowApiRouter({ engine });
    const probe = async (path: string): Promise<{ status: number; code?: string }> => {
      const response = await router.fetch(new Request(`http://flowrun.test${path}`));
      const body = (await response.json()) as { error?: { code: string } };
      return { status: response.status, ...(body.error ? { code: body.error.code } : {}) };
    };
    try {
      const result = engine.runAction({ flow });
      await new Promise<void>((resolve) => (ticked = () => ticks.length >= 3 && resolve()));
      await proxy.cut();
      expect(await probe('/ready')).toEqual({ status: 503, code: 'STORE_ERROR' });
      expect(await probe('/health')).toEqual({ status: 200 });
      await new Promise((r) => setTimeout(r, 1_500));
      await proxy.start();
      expect(await probe('/ready')).toEqual({ status: 200 });
      const ended = await result;
      expect(ended.status).toBe('SUCCEEDED');
      // Every step ran; a step cut off mid-flight ran again with the same key, none more than twice.
      const counts = new Map<string, number>();
      for (const key of ticks) counts.set(key, (counts.get(key) ?? 0) + 1);
      expect(counts.size).toBe(10);
      expect([...counts.values()].every((n) => n <= 2)).toBe(true);
      const logs = (await engine.getRunLogs(ended.requestId, { limit: 1000 })).entries;
      expect(logs.filter((e) => e.code === 'StepSucceeded')).toHaveLength(10);
    } finally {
      router.close();
      await engine.close();
      await store.close();
      await proxy.stop();
      await drop();
    }
  }, 60_000);
});
