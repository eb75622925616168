/**
 * A run whose first steps stay within it is executed before it is stored, and created in the
 * state they reach (run-creation.ts): on every store, the start answers with the run as first
 * recorded, the history is the one a run created first has, and nothing outside the run happens
 * before the run is stored.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, createFilesystemStores, createMemoryStores, type FlowDefinition, type RunRecord, type Store } from '../../../index.js';
import type { RunEvent } from '../../run.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../../../../test/support/pg-schema.js';
import { openStoreSpec } from '../../../cli/store-spec.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'flowrun-run-creation-'));
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  rmSync(tempRoot, { recursive: true, force: true });
  for (const drop of drops) await drop();
});

const stores: [string, () => Store, boolean][] = [
  ['memory', () => createMemoryStores(), false],
  ['a SQLite file', () => createFilesystemStores({ rootDir: mkdtempSync(join(tempRoot, 'db-')) }), false],
  [
    `PostgreSQL${pgSkipNote}`,
    () => {
      const { spec, drop } = freshPgSchema('flowrun_run_creation');
      drops.push(drop);
      return openStoreSpec(spec);
    },
    !pgUrl,
  ],
];

const quote: FlowDefinition = {
  id: 'c/quote',
  actions: {
    main: {
      params: { qty: { type: 'number', required: true } },
      startAt: 'price',
      steps: {
        price: { stepType: 'COMPUTE', expression: 'input.qty * 5', defaultNextStepInstanceId: 'check' },
        check: { stepType: 'DECIDE', transitions: [{ condition: 'steps.price > 100', nextStepInstanceId: 'refuse' }], defaultNextStepInstanceId: 'total' },
        total: { stepType: 'COMPUTE', expression: '{total: steps.price}' },
        refuse: { stepType: 'FAIL', code: 'TOO_LARGE', description: 'orders stop at 100' },
      },
    },
  },
} as FlowDefinition;

/** Computes, then calls a module: the module sees the run stored, with the computed step. */
const computeThenCall: FlowDefinition = {
  id: 'c/then-call',
  actions: { main: { startAt: 'price', steps: { price: { stepType: 'COMPUTE', expression: '7', defaultNextStepInstanceId: 'call' }, call: { stepType: 'MODULE', moduleIdentifier: 'test/look' } } } },
} as FlowDefinition;

/** Forty computing steps: more than an execution holds back before a write. */
const longCompute: FlowDefinition = {
  id: 'c/long',
  actions: {
    main: {
      startAt: 's0',
      steps: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`s${i}`, { stepType: 'COMPUTE', expression: i === 0 ? '1' : `steps.s${i - 1} + 1`, ...(i < 39 ? { defaultNextStepInstanceId: `s${i + 1}` } : {}) }])),
    },
  },
} as FlowDefinition;

function history(events: RunEvent[]): string[] {
  return events.map((e) => (e.kind === 'status' ? `status ${e.status}` : e.kind === 'log' ? e.entry.code : e.kind));
}

