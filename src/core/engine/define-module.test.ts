/**
 * Modules written with `defineModule({input, output, run})`: their Standard Schemas (zod here)
 * check the step's input and the module's result at run time, and type `run`.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { createEngine, createMemoryStores, defineModule, type FlowDefinition, type ModuleContext } from '../../index.js';
import { testModule } from '../../testing/index.js';

const charge = defineModule({
  input: z.object({ amount: z.number().positive(), currency: z.enum(['EUR', 'USD']).default('EUR'), customer: z.object({ id: z.string() }) }),
  output: z.object({ chargeId: z.string() }),
  run: (input, ctx) => {
    expectTypeOf(input).toEqualTypeOf<{ amount: number; currency: 'EUR' | 'USD'; customer: { id: string } }>();
    expectTypeOf(ctx).toEqualTypeOf<ModuleContext>();
    if (input.amount > 1000) return { chargeId: 42 } as unknown as { chargeId: string };
    return { chargeId: `${input.customer.id}-${input.amount}-${input.currency}` };
  },
});

function flowWith(literals: Record<string, unknown>, extra: Partial<FlowDefinition['actions'][string]['steps'][string]> = {}): FlowDefinition {
  return {
    id: 'billing/charge-once',
    actions: { main: { startAt: 'charge', steps: { charge: { stepType: 'MODULE', moduleIdentifier: 'billing/charge', literals, ...extra } as FlowDefinition['actions'][string]['steps'][string] } } },
  };
}

describe('defineModule', () => {
  it('passes the parsed input (defaults applied) to run and returns its checked result', async () => {
    const engine = createEngine({ stores: createMemoryStores(), modules: { 'billing/charge': charge } });
    const result = await engine.runAction({ flow: flowWith({ amount: 12, customer: { id: 'c1' } }) });
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { chargeId: 'c1-12-EUR' } });
    await engine.close();
  });

  it('fails the step with INVALID_INPUT naming the field, without calling run or retrying', async () => {
    let calls = 0;
    const counted = defineModule({ input: z.object({ customer: z.object({ id: z.string() }) }), run: () => ++calls });
    const engine = createEngine({ stores: createMemoryStores(), modules: { 'billing/charge': counted } });
    const result = await engine.runAction({ flow: flowWith({ customer: { id: 7 } }, { retry: { maxAttempts: 3 } }) });
    expect(result.status).toBe('FAILED');
    expect(result.error).toMatchObject({ code: 'INVALID_INPUT', stepId: 'charge' });
    expect(result.error?.message).toContain('input.customer.id');
    expect(calls).toBe(0);
    const logs = await engine.getRunLogs(result.requestId, { limit: 100 });
    expect(logs.entries.filter((e) => e.code === 'StepRetrying' || /retry/i.test(e.description))).toEqual([]);
    await engine.close();
  });

  it('fails the step with MODULE_INVALID_OUTPUT when the result does not fit', async () => {
    const engine = createEngine({ stores: createMemoryStores(), modules: { 'billing/charge': charge } });
    const result = await engine.runAction({ flow: flowWith({ amount: 5000, customer: { id: 'c1' } }) });
    expect(result.error).toMatchObject({ code: 'MODULE_INVALID_OUTPUT' });
    expect(result.error?.message).toContain('output.chargeId');
    await engine.close();
  });

  it('is accepted as a plain {input, output, run} object in runtimeConfig.modules beside functions', async () => {
    const engine = createEngine({
      stores: createMemoryStores(),
      runtimeConfig: {
        modules: {
          'billing/charge': { input: z.object({ amount: z.number() }), run: (input: { amount: number }) => ({ doubled: input.amount * 2 }) },
          'billing/plain': (input) => ({ seen: input.amount }),
        },
      },
    });
    expect(await engine.runAction({ flow: flowWith({ amount: 4 }) })).toMatchObject({ status: 'SUCCEEDED', output: { doubled: 8 } });
    const wrong = await engine.runAction({ flow: flowWith({ amount: 'four' }) });
    expect(wrong.error).toMatchObject({ code: 'INVALID_INPUT' });
    await engine.close();
  });

  it('is checked the same way by testModule', async () => {
    expect(await testModule(charge, { amount: 3, customer: { id: 'x' } })).toMatchObject({ output: { chargeId: 'x-3-EUR' } });
    expect((await testModule(charge, { amount: -1, customer: { id: 'x' } })).error).toMatchObject({ code: 'INVALID_INPUT' });
  });
});
