/**
 * The launch budget (maxLaunchesPerSecond, issue 12): launches past a run tree's rate wait for
 * their turn instead of failing, other trees' launches (the same user's too) do not wait behind
 * them, and a fork bomb grows at the rate.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../create-engine.js';
import { createMemoryStores } from '../../../store/memory/memory-store.js';
import { createManualClock } from '../../../testing/manual-clock.js';
import type { FlowDefinition } from '../../model.js';
import type { Store } from '../../store.js';
import { FORK_FLOW } from '../../../../test/support/hostile-flows.js';
import { LaunchPacer } from './launch-pacer.js';

const LEAF: FlowDefinition = { id: 'm/leaf', actions: { main: { startAt: 'a', steps: { a: { stepType: 'SUCCEED' } } } } };

/** A flow that launches m/leaf five times, one step each. */
const FAN: FlowDefinition = {
  id: 'm/fan',
  actions: {
    main: {
      startAt: 'l1',
      steps: Object.fromEntries(
        [1, 2, 3, 4, 5].map((i) => [`l${i}`, { stepType: 'RUN_FLOW' as const, flowDefinitionId: 'm/leaf', async: true, ...(i < 5 ? { defaultNextStepInstanceId: `l${i + 1}` } : {}) }]),
      ),
    },
  },
};

async function runsOf(store: Store, flowId: string): Promise<{ treeId: string; status: string }[]> {
  return (await store.listRuns({ flowId, limit: 1000 })).runs;
}

describe('the launch budget (maxLaunchesPerSecond)', () => {
  it('makes launches past the rate wait for their turn, not fail, and leaves other trees’ launches alone', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const engine = createEngine({ stores, clock, poll: false, runtimeConfig: { budgets: { maxLaunchesPerSecond: 2 } } });
    for (const flow of [LEAF, FAN]) await engine.deployFlow(flow, { publish: true });

    const { requestId } = await engine.startRun({ flow: 'm/fan', userId: 'alice' });
    await clock.advance(0);
    // The burst (2) at once; the third launch waits half a second, the step with it.
    expect(await runsOf(stores, 'm/leaf')).toHaveLength(2);
    expect((await engine.getRun(requestId)).status).toBe('ACTIVE');

    // Another tree's launches (alice's too) do not wait behind the first tree's.
    const other = await engine.startRun({ flow: 'm/fan', userId: 'alice' });
    await clock.advance(0);
    expect((await runsOf(stores, 'm/leaf')).filter((r) => r.treeId === other.requestId)).toHaveLength(2);

    await clock.advance(499);
    expect((await runsOf(stores, 'm/leaf')).filter((r) => r.treeId === requestId)).toHaveLength(2);
    await clock.advance(1);
    expect((await runsOf(stores, 'm/leaf')).filter((r) => r.treeId === requestId)).toHaveLength(3);

    await clock.advance(1_000);
    const leaves = await runsOf(stores, 'm/leaf');
    expect(leaves).toHaveLength(10);
    expect(leaves.every((r) => r.status === 'SUCCEEDED')).toBe(true);
    expect((await engine.getRun(requestId)).status).toBe('SUCCEEDED');
    expect((await engine.getRun(other.requestId)).status).toBe('SUCCEEDED');
    await engine.close();
  });

  it('grows a fork bomb at the rate', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const engine = createEngine({ stores, clock, poll: false, runtimeConfig: { budgets: { maxLaunchesPerSecond: 10 } } });
    await engine.deployFlow(FORK_FLOW, { publish: true });
    const { requestId } = await engine.startRun({ flow: 'm/fork', userId: 'mallory' });
    await clock.advance(0);
    expect(await runsOf(stores, 'm/fork')).toHaveLength(1 + 10);
    await clock.advance(1_000);
    expect(await runsOf(stores, 'm/fork')).toHaveLength(1 + 20);
    await engine.cancelRun(requestId, { tree: true });
    await engine.close();
  });

  it('starts nothing more when a run is canceled while its launch waits', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const engine = createEngine({ stores, clock, poll: false, runtimeConfig: { budgets: { maxLaunchesPerSecond: 1 } } });
    for (const flow of [LEAF, FAN]) await engine.deployFlow(flow, { publish: true });
    const { requestId } = await engine.startRun({ flow: 'm/fan', userId: 'alice' });
    await clock.advance(0);
    expect(await runsOf(stores, 'm/leaf')).toHaveLength(1);
    expect((await engine.cancelRun(requestId)).status).toBe('CANCELED');
    await clock.advance(5_000);
    expect(await runsOf(stores, 'm/leaf')).toHaveLength(1);
    expect((await engine.getRun(requestId)).status).toBe('CANCELED');
    await engine.close();
  });

  it('gives up a booking at once when its signal aborts', async () => {
    const clock = createManualClock();
    const pacer = new LaunchPacer({ launchesPerSecond: 1, clock });
    expect(pacer.pace('alice')).toBeNull();
    const controller = new AbortController();
    const waiting = pacer.pace('alice', controller.signal);
    expect(waiting).not.toBeNull();
    controller.abort(new Error('canceled'));
    await expect(waiting).rejects.toThrow('canceled');
  });
});
