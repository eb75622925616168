/**
 * Fair turns of the event loop (issue 12): one principal's hundreds of runs going on at once do
 * not hold the loop, nor another principal's run, for longer than one slice of their own. No
 * timings: the order of steps, counted by modules, and a manual scheduler for the slices.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition } from '../../../index.js';
import { FairQueue } from './fair-queue.js';
import { TurnGate } from './turn-gate.js';

const party = (runOwner: string, treeId = runOwner): { runOwner: string; treeId: string } => ({ runOwner, treeId });

function manualSlices(): { defer: (callback: () => void) => void; next: () => Promise<void> } {
  const due: (() => void)[] = [];
  return {
    defer: (callback) => void due.push(callback),
    async next() {
      for (const callback of due.splice(0)) callback();
      await new Promise<void>((resolve) => queueMicrotask(resolve));
    },
  };
}

describe('FairQueue', () => {
  it('serves owners in turns, then their trees in turns, each tree first in first out', () => {
    const queue = new FairQueue<string>();
    for (let i = 1; i <= 3; i++) queue.push(`m-t${i}`, party('mallory', 't'));
    queue.push('m-u1', party('mallory', 'u'));
    queue.push('b-v1', party('bob', 'v'));
    queue.push('b-v2', party('bob', 'v'));
    const order = [];
    for (let entry = queue.take(); entry; entry = queue.take()) order.push(entry);
    expect(order).toEqual(['m-t1', 'b-v1', 'm-u1', 'b-v2', 'm-t2', 'm-t3']);
  });

  it('leaves the trees it may not take in their place', () => {
    const queue = new FairQueue<string>();
    queue.push('m1', party('mallory'));
    queue.push('m2', party('mallory'));
    queue.push('b1', party('bob'));
    expect(queue.take((entry) => !entry.startsWith('m'))).toBe('b1');
    expect(queue.take((entry) => !entry.startsWith('m'))).toBeUndefined();
    expect([queue.take(), queue.take(), queue.size]).toEqual(['m1', 'm2', 0]);
  });
});

describe('TurnGate', () => {
  it("gives an owner its slice's turns at once, the rest in later slices, and another owner its turn at once", async () => {
    const slices = manualSlices();
    const gate = new TurnGate({ turnsPerSlice: 2, defer: slices.defer });
    const went: string[] = [];
    const go = (who: string, treeId?: string): void => {
      const turn = gate.turn(party(who, treeId));
      if (turn) void turn.then(() => went.push(who));
      else went.push(who);
    };
    for (let i = 0; i < 5; i++) go('mallory', `t${i % 2}`);
    go('bob');
    expect(went).toEqual(['mallory', 'mallory', 'bob']);
    expect(gate.waiting).toBe(3);
    await slices.next();
    expect(went).toHaveLength(5);
    // A new turn of mallory's queues behind her waiting one rather than jumping it.
    go('mallory');
    await slices.next();
    expect([went.length, gate.waiting]).toEqual([7, 0]);
  });
});

const mallorysRun: FlowDefinition = {
  id: 'turns/mallory',
  actions: {
    main: {
      startAt: 'a',
      steps: {
        a: { stepType: 'MODULE', moduleIdentifier: 'mallory', defaultNextStepInstanceId: 'b' },
        b: { stepType: 'MODULE', moduleIdentifier: 'mallory', defaultNextStepInstanceId: 'c' },
        c: { stepType: 'MODULE', moduleIdentifier: 'mallory' },
      },
    },
  },
} as FlowDefinition;

const bobsRun: FlowDefinition = {
  id: 'turns/bob',
  actions: { main: { startAt: 'a', steps: { a: { stepType: 'MODULE', moduleIdentifier: 'bob' } } } },
} as FlowDefinition;

async function engineWithSteps(): Promise<{ engine: ReturnType<typeof createEngine>; steps: string[] }> {
  const steps: string[] = [];
  const engine = createEngine({
    stores: createMemoryStores(),
    poll: false,
    // Room for everyone: the fair shares of slots are not what is tested here.
    maxConcurrentRuns: 2048,
    modules: { mallory: () => void steps.push('mallory'), bob: () => void steps.push('bob') },
  });
  await engine.deployFlow(mallorysRun, { publish: true });
  await engine.deployFlow(bobsRun, { publish: true });
  return { engine, steps };
}

describe('turns of executing runs', () => {
  it("runs another principal's step within the first slice while one principal's 500 runs go on", async () => {
    const { engine, steps } = await engineWithSteps();
    const mallorys = Array.from({ length: 500 }, () => engine.startRun({ flow: mallorysRun.id, userId: 'mallory' }));
    const bob = await engine.startRun({ flow: bobsRun.id, userId: 'bob' });
    expect(await engine.waitForRun(bob.requestId)).toMatchObject({ status: 'SUCCEEDED' });
    // FIFO, Bob's step came after all 500 of Mallory's first steps; in turns, within her first slice (64).
    expect(steps.indexOf('bob')).toBeLessThan(128);
    await Promise.all(mallorys);
    await engine.whenIdle();
    expect(steps.filter((who) => who === 'mallory')).toHaveLength(1500);
    await engine.close();
  });

  it("gives the event loop a turn at least every slice while one principal's 500 runs go on", async () => {
    const { engine, steps } = await engineWithSteps();
    // The steps taken in each turn of the event loop, until everything ended.
    const perTurn: number[] = [];
    let done = false;
    const counted = new Promise<void>((resolve) => {
      let last = 0;
      const count = (): void => {
        perTurn.push(steps.length - last);
        last = steps.length;
        if (done) resolve();
        else setImmediate(count);
      };
      setImmediate(count);
    });
    await Promise.all(Array.from({ length: 500 }, () => engine.startRun({ flow: mallorysRun.id, userId: 'mallory' })));
    await engine.whenIdle();
    done = true;
    await counted;
    expect(steps).toHaveLength(1500);
    // FIFO, hundreds of steps went in one turn (a commit settles many runs' writes at once); in turns, one slice (64).
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(64);
    await engine.close();
  });
});
