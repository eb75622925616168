import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition } from '../../../index.js';

const flow: FlowDefinition = {
  id: 'input/first-qty',
  actions: {
    main: {
      params: { doc: { schema: { type: 'object' }, required: true } },
      outputs: { qty: { type: 'number', returned: true } },
      startAt: 'read',
      steps: { read: { stepType: 'MODULE', moduleIdentifier: 'first-qty', inputMappings: { doc: '$.input.doc' }, outputMappings: { '$.outputs.qty': '$.qty' } } },
    },
  },
};

describe("a run's input", () => {
  it('is the document as it was when the run started, when one document is handed to several runs and changed between them', async () => {
    const stores = createMemoryStores();
    const engine = createEngine({ stores, modules: { 'first-qty': (input) => ({ qty: (input.doc as { lines: { qty: number }[] }).lines[0]!.qty }) } });
    const doc = { lines: Array.from({ length: 200 }, (_, i) => ({ sku: `sku-${i}`, qty: i })) };

    const first = await engine.runAction({ flow, input: { doc } });
    doc.lines[0]!.qty = 99;
    const second = await engine.runAction({ flow, input: { doc } });
    const third = await engine.runAction({ flow, input: { doc } });
    // Changed while a run is going: that run keeps what it was given.
    const started = await engine.startRun({ flow, input: { doc } });
    doc.lines[0]!.qty = 7;
    await engine.waitForRun(started.requestId);

    expect([first, second, third].map((r) => r.output)).toEqual([{ qty: 0 }, { qty: 99 }, { qty: 99 }]);
    const recorded = await Promise.all([first, second, third, started].map(async (r) => (await stores.getRun(r.requestId))!.input as { doc: typeof doc }));
    expect(recorded.map((input) => input.doc.lines[0]!.qty)).toEqual([0, 99, 99, 99]);
    expect((await stores.getRun(started.requestId))!.output).toEqual({ qty: 99 });
    // The runs given the document unchanged hold one copy of it, which nobody can change.
    expect(recorded[2]!.doc).toBe(recorded[1]!.doc);
    expect(() => {
      recorded[1]!.doc.lines[0]!.qty = 1;
    }).toThrow(TypeError);
    await engine.close();
  });
});
