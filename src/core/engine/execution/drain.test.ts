/**
 * Draining an engine before it stops (a worker's SIGTERM): its runs go back to the store at once
 * — at their next step, or stopped after the drain timeout — so another engine resumes them
 * without waiting for their leases to run out, and no completed step runs again.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition, type Module } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';

const flow: FlowDefinition = {
  id: 'drain/three',
  actions: {
    main: {
      startAt: 'a',
      steps: {
        a: { stepType: 'MODULE', moduleIdentifier: 'slow', defaultNextStepInstanceId: 'b' },
        b: { stepType: 'MODULE', moduleIdentifier: 'fast', defaultNextStepInstanceId: 'c' },
        c: { stepType: 'MODULE', moduleIdentifier: 'fast' },
      },
    },
  },
};

describe('drain', () => {
  it('gives a run back at its next step, so another engine resumes it at once and runs no step twice', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const calls: string[] = [];
    let finishSlow: () => void = () => undefined;
    const slow: Module = () => new Promise((resolve) => (finishSlow = () => resolve(calls.push('slow'))));
    const fast: Module = (_input, ctx) => calls.push(`fast ${ctx.stepId}`);
    const first = createEngine({ stores, clock, poll: false, leaseMs: 30_000, modules: { slow, fast } });
    const { requestId } = await first.startRun({ flow });
    await clock.advance(0);
    const closing = first.close({ drainMs: 10_000 });
    finishSlow();
    await closing;
    expect(await stores.getRun(requestId)).toMatchObject({ status: 'ACTIVE', leaseOwner: null });
    const second = createEngine({ stores, clock, pollIntervalMs: 100, leaseMs: 30_000, modules: { slow, fast } });
    await clock.advance(100);
    await clock.advance(100);
    await second.whenIdle();
    expect((await stores.getRun(requestId))?.status).toBe('SUCCEEDED');
    expect(calls).toEqual(['slow', 'fast b', 'fast c']);
    await second.close();
  });

  it('stops a step still running after the drain timeout and hands its run back at once: the step runs again elsewhere, with the same key', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const keys: string[] = [];
    let hang = true;
    const slow: Module = (_input, ctx) => {
      keys.push(ctx.idempotencyKey);
      if (!hang) return 1;
      return new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
    };
    const fast: Module = () => 1;
    const first = createEngine({ stores, clock, poll: false, leaseMs: 30_000, modules: { slow, fast } });
    const { requestId } = await first.startRun({ flow });
    await clock.advance(0);
    const closing = first.close({ drainMs: 1_000 });
    await clock.advance(1_000);
    await closing;
    const handedBack = await stores.getRun(requestId);
    expect(handedBack?.status).toBe('ACTIVE');
    expect(handedBack?.leaseExpiresAt).toBeLessThanOrEqual(clock.now());
    hang = false;
    const second = createEngine({ stores, clock, pollIntervalMs: 100, leaseMs: 30_000, modules: { slow, fast } });
    await clock.advance(100);
    await clock.advance(100);
    await second.whenIdle();
    expect((await stores.getRun(requestId))?.status).toBe('SUCCEEDED');
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(clock.now()).toBeLessThan(30_000 + (await stores.getRun(requestId))!.startTime); // not after the lease ran out
    await second.close();
  });

  it('executes nothing with maxConcurrentRuns 0 (an API process): the run waits in the store for a worker', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const api = createEngine({ stores, clock, maxConcurrentRuns: 0, poll: false, modules: { slow: () => 1, fast: () => 1 } });
    const { requestId } = await api.startRun({ flow });
    await clock.advance(5_000);
    expect(await stores.getRun(requestId)).toMatchObject({ status: 'ACTIVE', leaseOwner: null });
    const worker = createEngine({ stores, clock, pollIntervalMs: 100, modules: { slow: () => 1, fast: () => 1 } });
    await clock.advance(100);
    await worker.whenIdle();
    expect((await api.waitForRun(requestId)).status).toBe('SUCCEEDED');
    await api.close();
    await worker.close();
  });
});
