/**
 * Seed 002: `void runAction({...opts, requestId})`, then watching `requestId` at once — the run is
 * not recorded yet. A watch waits for it (budget maxWatchWaitMs), and a run its watcher may not
 * read answers exactly like one that never comes.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type Engine, type FlowDefinition, type LiveRunEvent } from '../../../index.js';
import { createManualClock, type ManualClock } from '../../../testing/index.js';

const job: FlowDefinition = {
  id: 'nightly/digest',
  actions: { main: { startAt: 'digest', steps: { digest: { stepType: 'MODULE', moduleIdentifier: 'digest' } } } },
};

function engineWith(clock: ManualClock, budgets: Record<string, number> = {}): Engine {
  return createEngine({
    stores: createMemoryStores(),
    clock,
    poll: false,
    pollIntervalMs: 100,
    runtimeConfig: { budgets },
    modules: {
      // Transient items at once, before any watcher could have polled for the run.
      digest: async (_input, ctx) => {
        ctx.emitItem({ type: 'typing', content: 'working', transient: true }).done();
        return { lines: 3 };
      },
    },
  });
}

/** Watches in the background; `outcome` settles with the events or the error. */
function watch(engine: Engine, runId: string, as?: string): { events: LiveRunEvent[]; outcome: Promise<LiveRunEvent[] | { code: string }>; settled: () => boolean } {
  const events: LiveRunEvent[] = [];
  let done = false;
  const outcome = (async () => {
    try {
      for await (const event of engine.watchRun(runId, as === undefined ? {} : { as })) events.push(event);
      return events;
    } catch (error) {
      return { code: (error as { code: string }).code };
    } finally {
      done = true;
    }
  })();
  return { events, outcome, settled: () => done };
}

describe('watching a run before it is recorded', () => {
  it('waits for a run a job has not recorded yet and streams all of it, transient items included', async () => {
    const clock = createManualClock();
    const engine = engineWith(clock);
    const requestId = 'job-run-1';
    const watching = watch(engine, requestId);
    await clock.advance(2_000); // the job is still starting
    expect(watching.settled()).toBe(false);
    void engine.runAction({ flow: job, requestId, userId: 'user_42', source: 'manual' });
    await clock.advance(100);
    const events = await watching.outcome;
    expect(Array.isArray(events)).toBe(true);
    const kinds = (events as LiveRunEvent[]).map((e) => (e.kind === 'item' ? `item:${e.change}${e.transient ? ':transient' : ''}` : e.kind === 'status' ? `status:${e.status}` : e.kind));
    expect(kinds[0]).toBe('status:ACTIVE');
    expect(kinds).toContain('item:added:transient');
    expect(kinds).toContain('item:done:transient');
    expect(kinds.at(-1)).toBe('status:SUCCEEDED');
    await engine.close();
  });

  it('answers RUN_NOT_FOUND once maxWatchWaitMs passed without the run', async () => {
    const clock = createManualClock();
    const engine = engineWith(clock, { maxWatchWaitMs: 3_000 });
    const watching = watch(engine, 'never-started');
    await clock.advance(2_999);
    expect(watching.settled()).toBe(false);
    await clock.advance(1);
    expect(await watching.outcome).toEqual({ code: 'RUN_NOT_FOUND' });
    await engine.close();
  });

  it('answers a run its watcher may not read like a missing one: RUN_NOT_FOUND after the same wait, whether it existed or appeared meanwhile', async () => {
    const clock = createManualClock();
    const engine = engineWith(clock);
    for (const id of ['user_42', 'otto']) await engine.principals.createUser({ id });
    const { requestId: existing } = await engine.startRun({ flow: job, userId: 'user_42' });
    const answers = [watch(engine, existing, 'otto'), watch(engine, 'appears-later', 'otto'), watch(engine, 'never-started', 'otto')];
    await clock.advance(1_000);
    void engine.runAction({ flow: job, requestId: 'appears-later', userId: 'user_42', source: 'manual' });
    await clock.advance(3_999);
    expect(answers.map((a) => a.settled())).toEqual([false, false, false]);
    await clock.advance(1);
    expect(await Promise.all(answers.map((a) => a.outcome))).toEqual([{ code: 'RUN_NOT_FOUND' }, { code: 'RUN_NOT_FOUND' }, { code: 'RUN_NOT_FOUND' }]);
    // Not a single event of the runs reached the watcher that may not read them.
    expect(answers.flatMap((a) => a.events)).toEqual([]);
    await engine.close();
  });

  it('bounds the watches waiting for runs per principal: one more is refused with LIMIT_EXCEEDED, a readable run is never held back', async () => {
    const clock = createManualClock();
    const engine = engineWith(clock, { maxPendingWatchesPerPrincipal: 2 });
    for (const id of ['user_42', 'mona']) await engine.principals.createUser({ id });
    const waiting = [watch(engine, 'a', 'mona'), watch(engine, 'b', 'mona')];
    await clock.advance(10);
    expect(await watch(engine, 'c', 'mona').outcome).toMatchObject({ code: 'LIMIT_EXCEEDED' });
    // Another principal has its own slots; a run that exists and is readable takes none.
    const { requestId } = await engine.startRun({ flow: job, userId: 'user_42' });
    const own = watch(engine, requestId, 'user_42');
    await clock.advance(100);
    expect((await own.outcome as LiveRunEvent[]).at(-1)).toMatchObject({ kind: 'status', status: 'SUCCEEDED' });
    await clock.advance(5_000);
    expect(await Promise.all(waiting.map((w) => w.outcome))).toEqual([{ code: 'RUN_NOT_FOUND' }, { code: 'RUN_NOT_FOUND' }]);
    // The slots came back.
    const again = watch(engine, 'd', 'mona');
    await clock.advance(5_000);
    expect(await again.outcome).toEqual({ code: 'RUN_NOT_FOUND' });
    await engine.close();
  });
});
