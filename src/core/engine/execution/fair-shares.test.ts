/**
 * Fairness (issue 12): one tree's or one principal's runs cannot take every slot of an engine,
 * whether they reach it as new runs, launches or claims from the store; and a long loop of steps
 * gives the event loop back now and then. No timings: small `maxConcurrentRuns`, runs held at a
 * gate that never opens, and another user's run that must still finish.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, createMemoryStores, createSqliteStore, type FlowDefinition } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';
import { FairShares } from './fair-shares.js';

const held = (id: string, launches = 0): FlowDefinition =>
  ({
    id,
    actions: {
      main: {
        startAt: launches > 0 ? 'l0' : 'gate',
        steps: {
          ...Object.fromEntries(Array.from({ length: launches }, (_, i) => [`l${i}`, { stepType: 'RUN_FLOW', flowDefinitionId: 'fair/held', async: true, defaultNextStepInstanceId: i + 1 < launches ? `l${i + 1}` : 'gate' }])),
          gate: { stepType: 'MODULE', moduleIdentifier: 'gate' },
        },
      },
    },
  }) as FlowDefinition;

const threeSteps: FlowDefinition = {
  id: 'fair/quick',
  actions: { main: { startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '1', defaultNextStepInstanceId: 'b' }, b: { stepType: 'COMPUTE', expression: '2', defaultNextStepInstanceId: 'c' }, c: { stepType: 'SUCCEED' } } } },
} as FlowDefinition;

/** A loop that never ends on its own. */
const endlessLoop: FlowDefinition = {
  id: 'fair/endless',
  vars: { n: { type: 'number', default: 0 } },
  actions: { main: { startAt: 'go', steps: { go: { stepType: 'GOTO', subflow: 'it' } } } },
  subflows: { it: { startAt: 'i', steps: { i: { stepType: 'SET', target: '$.vars.n', expression: 'vars.n + 1', defaultNextStepInstanceId: 'g' }, g: { stepType: 'GOTO', subflow: 'it' } } } },
} as FlowDefinition;

function gate() {
  const entered: string[] = [];
  const never = new Promise<never>(() => undefined);
  return { entered, module: async (_input: unknown, ctx: { runId: string }) => (entered.push(ctx.runId), await never) };
}

async function deploy(engine: ReturnType<typeof createEngine>): Promise<void> {
  await engine.deployFlow(held('fair/held'), { publish: true });
  await engine.deployFlow(held('fair/bomb', 8), { publish: true });
  await engine.deployFlow(threeSteps, { publish: true });
}