describe.each(stores)('a run started on %s', (_name, createStore, skip) => {
  async function engineWith(modules: Record<string, (input: Record<string, unknown>, ctx: { runId: string }) => unknown> = {}) {
    const store = createStore();
    const engine = createEngine({ stores: store, modules });
    for (const flow of [quote, computeThenCall, longCompute]) await engine.deployFlow(flow, { publish: true });
    return { engine, store };
  }

  it.skipIf(skip)('answers a start whose steps only compute with the run already ended, and keeps the same history', async () => {
    const { engine } = await engineWith();
    const { requestId, run } = await engine.startRun({ flow: 'c/quote', input: { qty: 3 }, userId: 'ada' });
    expect(run).toMatchObject({ status: 'SUCCEEDED', output: { total: 15 }, runError: null, createdBy: 'ada', leaseOwner: null });
    expect(run.endTime).toBeGreaterThanOrEqual(run.startTime);
    expect(await engine.getRun(requestId)).toMatchObject({ status: 'SUCCEEDED', output: { total: 15 }, endTime: run.endTime });
    expect(history(await engine.getRunEvents(requestId))).toEqual(['status ACTIVE', 'FlowStarted', 'StepSucceeded', 'ledger', 'StepSucceeded', 'StepSucceeded', 'FlowSucceeded', 'status SUCCEEDED']);
    expect((await engine.getRunEvents(requestId)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await engine.getRunLedger(requestId)).map((e) => e.kind)).toEqual(['decide']);
    expect(await engine.waitForRun(requestId)).toMatchObject({ status: 'SUCCEEDED', output: { total: 15 } });
    expect((await engine.listRuns({ status: 'SUCCEEDED' })).runs.map((r: RunRecord) => r.runId)).toEqual([requestId]);
    await engine.close();
  });

  it.skipIf(skip)('answers FAILED with the error when a FAIL step ends it, and runAction returns that error', async () => {
    const { engine } = await engineWith();
    const { requestId, run } = await engine.startRun({ flow: 'c/quote', input: { qty: 30 } });
    expect(run).toMatchObject({ status: 'FAILED', output: null, runError: { code: 'TOO_LARGE', description: 'orders stop at 100', stepId: 'refuse' } });
    expect(history(await engine.getRunEvents(requestId))).toEqual(['status ACTIVE', 'FlowStarted', 'StepSucceeded', 'ledger', 'StepSucceeded', 'StepFailed', 'FlowFailed', 'status FAILED']);
    const result = await engine.runAction({ flow: 'c/quote', input: { qty: 40 } });
    expect(result).toMatchObject({ status: 'FAILED', error: { code: 'TOO_LARGE' } });
    await engine.close();
  });

  it.skipIf(skip)('stores the run, with the steps computed before it, before its first module is called', async () => {
    let seen: RunRecord | null = null;
    const { engine, store } = await engineWith({ 'test/look': async (_input, ctx) => void (seen = await store.getRun(ctx.runId)) });
    const { requestId, run } = await engine.startRun({ flow: 'c/then-call' });
    expect(run.status).toBe('ACTIVE');
    expect(await engine.waitForRun(requestId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(seen).toMatchObject({ status: 'ACTIVE', state: { frames: [{ steps: { price: 7 } }] } });
    expect(history(await engine.getRunEvents(requestId))).toEqual(['status ACTIVE', 'FlowStarted', 'StepSucceeded', 'StepSucceeded', 'FlowSucceeded', 'status SUCCEEDED']);
    await engine.close();
  });

  it.skipIf(skip)('stores a run that computes for long ACTIVE within a bounded number of steps, and it goes on to its end', async () => {
    const { engine } = await engineWith();
    const { requestId, run } = await engine.startRun({ flow: 'c/long' });
    expect(run.status).toBe('ACTIVE');
    expect(await engine.waitForRun(requestId)).toMatchObject({ status: 'SUCCEEDED', output: 40 });
    expect(history(await engine.getRunEvents(requestId)).filter((h) => h === 'StepSucceeded')).toHaveLength(40);
    await engine.close();
  });

  it.skipIf(skip)('refuses a start whose requestId is taken and leaves that run as it was', async () => {
    const { engine } = await engineWith();
    const first = await engine.startRun({ flow: 'c/quote', input: { qty: 1 }, requestId: 'order-1' });
    const before = await engine.getRunEvents('order-1');
    await expect(engine.startRun({ flow: 'c/quote', input: { qty: 30 }, requestId: 'order-1' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await engine.getRun('order-1')).toMatchObject({ status: 'SUCCEEDED', output: { total: 5 }, endTime: first.run.endTime });
    expect(await engine.getRunEvents('order-1')).toEqual(before);
    await engine.whenIdle();
    expect(engine.runsExecuting).toBe(0);
    await engine.close();
  });
});
