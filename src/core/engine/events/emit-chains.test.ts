/**
 * EMIT chains (issue 12): the runs an EMIT's event starts join the emitting run's tree, so a flow
 * subscribed to an event it emits is stopped at `maxRunsPerTree`, like a flow that launches itself;
 * events published from outside still start trees of their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createEngine, createFilesystemStores, createMemoryStores, type FlowDefinition, type Logger, type RunRecord, type Store } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../../../../test/support/pg-schema.js';
import { openStoreSpec } from '../../../cli/store-spec.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'flowrun-emit-chains-'));
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  rmSync(tempRoot, { recursive: true, force: true });
  for (const drop of drops) await drop();
});

/** A flow subscribed to the event it emits: each run starts the next, without end. */
const echo: FlowDefinition = {
  id: 'm/echo',
  actions: { main: { startAt: 'again', steps: { again: { stepType: 'EMIT', event: 'echo.again', payload: '{n: 1}' } } } },
  subscriptions: [{ on: 'echo.again', run: 'main' }],
} as FlowDefinition;

const stores: [string, () => Store, boolean][] = [
  ['memory', () => createMemoryStores(), false],
  ['a SQLite file', () => createFilesystemStores({ rootDir: mkdtempSync(join(tempRoot, 'db-')) }), false],
  [
    `PostgreSQL${pgSkipNote}`,
    () => {
      const { spec, drop } = freshPgSchema('flowrun_emit_chains');
      drops.push(drop);
      return openStoreSpec(spec);
    },
    !pgUrl,
  ],
];

async function allRuns(store: Store, flowId: string): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for (let marker: string | null | undefined; marker !== null; ) {
    const page = await store.listRuns({ flowId, limit: 100, ...(marker ? { marker } : {}) });
    runs.push(...page.runs);
    marker = page.marker;
  }
  return runs;
}

describe.each(stores)('a flow subscribed to the event it emits, over %s', (_name, createStore, skip) => {
  it.skipIf(skip)('stops at maxRunsPerTree: the tree holds exactly the budget, and the refused start is logged, not reported', async () => {
    const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
    const logger: Logger = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (obj, msg) => void warnings.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' }) };
    const engine = createEngine({ stores: createStore(), poll: false, runtimeConfig: { logger, budgets: { maxRunsPerTree: 20 } } });
    try {
      // Deployed in-process (no deployedBy): trusted, so the subscription needs no grant.
      await engine.deployFlow(echo, { publish: true });
      const { requestId } = await engine.startRun({ flow: 'm/echo' });
      // Until the chain ends (or, without the bound, runs past the budget).
      await vi.waitFor(
        async () => {
          await engine.whenIdle();
          const runs = await allRuns(engine.store, 'm/echo');
          const pending = await engine.store.listPendingEmits({ recordedBefore: Number.MAX_SAFE_INTEGER, limit: 10 });
          expect(runs.length > 20 || (pending.length === 0 && runs.every((run) => run.status === 'SUCCEEDED'))).toBe(true);
        },
        { timeout: 20_000, interval: 20 },
      );
      const runs = await allRuns(engine.store, 'm/echo');
      expect(runs).toHaveLength(20);
      expect(runs.every((run) => run.treeId === requestId && run.status === 'SUCCEEDED')).toBe(true);
      // Event-started runs have no synchronous parent: each is its own root.
      expect(runs.filter((run) => run.source === 'event').every((run) => run.rootRunId === run.runId && run.parentRunId === null)).toBe(true);
      expect(await engine.store.getRunTree(requestId)).toEqual({ treeId: requestId, runCount: 20, canceled: false });
      const refused = warnings.find((w) => w.obj.flowId === 'm/echo' && /not started: LIMIT_EXCEEDED/.test(w.msg));
      expect(refused?.obj.err).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 'maxRunsPerTree', max: 20, value: 21 } });
    } finally {
      await engine.close();
      await engine.store.close();
    }
  });

  it.skipIf(skip)('an event published from outside starts a tree of its own', async () => {
    const engine = createEngine({ stores: createStore(), poll: false, runtimeConfig: { budgets: { maxRunsPerTree: 1 } } });
    try {
      await engine.deployFlow({ ...echo, actions: { main: { startAt: 'done', steps: { done: { stepType: 'COMPUTE', expression: '{}' } } } } } as FlowDefinition, { publish: true });
      const published = await engine.publishEvent('echo.again', {});
      expect(published.runIds).toHaveLength(1);
      const run = await engine.store.getRun(published.runIds[0]!);
      expect(run).toMatchObject({ treeId: published.runIds[0], rootRunId: published.runIds[0] });
      await engine.whenIdle();
    } finally {
      await engine.close();
      await engine.store.close();
    }
  });
});

describe('an EMIT published by the outbox sweep', () => {
  it("starts its subscribers in the emitting run's tree, read from the run (a dead process committed it unpublished)", async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const listener: FlowDefinition = { id: 'm/listen', actions: { main: { startAt: 'r', steps: { r: { stepType: 'COMPUTE', expression: '{}' } } } }, subscriptions: [{ on: 'swept', run: 'main' }] };
    const deployer = createEngine({ stores, clock, poll: false });
    await deployer.deployFlow(listener, { publish: true });
    const run = deployer.buildRun({ flow: await deployer.loadFlow('m/listen'), actionName: 'main', input: {}, source: 'http' });
    await deployer.close();
    const created = await stores.createRun({ run, lease: { owner: 'dead', expiresAt: clock.now() + 1_000 } });
    await stores.recordTransition({
      runId: run.runId,
      lease: { owner: 'dead', fencingToken: created.lease!.fencingToken },
      expectedVersion: 0,
      at: clock.now(),
      patch: { status: 'SUCCEEDED', output: null, endTime: clock.now() },
      emits: [{ eventId: `${run.runId}:0:emit`, event: 'swept', payload: {} }],
    });
    const engine = createEngine({ stores, clock, leaseMs: 1_000, pollIntervalMs: 200 });
    try {
      await clock.advance(1_000);
      await vi.waitFor(async () => expect((await stores.listRuns({ flowId: 'm/listen', status: 'SUCCEEDED' })).runs).toHaveLength(2), { timeout: 5_000, interval: 5 });
      const started = (await stores.listRuns({ flowId: 'm/listen' })).runs.find((r) => r.source === 'event');
      expect(started).toMatchObject({ treeId: run.runId, rootRunId: started?.runId });
      expect(await stores.getRunTree(run.runId)).toMatchObject({ runCount: 2 });
    } finally {
      await engine.close();
    }
  });
});
