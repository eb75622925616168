import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition, type Module, type ModelResolver, type Store } from '../../../index.js';
import type { Clock } from '../../clock.js';
import { createManualClock, type ManualClock } from '../../../testing/index.js';

const LEASE_MS = 3_000;

/**
 * A process's view of a shared store that can be frozen (SIGSTOP, a starved CPU): calls made while
 * frozen reach the store and take effect, but their answers are read only once it is thawed.
 */
function freezable(store: Store): { store: Store; freeze(): void; thaw(): void } {
  let thawed: Promise<void> | null = null;
  let thaw = (): void => undefined;
  const view = new Proxy(store, {
    get: (target, name) => {
      const value = Reflect.get(target, name, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const answer = (value as (...a: unknown[]) => unknown).apply(target, args);
        const held = thawed;
        return held && answer instanceof Promise ? answer.then(async (result: unknown) => (await held, result)) : answer;
      };
    },
  });
  return {
    store: view,
    freeze: () => void (thawed = new Promise<void>((resolve) => (thaw = resolve))),
    thaw: () => {
      thawed = null;
      thaw();
    },
  };
}

/** A loaded process's clock: its timers fire `lateMs` late (the event loop's delay, set as the test goes). */
function lateTimers(clock: ManualClock): { clock: Clock; lateMs: number } {
  const late: { clock: Clock; lateMs: number } = { lateMs: 0, clock: { now: () => clock.now(), setTimeout: (callback, delayMs, options) => clock.setTimeout(callback, delayMs + late.lateMs, options) } };
  return late;
}

/** First a step this test finishes by hand, then the step (a module or an ASK) whose callers it counts. */
function twoSteps(effect: 'MODULE' | 'ASK'): FlowDefinition {
  const last = effect === 'MODULE' ? { stepType: 'MODULE' as const, moduleIdentifier: 'effect' } : { stepType: 'ASK' as const, model: 'test:model', returns: { who: { type: 'text' as const } } };
  return { id: 'two-steps', actions: { main: { startAt: 'first', steps: { first: { stepType: 'MODULE', moduleIdentifier: 'first', defaultNextStepInstanceId: 'effect' }, effect: last } } } };
}

/** Modules and a model that run `effect` (the test's module or model call) for `who`. */
function calling(effect: () => unknown): { modules: Record<string, Module>; runtimeConfig: { modelResolver: ModelResolver } } {
  return {
    modules: { first: () => 'first', effect: () => effect() },
    runtimeConfig: { modelResolver: () => ({ generate: async () => ({ who: await effect() }) }) },
  };
}

