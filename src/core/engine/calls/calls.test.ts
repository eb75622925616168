/**
 * Calling another flow's action (seed 000): params bound from the caller's context, return
 * mapping with its modes and dropped properties, the call-time check of another flow, and
 * asynchronous calls that sync nothing back.
 */
import { describe, expect, it } from 'vitest';
import { createEngine, createMemoryStores, type FlowDefinition } from '../../../index.js';
import { createManualClock } from '../../../testing/index.js';

const ORDER = { type: 'object', properties: { id: { type: 'string' }, qty: { type: 'number' } }, required: ['id', 'qty'] };
const LINE = { type: 'object', properties: { id: { type: 'string' }, qty: { type: 'number' } } };

/** Echoes its params and returns lines (with a runtime property no class declares) and a total. */
const billing: FlowDefinition = {
  id: 'billing/lines',
  classes: { Line: LINE },
  actions: {
    main: {
      params: { order: { schema: ORDER, required: true }, priority: { type: 'number', default: 1 } },
      outputs: {
        lines: { collection: 'Line', returned: true, streamable: true },
        total: { type: 'number', returned: true },
        seen: { type: 'map', returned: true },
      },
      startAt: 'lines',
      steps: {
        lines: { stepType: 'SET', target: '$.outputs.lines', expression: '[{id: "a", qty: input.order.qty, secret: "x"}, {id: "b", qty: 2, secret: "y"}]', defaultNextStepInstanceId: 'total' },
        total: { stepType: 'SET', target: '$.outputs.total', expression: 'input.order.qty + 2', defaultNextStepInstanceId: 'seen' },
        seen: { stepType: 'SET', target: '$.outputs.seen', expression: '{order: input.order, priority: input.priority}' },
      },
    },
  },
};

function caller(step: Record<string, unknown>, outputs: Record<string, unknown> = {}): FlowDefinition {
  return {
    id: 'shop/checkout',
    classes: { Line: LINE },
    actions: {
      main: {
        params: { id: { type: 'text' }, qty: { type: 'any' } },
        outputs: {
          lines: { collection: 'Line', returned: true, default: [{ id: 'a', qty: 0 }, { id: 'z', qty: 9 }] },
          total: { type: 'number', returned: true, default: 0 },
          seen: { type: 'map', returned: true },
          ...outputs,
        },
        startAt: 'call',
        steps: { call: { stepType: 'RUN_FLOW', flowDefinitionId: 'billing/lines', ...step } as never },
      },
    },
  };
}

async function setup() {
  const engine = createEngine({ stores: createMemoryStores(), poll: false });
  await engine.deployFlow(billing, { publish: true });
  return engine;
}

describe('params of a called action', () => {
  it('binds a schema param property by property from the caller context, validates it, and fills defaults', async () => {
    const engine = await setup();
    const result = await engine.runAction({
      flow: caller({ inputMappings: { 'order.id': '$.input.id', 'order.qty': '$.input.qty' }, returnMappings: [{ output: 'seen', target: '$.outputs.seen' }] }),
      input: { id: 'o-1', qty: 3 },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { seen: unknown }).seen).toEqual({ order: { id: 'o-1', qty: 3 }, priority: 1 });
  });

  it('fails the call with INVALID_INPUT naming the param when a bound value is missing, and starts no child', async () => {
    const engine = await setup();
    const result = await engine.runAction({ flow: caller({ inputMappings: { order: '$.input.nothing' } }), input: {} });
    expect(result.status).toBe('FAILED');
    expect(result.error?.code).toBe('INVALID_INPUT');
    expect(result.error?.message).toContain('required param "order" is missing');
    expect((await engine.listRuns({ parentRunId: result.requestId })).runs).toEqual([]);
  });

  it('fails the call with INVALID_INPUT naming the property when a bound value breaks the schema', async () => {
    const engine = await setup();
    const result = await engine.runAction({ flow: caller({ inputMappings: { 'order.id': '$.input.id', 'order.qty': '$.input.qty' } }), input: { id: 'o-1', qty: 'three' } });
    expect(result.error?.code).toBe('INVALID_INPUT');
    expect(result.error?.message).toContain('input.order.qty');
    expect(result.error?.message).toContain('expected number, got "three"');
  });

  it('names the property whose bound source is missing, when a schema param is bound property by property', async () => {
    const engine = await setup();
    const result = await engine.runAction({ flow: caller({ inputMappings: { 'order.id': '$.input.id', 'order.qty': '$.input.quantity' } }), input: { id: 'o-1' } });
    expect(result.error?.code).toBe('INVALID_INPUT');
    expect(result.error?.message).toContain('input.order.qty: param "order": property "qty" has no value');
    expect(result.error?.message).not.toContain('undefined" type');
  });
});

