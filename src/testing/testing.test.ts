import { describe, expect, it } from 'vitest';
import { createManualClock, testModule, testStep } from './index.js';

describe('flowrun/testing', () => {
  it('tests a module alone: output, log entries and items, transient ones included', async () => {
    const result = await testModule(
      async (input, ctx) => {
        ctx.log('Charging', `charging ${String(input.amount)}`);
        const item = ctx.emitItem({ type: 'progress', content: 0, transient: true });
        item.update(50);
        item.done(100);
        return { ok: true, key: ctx.idempotencyKey };
      },
      { amount: 12 },
      { idempotencyKey: 'k-1' },
    );
    expect(result.output).toEqual({ ok: true, key: 'k-1' });
    expect(result.logs).toEqual([expect.objectContaining({ code: 'Charging', description: 'charging 12' })]);
    expect(result.itemChanges.map((c) => c.change)).toEqual(['added', 'updated', 'done']);
    expect(result.items).toEqual([expect.objectContaining({ status: 'done', content: 100, transient: true })]);
  });

  it('reports a module error with its code instead of throwing', async () => {
    const result = await testModule(() => {
      throw Object.assign(new Error('card declined'), { code: 'DECLINED' });
    }, {});
    expect(result.error).toMatchObject({ code: 'DECLINED', message: 'card declined' });
  });

  it('runs one COMPUTE step from a context and reports the next step instead of following it', async () => {
    const result = await testStep(
      { stepType: 'COMPUTE', expression: '{total: input.qty * vars.price}', defaultNextStepInstanceId: 'charge' },
      { context: { input: { qty: 3 }, vars: { price: 2 } } },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({ total: 6 });
    expect(result.next).toBe('charge');
  });

  it('runs a DECIDE step and reports the branch taken', async () => {
    const decide = { stepType: 'DECIDE' as const, transitions: [{ condition: 'input.kind is "a"', nextStepInstanceId: 'on_a' }], defaultNextStepInstanceId: 'other' };
    expect((await testStep(decide, { context: { input: { kind: 'a' } } })).next).toBe('on_a');
    expect((await testStep(decide, { context: { input: { kind: 'b' } } })).next).toBe('other');
  });

  it('runs a SET step and shows the vars after it', async () => {
    const result = await testStep({ stepType: 'SET', target: '$.vars.count', expression: 'vars.count + 1' }, { context: { vars: { count: 41 } } });
    expect(result.vars).toEqual({ count: 42 });
  });

  it('runs a MODULE step with its retries on a manual clock', async () => {
    let calls = 0;
    const result = await testStep(
      { stepType: 'MODULE', moduleIdentifier: 'flaky', retry: { maxAttempts: 3, backoffMs: 5_000 }, inputMappings: { n: '$.input.n' } },
      {
        context: { input: { n: 7 } },
        clock: createManualClock(),
        modules: {
          flaky: (input) => {
            calls++;
            if (calls < 3) throw Object.assign(new Error('busy'), { code: 'BUSY' });
            return { doubled: Number(input.n) * 2 };
          },
        },
      },
    );
    expect(calls).toBe(3);
    expect(result.output).toEqual({ doubled: 14 });
    expect(result.logs.filter((l) => l.code === 'StepRetrying')).toHaveLength(2);
  });

  it('reports a failing step with its error', async () => {
    const result = await testStep({ stepType: 'MODULE', moduleIdentifier: 'absent' });
    expect(result.status).toBe('FAILED');
    expect(result.error?.code).toBe('MODULE_NOT_FOUND');
    expect(result.output).toBeNull();
  });
});