describe('a call out under a lease', () => {
  it.each(['MODULE', 'ASK'] as const)('is never made (%s) by a process that was frozen past its lease while another process took the run over', async (kind) => {
    const clock = createManualClock();
    const shared = createMemoryStores();
    const a = freezable(shared);
    const calls: string[] = [];
    let finishFirst = (): void => undefined;
    let finishB = (): void => undefined;
    const asA = calling(() => (calls.push('A'), 'A'));
    const engineA = createEngine({
      stores: a.store,
      clock,
      poll: false,
      leaseMs: LEASE_MS,
      workerId: 'A',
      runtimeConfig: asA.runtimeConfig,
      modules: { ...asA.modules, first: () => new Promise<string>((resolve) => (finishFirst = () => resolve('first'))) },
    });
    const engineB = createEngine({ stores: shared, clock, poll: false, leaseMs: LEASE_MS, workerId: 'B', ...calling(() => new Promise<string>((resolve) => (calls.push('B'), (finishB = () => resolve('B'))))) });
    const { requestId } = await engineA.startRun({ flow: twoSteps(kind) });
    await clock.advance(LEASE_MS / 3); // A's heartbeat renews its lease once
    // A freezes right after its next renewal and the commit of `first` went out: the store applies
    // both, A reads neither answer.
    a.freeze();
    await clock.advance(LEASE_MS / 3);
    finishFirst();
    await clock.advance(0);
    expect((await shared.getRun(requestId))?.state.frames[0]?.at).toBe('effect');
    // A's lease runs out while it is frozen; B takes the run over and is inside `effect`.
    await clock.advance(LEASE_MS + 1);
    engineB.dispatch(requestId);
    await clock.advance(0);
    expect(calls).toEqual(['B']);
    expect((await shared.getRun(requestId))?.leaseOwner).toBe('B');
    // A wakes up, reads its answers and would go on to `effect`: it must not call it.
    a.thaw();
    await clock.advance(0);
    expect(calls).toEqual(['B']);
    finishB();
    await clock.advance(0);
    expect(await shared.getRun(requestId)).toMatchObject({ status: 'SUCCEEDED', output: kind === 'MODULE' ? 'B' : { who: 'B' } });
    await engineA.close();
    await engineB.close();
  });

  /** Engine A alone, frozen right after its renewal and the commit of `first` went out, then left frozen past its lease. */
  async function frozenPastLease(): Promise<{ clock: ManualClock; shared: Store; a: ReturnType<typeof freezable>; calls: string[]; engineA: ReturnType<typeof createEngine>; requestId: string }> {
    const clock = createManualClock();
    const shared = createMemoryStores();
    const a = freezable(shared);
    const calls: string[] = [];
    let finishFirst = (): void => undefined;
    const asA = calling(() => (calls.push('A'), 'A'));
    const engineA = createEngine({ stores: a.store, clock, poll: false, leaseMs: LEASE_MS, workerId: 'A', modules: { ...asA.modules, first: () => new Promise<string>((resolve) => (finishFirst = () => resolve('first'))) } });
    const { requestId } = await engineA.startRun({ flow: twoSteps('MODULE') });
    await clock.advance(LEASE_MS / 3);
    a.freeze();
    await clock.advance(LEASE_MS / 3);
    finishFirst();
    await clock.advance(LEASE_MS + 1);
    return { clock, shared, a, calls, engineA, requestId };
  }

  it('is made once when the process that was frozen past its lease claims the run again itself', async () => {
    const { clock, shared, a, calls, engineA, requestId } = await frozenPastLease();
    // Its poll claims the run again before it reads the answers of its renewal and commit.
    engineA.dispatch(requestId);
    await clock.advance(0);
    a.thaw();
    await clock.advance(0);
    await clock.advance(0);
    expect(calls).toEqual(['A']);
    expect(await shared.getRun(requestId)).toMatchObject({ status: 'SUCCEEDED', output: 'A' });
    await engineA.close();
  });

  it('calls the module of a process paused past its lease when nobody took the run over (its lease renewed first)', async () => {
    const { clock, shared, a, calls, engineA, requestId } = await frozenPastLease();
    a.thaw();
    await clock.advance(0);
    expect(calls).toEqual(['A']);
    expect(await shared.getRun(requestId)).toMatchObject({ status: 'SUCCEEDED', output: 'A' });
    await engineA.close();
  });

  it('keeps the lease of a long module while the process runs its timers late by up to 90 % of the lease', async () => {
    const clock = createManualClock();
    const stores = createMemoryStores();
    const loaded = lateTimers(clock);
    let finish = (): void => undefined;
    let aborted: unknown = null;
    const engine = createEngine({
      stores,
      clock: loaded.clock,
      poll: false,
      leaseMs: LEASE_MS,
      modules: {
        long: (_input, ctx) =>
          new Promise<string>((resolve, reject) => {
            finish = () => resolve('done');
            ctx.signal.addEventListener('abort', () => reject((aborted = ctx.signal.reason)));
          }),
      },
    });
    const running = engine.runAction({ flow: { id: 'long', actions: { main: { startAt: 'l', steps: { l: { stepType: 'MODULE', moduleIdentifier: 'long' } } } } } });
    await clock.advance(0);
    // The loop falls behind step by step, up to 0.9 of the lease, and stays there for ten leases.
    for (const lateMs of [0.3, 0.6, 0.9].map((share) => share * LEASE_MS)) {
      loaded.lateMs = lateMs;
      await clock.advance(LEASE_MS);
    }
    for (let i = 0; i < 10; i++) await clock.advance(LEASE_MS);
    expect(aborted).toBeNull();
    const [run] = (await stores.listRuns({})).runs;
    expect(await stores.claimRun({ runId: run!.runId, owner: 'intruder', now: clock.now(), leaseExpiresAt: clock.now() + LEASE_MS })).toBeNull();
    finish();
    expect((await running).status).toBe('SUCCEEDED');
    await engine.close();
  });
});
