import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition, type LiveRunEvent } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';

const talker: FlowDefinition = {
  id: 'talker',
  actions: {
    main: {
      outputs: { lines: { type: 'list', returned: true, streamable: true } },
      startAt: 'talk',
      steps: {
        talk: { stepType: 'MODULE', moduleIdentifier: 'talk', defaultNextStepInstanceId: 'save' },
        save: { stepType: 'SET', target: '$.outputs.lines', expression: '["a", "b"]' },
      },
    },
  },
};

function describeEvent(e: LiveRunEvent): string {
  switch (e.kind) {
    case 'status':
      return `status:${e.status}`;
    case 'log':
      return `log:${e.entry.code}`;
    case 'item':
      return `item:${e.item.type}:${e.change}${e.transient ? ':transient' : ''}`;
    case 'ledger':
      return `ledger:${e.entry.kind}`;
    case 'output':
      return `output:${e.name}`;
  }
}

describe('watchRun', () => {
  it('yields every event in order, transient items in their place, and ends with the terminal status', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const engine = createEngine({
      stores: createMemoryStores(),
      poll: false,
      pollIntervalMs: 20,
      modules: {
        talk: async (_input, ctx) => {
          const m = ctx.emitItem({ type: 'message', content: 'hi' });
          ctx.emitItem({ type: 'typing', transient: true }).done();
          await gate;
          m.done('hi there');
          return 'ok';
        },
      },
    });
    const { requestId } = await engine.startRun({ flow: talker, requestId: 'watched-1' });
    const seen: LiveRunEvent[] = [];
    const watching = (async () => {
      for await (const event of engine.watchRun(requestId)) seen.push(event);
    })();
    // Let the watcher see the module's first item before the module goes on.
    for (let i = 0; i < 1000 && !seen.some((e) => e.kind === 'item'); i++) await new Promise((r) => setImmediate(r));
    release();
    await watching;
    const names = seen.map(describeEvent);
    expect(names[0]).toBe('status:ACTIVE');
    expect(names.at(-1)).toBe('status:SUCCEEDED');
    expect(names).toContain('item:message:added');
    expect(names).toContain('item:message:done');
    expect(names).toContain('output:lines');
    const persisted = seen.filter((e) => !e.transient).map((e) => e.seq);
    expect(persisted).toEqual([...persisted].sort((a, b) => a - b));
    expect(new Set(persisted).size).toBe(persisted.length);
    // Resuming from a sequence number yields exactly the rest.
    const middle = persisted[Math.floor(persisted.length / 2)]!;
    const rest: number[] = [];
    for await (const event of engine.watchRun(requestId, { afterSeq: middle })) rest.push(event.seq);
    expect(rest).toEqual(persisted.filter((s) => s > middle));
  });

  it('lets many watchers of one run share the store reads: an idle run is polled once per interval, not once per watcher', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const stores = createMemoryStores();
    let reads = 0;
    const getRunEvents = stores.getRunEvents.bind(stores);
    stores.getRunEvents = (...args) => {
      reads += 1;
      return getRunEvents(...args);
    };
    const engine = createEngine({ stores, poll: false, pollIntervalMs: 20, modules: { talk: async () => (await gate, 'ok') } });
    const { requestId } = await engine.startRun({ flow: talker, requestId: 'watched-many' });
    const WATCHERS = 50;
    const seen: string[][] = Array.from({ length: WATCHERS }, () => []);
    const watching = seen.map(async (events) => {
      for await (const event of engine.watchRun(requestId)) events.push(describeEvent(event));
    });
    await new Promise((r) => setTimeout(r, 50)); // every watcher has caught up and waits
    const before = reads;
    await new Promise((r) => setTimeout(r, 200)); // ≈ 10 poll intervals of an idle run
    const idleReads = reads - before;
    release();
    await Promise.all(watching);
    // One read per interval for all of them (timers are coarse: allow slack), against 50 per interval unshared.
    expect(idleReads).toBeLessThan(40);
    expect(idleReads).toBeGreaterThan(0);
    // Everyone saw the same, complete stream.
    for (const events of seen) expect(events).toEqual(seen[0]);
    expect(seen[0]!.at(-1)).toBe('status:SUCCEEDED');
    await engine.close();
  });

  it('rejects an unknown run with RUN_NOT_FOUND once maxWatchWaitMs passed', async () => {
    const clock = createManualClock();
    const engine = createEngine({ stores: createMemoryStores(), clock, poll: false });
    const answer = engine.watchRun('nope').next().catch((error: unknown) => error);
    await clock.advance(5_000);
    expect(await answer).toMatchObject({ code: 'RUN_NOT_FOUND' });
  });
});
