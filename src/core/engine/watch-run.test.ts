import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition, type LiveRunEvent } from '../../index.js';

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

  it('rejects an unknown run with RUN_NOT_FOUND', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    await expect(engine.watchRun('nope').next()).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
  });
});