describe('fair shares of an engine', () => {
  it('holds a tree to half the slots and an owner to three quarters, reservations included, until they lapse', async () => {
    const clock = createManualClock();
    const shares = new FairShares({ maxConcurrentRuns: 4, clock });
    expect([shares.treeShare, shares.ownerShare]).toEqual([2, 3]);
    shares.hold('a1', { treeId: 't', runOwner: 'alice' });
    expect(shares.claimLimit(3)).toBe(1);
    shares.hold('a2', { treeId: 't', runOwner: 'alice' }, clock.now() + 100);
    expect(shares.isFull({ treeId: 't', runOwner: 'alice' })).toBe(true);
    expect(shares.isFull({ treeId: 'u', runOwner: 'alice' })).toBe(false);
    expect(shares.skip()).toEqual({ treeIds: ['t'], runOwners: [] });
    shares.hold('a3', { treeId: 'u', runOwner: 'alice' });
    expect(shares.skip()).toEqual({ treeIds: ['t'], runOwners: ['alice'] });
    await clock.advance(100);
    expect(shares.skip()).toEqual({ treeIds: [], runOwners: [] });
    shares.release('a1');
    shares.release('a3');
    expect(shares.claimLimit(4)).toBe(2);
  });

  it("runs another user's 3-step run while one user's fork tree and loops hold every slot they may", async () => {
    const g = gate();
    const engine = createEngine({ stores: createMemoryStores(), poll: false, maxConcurrentRuns: 4, modules: { gate: g.module } });
    await deploy(engine);
    await engine.startRun({ flow: 'fair/bomb', userId: 'alice' });
    for (let i = 0; i < 3; i++) await engine.startRun({ flow: 'fair/held', userId: 'alice' });
    const { requestId } = await engine.startRun({ flow: 'fair/quick', userId: 'bob' });
    expect(await engine.waitForRun(requestId)).toMatchObject({ status: 'SUCCEEDED' });
    // Alice's runs at the gate: her tree has at most two of the four slots, her other runs one more.
    expect(g.entered.length).toBeLessThanOrEqual(3);
    await engine.close();
  });

  it("claims another user's run from the store past a tree and an owner that fill the claim order", async () => {
    const store = createMemoryStores();
    const g = gate();
    // An engine with no room records runs and leaves them all to claims.
    const recorder = createEngine({ stores: store, poll: false, maxConcurrentRuns: 0, modules: { gate: g.module } });
    await deploy(recorder);
    for (let i = 0; i < 3; i++) await recorder.startRun({ flow: 'fair/held', userId: 'alice', label: `loop ${i}` });
    const bomb = await recorder.startRun({ flow: 'fair/bomb', userId: 'alice' });
    const { requestId } = await recorder.startRun({ flow: 'fair/quick', userId: 'bob' });
    await recorder.close();
    const worker = createEngine({ stores: store, maxConcurrentRuns: 4, pollIntervalMs: 60_000, modules: { gate: g.module } });
    expect(await worker.waitForRun(requestId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(g.entered.length).toBeLessThanOrEqual(3);
    // Alice's fourth run, earlier in the claim order than Bob's, was passed over.
    expect(await worker.getRun(bomb.requestId)).toMatchObject({ status: 'ACTIVE', leaseOwner: null });
    await worker.close();
  });

  it("lets one user fill idle slots, and takes a slot back for another user's run that arrives later", async () => {
    const store = createMemoryStores();
    const recorder = createEngine({ stores: store, poll: false, maxConcurrentRuns: 0 });
    await recorder.deployFlow(endlessLoop, { publish: true });
    await recorder.deployFlow(threeSteps, { publish: true });
    const loops = [];
    for (let i = 0; i < 4; i++) loops.push((await recorder.startRun({ flow: 'fair/endless', userId: 'alice' })).requestId);
    const worker = createEngine({ stores: store, maxConcurrentRuns: 4, pollIntervalMs: 60_000 });
    // All four of Alice's loops run: nobody else was waiting.
    await new Promise<void>((resolve) => {
      const seen = new Set<string>();
      const stop = worker.onAnyRunEvent((event) => {
        seen.add(event.runId);
        if (seen.size === 4) resolve(stop());
      });
    });
    const { requestId } = await recorder.startRun({ flow: 'fair/quick', userId: 'bob' });
    expect(await worker.waitForRun(requestId)).toMatchObject({ status: 'SUCCEEDED' });
    // Bob's run got a slot that one of Alice's loops gave back, not one a loop freed by ending.
    expect((await Promise.all(loops.map((id) => worker.getRun(id)))).map((run) => run.status)).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
    for (const id of loops) await worker.cancelRun(id);
    await worker.close();
    await recorder.close();
  });

  it("keeps one slot in sixteen from a user's runs past their share, so another user's new run starts at once", async () => {
    const store = createMemoryStores();
    const g = gate();
    const recorder = createEngine({ stores: store, poll: false, maxConcurrentRuns: 0, modules: { gate: g.module } });
    await deploy(recorder);
    for (let i = 0; i < 16; i++) await recorder.startRun({ flow: 'fair/held', userId: 'alice' });
    await recorder.close();
    const worker = createEngine({ stores: store, maxConcurrentRuns: 16, pollIntervalMs: 60_000, modules: { gate: g.module } });
    await deploy(worker);
    // Alice's runs hold their slots at a gate that never opens: none gives one back.
    while (g.entered.length < 15) await new Promise((resolve) => setImmediate(resolve));
    const { requestId } = await worker.startRun({ flow: 'fair/quick', userId: 'bob' });
    expect(await worker.waitForRun(requestId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(g.entered).toHaveLength(15);
    await worker.close();
  });

  it('gives the event loop a turn during a long loop of steps over a store that answers in microtasks', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    const loop: FlowDefinition = {
      id: 'fair/loop',
      vars: { n: { type: 'number', default: 0 } },
      actions: { main: { startAt: 'go', steps: { go: { stepType: 'GOTO', subflow: 'it' } } } },
      subflows: {
        it: {
          startAt: 'c',
          steps: {
            c: { stepType: 'DECIDE', transitions: [{ condition: 'vars.n >= 5000', nextStepInstanceId: 'done' }], defaultNextStepInstanceId: 'i' },
            i: { stepType: 'SET', target: '$.vars.n', expression: 'vars.n + 1', defaultNextStepInstanceId: 'g' },
            g: { stepType: 'GOTO', subflow: 'it' },
            done: { stepType: 'SUCCEED' },
          },
        },
      },
    } as FlowDefinition;
    await engine.deployFlow(loop, { publish: true });
    const { requestId } = await engine.startRun({ flow: 'fair/loop' });
    const statusAtNextTurn = await new Promise((resolve) => setImmediate(() => resolve(engine.getRun(requestId).then((run) => run.status))));
    expect(statusAtNextTurn).toBe('ACTIVE');
    expect(await engine.waitForRun(requestId)).toMatchObject({ status: 'SUCCEEDED' });
    await engine.close();
  });
});

describe('whenIdle with a backlog held back by fair shares', () => {
  it.each([
    ['memory', () => createMemoryStores()],
    ['a SQLite file', () => createSqliteStore({ path: join(mkdtempSync(join(tmpdir(), 'flowrun-idle-')), 'flowrun.db') })],
  ])('resolves only once every run of one owner past its share has ended (%s)', async (_name, stores) => {
    const store = stores();
    const engine = createEngine({ stores: store, maxConcurrentRuns: 8 });
    await engine.deployFlow(threeSteps, { publish: true });
    await Promise.all(Array.from({ length: 40 }, () => engine.startRun({ flow: threeSteps.id, userId: 'alice' })));
    await engine.whenIdle();
    expect((await store.listRuns({ status: 'SUCCEEDED', limit: 100 })).runs).toHaveLength(40);
    await engine.close();
    await store.close();
  });
});
