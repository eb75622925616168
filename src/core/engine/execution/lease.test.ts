import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';

describe('leases', () => {
  it('renews the lease of a long module step, so nobody else can claim the run meanwhile', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    let finish: () => void = () => undefined;
    const engine = createEngine({ stores, clock, poll: false, leaseMs: 3_000, modules: { long: () => new Promise((r) => (finish = () => r('done'))) } });
    const running = engine.runAction({ flow: { id: 'long', actions: { main: { startAt: 'l', steps: { l: { stepType: 'MODULE', moduleIdentifier: 'long' } } } } } });
    for (let i = 0; i < 10; i++) await clock.advance(1_000);
    const [run] = (await stores.listRuns({})).runs;
    expect(await stores.claimRun({ runId: run!.runId, owner: 'intruder', now: clock.now(), leaseExpiresAt: clock.now() + 3_000 })).toBeNull();
    finish();
    expect((await running).status).toBe('SUCCEEDED');
  });

  it('stops a run whose lease another owner took, aborting its module and writing nothing more', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    let aborted: unknown = null;
    const engine = createEngine({
      stores,
      clock,
      poll: false,
      leaseMs: 3_000,
      modules: { hang: (_input, ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => reject((aborted = ctx.signal.reason)))) },
    });
    const { requestId } = await engine.startRun({ flow: { id: 'hang', actions: { main: { startAt: 'h', steps: { h: { stepType: 'MODULE', moduleIdentifier: 'hang', retry: { maxAttempts: 5 } } } } } } });
    await clock.advance(0);
    // Another process takes the run over (as if this one had stalled past its lease).
    const before = await stores.getRun(requestId);
    await stores.renewLeases({ owner: engine.workerId, runIds: [requestId], expiresAt: clock.now() });
    const taken = await stores.claimRun({ runId: requestId, owner: 'other', now: clock.now(), leaseExpiresAt: clock.now() + 60_000 });
    expect(taken).not.toBeNull();
    await clock.advance(1_000); // the next heartbeat finds the lease gone
    expect(aborted).toMatchObject({ code: 'LEASE_LOST' });
    const after = await stores.getRun(requestId);
    expect(after).toMatchObject({ status: 'ACTIVE', leaseOwner: 'other', version: before!.version, lastSeq: before!.lastSeq });
    await engine.close();
  });
});

describe('retention', () => {
  it('deletes ended runs older than the policy in batches, and keeps recent and active ones', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const engine = createEngine({ stores, clock, poll: false });
    const quick = { id: 'quick', actions: { main: { startAt: 's', steps: { s: { stepType: 'COMPUTE' as const, expression: '1' } } } } };
    for (let i = 0; i < 7; i++) await engine.runAction({ flow: quick });
    // A run that is still active (recorded, never executed here) is never deleted, however old.
    const idle = createEngine({ stores, clock, poll: false, maxConcurrentRuns: 0 });
    await idle.startRun({ flow: { id: 'stuck', actions: { main: { startAt: 'w', steps: { w: { stepType: 'MODULE', moduleIdentifier: 'wait' } } } } } });
    await clock.advance(31 * 86_400_000);
    const recent = await engine.runAction({ flow: quick });
    const { sweepEndedRuns } = await import('./retention.js');
    expect(await sweepEndedRuns(stores, clock, { days: 30, batchSize: 3 })).toBe(7);
    const left = (await stores.listRuns({})).runs.map((r) => r.flowId).sort();
    expect(left).toEqual(['quick', 'stuck']);
    expect((await stores.getRun(recent.requestId))?.status).toBe('SUCCEEDED');
    await engine.close();
  });
});
