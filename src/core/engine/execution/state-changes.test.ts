import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition } from '../../../index.js';
import type { Transition } from '../../store.js';
import { INLINE_STATE_MAX_BYTES, isInline } from '../../state-slots.js';

const blob = { lines: Array.from({ length: 2000 }, (_, i) => ({ sku: `sku-${i}`, qty: i })) };
const blobBytes = JSON.stringify(blob).length;

const flow: FlowDefinition = {
  id: 'slots/flow',
  vars: { seen: { type: 'number' } },
  actions: {
    main: {
      params: { blob: { schema: { type: 'object' }, required: true }, n: { type: 'number', required: true } },
      startAt: 'm0',
      steps: {
        m0: { stepType: 'MODULE', moduleIdentifier: 'inc', inputMappings: { n: '$.input.n' }, defaultNextStepInstanceId: 'm1' },
        m1: { stepType: 'MODULE', moduleIdentifier: 'inc', inputMappings: { n: '$.steps.m0.n' }, defaultNextStepInstanceId: 'set' },
        set: { stepType: 'SET', target: '$.vars.seen', expression: 'steps.m1.n', defaultNextStepInstanceId: 'call' },
        call: { stepType: 'RUN_FLOW', subflow: 'sub', defaultNextStepInstanceId: 'm2' },
        m2: { stepType: 'MODULE', moduleIdentifier: 'inc', inputMappings: { n: '$.vars.seen' }, defaultNextStepInstanceId: 'loop' },
        // A tail call: the frame is replaced, its item (the input) stays where it is stored.
        loop: { stepType: 'GOTO', subflow: 'tail' },
      },
    },
  },
  subflows: {
    sub: { startAt: 'inner', steps: { inner: { stepType: 'MODULE', moduleIdentifier: 'inc', inputMappings: { n: '$.item.n' } } } },
    tail: { startAt: 't', steps: { t: { stepType: 'MODULE', moduleIdentifier: 'inc', inputMappings: { n: '$.item.n' }, defaultNextStepInstanceId: 'u' }, u: { stepType: 'MODULE', moduleIdentifier: 'inc', inputMappings: { n: '$.steps.t.n' } } } },
  },
};

describe('state changes', () => {
  it('records each transition as what it changed: never again the run’s input, and the state read back is whole', async () => {
    const store = createMemoryStores();
    const recorded: Transition[] = [];
    const record = store.recordTransition.bind(store);
    store.recordTransition = (t) => {
      recorded.push(t);
      return record(t);
    };
    const engine = createEngine({ stores: store, modules: { inc: (input) => ({ n: (input.n as number) + 1 }) } });
    await engine.deployFlow(flow, { publish: true });
    const result = await engine.runAction({ flow: flow.id, input: { blob, n: 1 } });
    expect(result.output).toEqual({ n: 3 });
    expect(recorded.length).toBeGreaterThan(2);
    for (const t of recorded) {
      expect(t.stateChanges).toMatchObject({ replace: false });
      // The item (the bound input) was stored with the run; a subflow frame sharing it stores nothing of it.
      const written = JSON.stringify(t.stateChanges);
      expect(written.length).toBeLessThan(blobBytes / 4);
    }
    // What the slots hold is the state the executor had: vars, step outputs, frames.
    const stored = await store.getRun(result.requestId);
    expect(stored?.state.vars).toEqual({ seen: 3 });
    expect(stored?.state.frames).toEqual([]);
    await engine.close();
  });

  it('writes a small run’s state whole with each transition; past 8 KiB it goes to slots once, whole, then writes what changed', async () => {
    const growing: FlowDefinition = {
      id: 'slots/growing',
      actions: {
        main: {
          params: { n: { type: 'number', required: true } },
          startAt: 'a',
          steps: {
            a: { stepType: 'MODULE', moduleIdentifier: 'inc', inputMappings: { n: '$.input.n' }, defaultNextStepInstanceId: 'b' },
            b: { stepType: 'MODULE', moduleIdentifier: 'big', defaultNextStepInstanceId: 'c' },
            c: { stepType: 'MODULE', moduleIdentifier: 'inc', inputMappings: { n: '$.steps.a.n' }, defaultNextStepInstanceId: 'd' },
            d: { stepType: 'MODULE', moduleIdentifier: 'inc', inputMappings: { n: '$.steps.c.n' } },
          },
        },
      },
    };
    const store = createMemoryStores();
    // The memory store keeps slots and asks for changes; this one says it is a row store, as SQLite and PostgreSQL do.
    Object.defineProperty(store, 'capabilities', { value: { ...store.capabilities, writesSmallStatesWhole: true } });
    const recorded: Transition[] = [];
    const record = store.recordTransition.bind(store);
    store.recordTransition = (t) => {
      recorded.push(t);
      return record(t);
    };
    const big = { text: 'x'.repeat(INLINE_STATE_MAX_BYTES) };
    const engine = createEngine({ stores: store, modules: { inc: (input) => ({ n: (input.n as number) + 1 }), big: () => big } });
    await engine.deployFlow(growing, { publish: true });
    const result = await engine.runAction({ flow: growing.id, input: { n: 1 } });
    expect(result.output).toEqual({ n: 4 });
    const forms = recorded.map((t) => (t.stateChanges === undefined ? 'none' : isInline(t.stateChanges) ? 'inline' : t.stateChanges.replace ? 'whole' : 'changes'));
    // a (small), b (the big output: the state moves to slots whole), c, then d with the run's end (changes only).
    expect(forms).toEqual(['inline', 'whole', 'changes', 'changes']);
    const changed = recorded.slice(2).map((t) => JSON.stringify(t.stateChanges).length);
    for (const length of changed) expect(length).toBeLessThan(INLINE_STATE_MAX_BYTES / 4);
    await engine.close();
  });
});
