/**
 * The worked example of docs/testing.md, run as written: examples/order-handler.flow and the two
 * machines it calls, tested with `createFlowTest` — an event starts a run, the run calls another
 * flow and waits for it, and the ledger records the call.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileFlow, type FlowDefinition } from '../../src/index.js';
import { createFlowTest } from '../../src/testing/index.js';

function load(file: string): FlowDefinition {
  const compiled = compileFlow(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'), { file });
  if (!compiled.ok) throw new Error(compiled.diagnostics.map((d) => d.message).join('\n'));
  return compiled.flow;
}

describe('docs/testing.md: order_handler', () => {
  it('validates a created order through @myorg/orders/validate', async () => {
    const t = createFlowTest({ flows: [load('order-handler.flow'), load('orders-validate.flow'), load('billing-refund.flow')] });

    const { runIds } = await t.publishEvent('order.created', { order_id: 'o-42' });
    const run = await t.finish(runIds[0]!);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ processed: true });
    await t.expectSteps(run.runId, ['validate', 'result']);
    await t.expectLedger(run.runId, [{ kind: 'call', from: { stepId: 'validate' }, to: { flowId: '@myorg/orders/validate' } }]);
    await t.close();
  });

  it('refunds a cancelled order through @myorg/billing/refund', async () => {
    const t = createFlowTest({ flows: [load('order-handler.flow'), load('orders-validate.flow'), load('billing-refund.flow')] });
    const { runIds } = await t.publishEvent('order.cancelled', { order_id: 'o-42' });
    const run = await t.finish(runIds[0]!);
    expect(run.output).toEqual({ cancelled: true });
    const [child] = (await t.engine.listRuns({ parentRunId: run.runId })).runs;
    expect(child).toMatchObject({ flowId: '@myorg/billing/refund', status: 'SUCCEEDED', output: { refunded: true, order_id: 'o-42' } });
    await t.close();
  });
});