describe('launched runs (seed 004) whose input does not fit', () => {
  it('fail themselves with INVALID_INPUT, detached; the launcher goes on', async () => {
    const engine = await setup();
    const launcher: FlowDefinition = {
      id: 'orders/intake',
      actions: {
        main: {
          startAt: 'trigger_order_processing',
          steps: {
            trigger_order_processing: {
              stepType: 'START_FLOW_EXECUTION',
              moduleIdentifier: 'system/start-flow-execution',
              literals: { flowDefinitionId: 'billing/lines', flowVersion: 'LATEST_PUBLISHED' },
              inputMappings: { 'initialContextData.order.id': '$.currentItem.orderId' },
            },
          },
        },
      },
    };
    const result = await engine.runAction({ flow: launcher, input: { orderId: 'o-9' } });
    expect(result.status).toBe('SUCCEEDED');
    const launchedId = (result.output as { startedFlowExecutionId: string }).startedFlowExecutionId;
    const launched = await engine.waitForRun(launchedId);
    expect(launched).toMatchObject({ status: 'FAILED', flowId: 'billing/lines', runError: { code: 'INVALID_INPUT' } });
    expect(launched.runError?.description).toContain('input.order: param "order": missing required property "qty"');
  });
});

describe('return mapping', () => {
  it('replaces a target, or merges into a collection by id, dropping properties the target class does not declare', async () => {
    const engine = await setup();
    const result = await engine.runAction({
      flow: caller({
        inputMappings: { order: '{id: "o-1", qty: 5}' },
        returnMappings: [
          { output: 'lines', target: '$.outputs.lines', mode: 'merge' },
          { output: 'total', target: '$.outputs.total' },
          { output: 'lines', target: '$.outputs.replaced' },
        ],
      }, { replaced: { collection: 'Line', returned: true, default: [{ id: 'q', qty: 1 }] } }),
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({
      // "a" already there is replaced in place; "z" is kept; "b" is appended. `secret` is dropped.
      lines: [{ id: 'a', qty: 5 }, { id: 'z', qty: 9 }, { id: 'b', qty: 2 }],
      total: 7,
      seen: null,
      replaced: [{ id: 'a', qty: 5 }, { id: 'b', qty: 2 }],
    });
  });

  it('checks the mappings of a call of another flow against the version that runs, before the child starts', async () => {
    const engine = await setup();
    const result = await engine.runAction({ flow: caller({ inputMappings: { order: '{id: "o", qty: 1}' }, returnMappings: [{ output: 'total', target: '$.outputs.lines' }] }) });
    expect(result.status).toBe('FAILED');
    expect(result.error?.code).toBe('INVALID_DEFINITION');
    expect(result.error?.details?.issues).toEqual([{ path: 'actions.main.steps.call.returnMappings[0].target', message: expect.stringContaining('returned output "total" is of type "number" but output "lines" is a collection of "Line"') }]);
    expect((await engine.listRuns({ parentRunId: result.requestId })).runs).toEqual([]);
  });
});

describe('asynchronous calls', () => {
  it('continue at once and sync nothing back, not even streamable outputs', async () => {
    const clock = createManualClock();
    const engine = createEngine({ stores: createMemoryStores(), clock, poll: false });
    await engine.deployFlow(billing, { publish: true });
    const reports: string[] = [];
    const flow = caller({ async: true, inputMappings: { order: '{id: "o", qty: 1}' } });
    const result = await engine.runAction({ flow, onOutput: (name) => reports.push(name) });
    expect(result.status).toBe('SUCCEEDED');
    const childId = (await engine.listRuns({ parentRunId: result.requestId })).runs[0]!.runId;
    const child = await engine.waitForRun(childId);
    expect(child.status).toBe('SUCCEEDED');
    await clock.advance(100);
    // The caller's outputs are its defaults: nothing came back, only the end-of-run report.
    expect(result.output).toEqual({ lines: [{ id: 'a', qty: 0 }, { id: 'z', qty: 9 }], total: 0, seen: null });
    expect(reports).toEqual(['lines', 'total', 'seen']);
  });
});
