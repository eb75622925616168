/**
 * Flows written in TypeScript are typed end to end: `defineFlow` infers each action's input and
 * output, and the entry points (runAction, engine.startRun, client.runFlow / waitForRun) check
 * calls against them. The type assertions are checked by `tsc` (`npm run typecheck`, part of `npm
 * test`): a wrong inferred type, or a `@ts-expect-error` line that compiles, fails the build. The
 * runtime assertions check that what the types promise is what runs return.
 */
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createEngine, createMemoryStores, defineFlow, runAction, type ActionInput, type ActionName, type ActionOutput, type FlowDefinition } from '../../src/index.js';
import { createClient } from '../../src/client/index.js';
import { createServerFixture, type ServerFixture } from '../support/server-fixture.js';

const refund = defineFlow({
  id: 'billing/refund',
  classes: { Line: { type: 'object', properties: { id: { type: 'string' }, qty: { type: 'integer' } }, required: ['id'] } },
  actions: {
    main: {
      params: {
        orderId: { type: 'text', required: true },
        amount: { type: 'number' },
        reason: { schema: { type: 'string', enum: ['damaged', 'late'] }, required: true, default: 'late' },
        lines: { collection: 'Line' },
      },
      outputs: {
        refunded: { type: 'boolean', returned: true },
        note: { type: 'text', returned: true, default: '' },
        internal: { type: 'text' },
      },
      startAt: 'done',
      steps: { done: { stepType: 'SET', target: '$.outputs.refunded', expression: 'input.amount > 0' } },
    },
    audit: {
      params: { since: { schema: { type: 'object', properties: { day: { type: 'string' }, strict: { type: 'boolean' } }, required: ['day'] }, required: true } },
      startAt: 'ok',
      steps: { ok: { stepType: 'SUCCEED', expression: 'input.since.day' } },
    },
  },
});

const zodded = defineFlow({
  id: 'shop/quote',
  actions: {
    main: {
      params: {
        customer: z.object({ name: z.string(), vip: z.boolean().optional() }),
        discount: z.number().min(0).max(1).optional(),
        rounding: z.enum(['up', 'down']).default('down'),
        currency: { schema: z.enum(['EUR', 'USD']), default: 'EUR' },
      },
      outputs: { total: z.number(), lines: { schema: z.array(z.string()), returned: true } },
      startAt: 'price',
      steps: {
        price: { stepType: 'SET', target: '$.outputs.total', expression: 'input.customer.vip ? 90 : 100', defaultNextStepInstanceId: 'list' },
        list: { stepType: 'SET', target: '$.outputs.lines', expression: '[input.customer.name, input.currency, input.rounding]' },
      },
    },
  },
});

describe('typed flow definitions', () => {
  it('infers action names, inputs and outputs from the JSON form', () => {
    expectTypeOf<ActionName<typeof refund>>().toEqualTypeOf<'main' | 'audit'>();
    type Input = ActionInput<typeof refund, 'main'>;
    expectTypeOf<Input['orderId']>().toEqualTypeOf<string>();
    expectTypeOf<Input['amount']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Input['reason']>().toEqualTypeOf<'damaged' | 'late' | undefined>();
    expectTypeOf<Input['lines']>().toEqualTypeOf<{ id: string; qty?: number }[] | undefined>();
    expectTypeOf<ActionInput<typeof refund, 'audit'>['since']>().toEqualTypeOf<{ day: string; strict?: boolean }>();
    expectTypeOf<ActionOutput<typeof refund>>().toEqualTypeOf<{ refunded: boolean | null; note: string }>();
    // An action that declares no returned output returns its last step's value.
    expectTypeOf<ActionOutput<typeof refund, 'audit'>>().toEqualTypeOf<unknown>();
  });

  it('infers them from Standard Schemas (zod) and converts those to JSON Schema', () => {
    type Input = ActionInput<typeof zodded>;
    expectTypeOf<Input['customer']>().toEqualTypeOf<{ name: string; vip?: boolean | undefined }>();
    expectTypeOf<Input['discount']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Input['currency']>().toEqualTypeOf<'EUR' | 'USD' | undefined>();
    expectTypeOf<ActionOutput<typeof zodded>>().toEqualTypeOf<{ total: number; lines: string[] | null }>();
    const params = zodded.actions.main.params;
    expect(params.customer).toEqual({ schema: expect.objectContaining({ type: 'object', required: ['name'] }), required: true });
    expect(params.discount).toMatchObject({ required: false, schema: { type: 'number', minimum: 0, maximum: 1 } });
    expect(params.rounding).toMatchObject({ required: false, default: 'down' });
    expectTypeOf<Input['rounding']>().toEqualTypeOf<'up' | 'down' | undefined>();
    expect(zodded.actions.main.outputs.total).toEqual({ schema: { type: 'number' }, returned: true });
    expect(JSON.parse(JSON.stringify(zodded))).toEqual(zodded);
  });

  it('keeps a flow known only at run time untyped', () => {
    const loaded = JSON.parse('{}') as FlowDefinition;
    expectTypeOf<ActionName<typeof loaded>>().toEqualTypeOf<string>();
    expectTypeOf<ActionInput<typeof loaded>>().toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf<ActionOutput<typeof loaded>>().toEqualTypeOf<unknown>();
  });
});

describe('typed entry points', () => {
  let fx: ServerFixture | undefined;
  afterEach(async () => {
    await fx?.close();
    fx = undefined;
  });

  it('runAction and engine.startRun check the action and input and type the output', async () => {
    const stores = createMemoryStores();
    const result = await runAction({ stores, flow: zodded, input: { customer: { name: 'ada', vip: true } } });
    if (result.status !== 'SUCCEEDED') throw result.error;
    expectTypeOf(result.output).toEqualTypeOf<{ total: number; lines: string[] | null }>();
    expect(result.output).toEqual({ total: 90, lines: ['ada', 'EUR', 'down'] });

    const engine = createEngine({ stores });
    const audit = await engine.runAction({ flow: refund, actionName: 'audit', input: { since: { day: '2026-01-01' } } });
    expect(audit.output).toBe('2026-01-01');
    await engine.startRun({ flow: refund, input: { orderId: 'o-1', amount: 3 } });
    // A flow id or a definition known only at run time keeps the untyped form.
    const byId = await engine.runAction({ flow: 'billing/refund', actionName: 'main', input: { orderId: 'o-2' } });
    expectTypeOf(byId.output).toEqualTypeOf<unknown>();
    await expect(engine.runAction({ flow: refund as FlowDefinition, input: { orderId: 7 } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await engine.close();
  });

  it('client.runFlow and waitForRun are typed by the flow', async () => {
    fx = await createServerFixture({});
    await fx.engine.deployFlow(refund, { deployedBy: 'adam', publish: true });
    const client = createClient({ baseUrl: 'http://flowrun.test/', token: 'as:adam', fetch: fx.router.fetch });
    const started = await client.runFlow({ flow: refund, input: { orderId: 'o-1', amount: 5 } });
    const ended = await client.waitForRun(started, { pollIntervalMs: 5 });
    expect(ended.status).toBe('SUCCEEDED');
    if (ended.status === 'SUCCEEDED') expectTypeOf(ended.output).toEqualTypeOf<{ refunded: boolean | null; note: string }>();
    expect(ended.output).toEqual({ refunded: true, note: '' });
    const byType = await client.runFlow<typeof refund, 'audit'>({ flowId: 'billing/refund', action: 'audit', input: { since: { day: 'd' } }, wait: true });
    expect(byType).toMatchObject({ status: 'SUCCEEDED', output: 'd' });
    const waited = await client.waitForRun<typeof refund>(started.runId);
    if (waited.status === 'SUCCEEDED') expectTypeOf(waited.output.note).toEqualTypeOf<string>();
    // Untyped: any flow id and input, or a definition known only at run time.
    const untyped = await client.runFlow({ flowId: 'billing/refund', input: { orderId: 'o-3' }, wait: true });
    expectTypeOf(untyped.output).toEqualTypeOf<unknown>();
    const loaded = await client.runFlow({ flow: refund as FlowDefinition, input: { orderId: 'o-4' }, wait: true });
    expect(loaded).toMatchObject({ status: 'SUCCEEDED', flowId: 'billing/refund' });
  });
});

/** Calls that must not compile; never called, only checked by tsc. */
export function compileErrors(engine: ReturnType<typeof createEngine>, client: ReturnType<typeof createClient>): void {
  const stores = createMemoryStores();
  // @ts-expect-error an action the flow does not have
  void runAction({ stores, flow: refund, actionName: 'refnd', input: { orderId: 'o' } });
  // @ts-expect-error a required param is missing
  void runAction({ stores, flow: refund, input: { amount: 3 } });
  // @ts-expect-error a param of the wrong type
  void engine.startRun({ flow: refund, input: { orderId: 42 } });
  // @ts-expect-error a value outside the JSON Schema's enum
  void engine.runAction({ flow: refund, input: { orderId: 'o', reason: 'bored' } });
  // @ts-expect-error a zod param of the wrong shape
  void engine.runAction({ flow: zodded, input: { customer: { name: 1 } } });
  // @ts-expect-error the input of another action
  void engine.runAction({ flow: refund, actionName: 'audit', input: { orderId: 'o' } });
  // @ts-expect-error an action the flow does not have, over HTTP
  void client.runFlow({ flow: refund, action: 'refnd', input: { orderId: 'o' } });
  // @ts-expect-error the wrong flow id for the flow's type
  void client.runFlow<typeof refund>({ flowId: 'billing/refnd', input: { orderId: 'o' } });
  // @ts-expect-error a required param is missing, over HTTP
  void client.runFlow({ flow: zodded, input: {} });
  // @ts-expect-error no flow named at all
  void client.runFlow({ input: { orderId: 'o' } });
  void (async () => {
    const result = await engine.runAction({ flow: refund, input: { orderId: 'o' } });
    // @ts-expect-error output is null unless the run succeeded
    void result.output.refunded;
    // @ts-expect-error no such returned output (`internal` is not returned)
    if (result.status === 'SUCCEEDED') void result.output.internal;
  })();
}
