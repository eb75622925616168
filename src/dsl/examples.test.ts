/**
 * Every example of seed 001, written out in full under `examples/*.flow`, compiled and run on the
 * memory store: each asserts the output a user of the example would see.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine } from '../core/engine/engine.js';
import { assumingModelResolver } from '../core/engine/steps/model-resolver.js';
import type { FlowDefinition } from '../core/model.js';
import { createEngine } from '../create-engine.js';
import { createMemoryStores } from '../store/memory/memory-store.js';
import { compileFlow } from './compile-flow.js';

const examples = resolve(import.meta.dirname, '../../examples');

/** Compiles an example file, failing the test with its diagnostics if it does not compile. */
export function compileExample(name: string): FlowDefinition {
  const result = compileFlow(readFileSync(resolve(examples, name), 'utf8'), { file: name });
  if (!result.ok) throw new Error(`${name}: ${result.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`).join('\n')}`);
  return result.flow;
}

let engine: Engine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

function newEngine(): Engine {
  engine = createEngine({ stores: createMemoryStores(), runtimeConfig: { modelResolver: assumingModelResolver }, poll: false });
  return engine;
}

describe('seed 001 examples, run on the memory store', () => {
  it('report_generator: a summary runs generate_summary and returns its build step', async () => {
    const result = await newEngine().runAction({ flow: compileExample('report-generator.flow'), input: { report_type: 'summary', data: { title: 'Q3' } } });
    expect(result.error).toBeUndefined();
    expect(result.output).toEqual({ report: 'Summary: Q3', type: 'summary' });
  });

  it('report_generator: detailed asks the model (answered by assuming) and builds on its field', async () => {
    const result = await newEngine().runAction({ flow: compileExample('report-generator.flow'), input: { report_type: 'detailed', data: { title: 'Q3' } } });
    expect(result.output).toEqual({ report: 'Detailed analysis...', type: 'detailed' });
  });

  it('report_generator: any other type falls to otherwise', async () => {
    const result = await newEngine().runAction({ flow: compileExample('report-generator.flow'), input: { report_type: 'weekly', data: { title: 'Q3' } } });
    expect(result.output).toEqual({ report: 'Default report for Q3', type: 'default' });
  });

  it('report_generator: a missing required param fails the start with INVALID_INPUT', async () => {
    await expect(newEngine().runAction({ flow: compileExample('report-generator.flow'), input: { report_type: 'summary' } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('pipeline: run returns to the caller, which continues after the called flow', async () => {
    const e = newEngine();
    const result = await e.runAction({ flow: compileExample('pipeline.flow') });
    expect(result.output).toEqual({ done: true, processed: true });
    // The dispatch is in the ledger with the line of `run flow(process)`.
    const ledger = await e.getRunLedger(result.requestId);
    expect(ledger.filter((l) => l.kind === 'run')).toEqual([
      expect.objectContaining({ kind: 'run', from: expect.objectContaining({ stepId: 'run_process', source: { file: 'pipeline.flow', line: 7 } }), to: expect.objectContaining({ subflow: 'process' }) }),
    ]);
  });

  it('order_handler: compiles its subscriptions, and each subscribed flow calls the other machine and waits', async () => {
    const handler = compileExample('order-handler.flow');
    expect(handler.subscriptions).toEqual([
      { on: 'order.created', run: 'validate_and_process' },
      { on: 'order.cancelled', run: 'handle_cancellation' },
    ]);
    const e = newEngine();
    await e.deployFlow(compileExample('orders-validate.flow'), { publish: true });
    await e.deployFlow(compileExample('billing-refund.flow'), { publish: true });
    // Until events are published by the engine (issue 5, item 5), start each subscribed flow as an
    // event would: with `event` bound, through an action that runs it.
    const runs = (subflow: string): FlowDefinition => ({ ...handler, id: `order_handler_${subflow}`, actions: { main: { startAt: 'go', steps: { go: { stepType: 'RUN_FLOW', subflow } } } } });
    const created = await e.runAction({ flow: runs('validate_and_process'), event: { order_id: 'o-17' } });
    expect(created.error).toBeUndefined();
    expect(created.output).toEqual({ processed: true });
    const bogus = await e.runAction({ flow: runs('validate_and_process'), event: { order_id: 'x-1' } });
    expect(bogus.output).toEqual({ processed: false });
    const cancelled = await e.runAction({ flow: runs('handle_cancellation'), event: { order_id: 'o-17' } });
    expect(cancelled.output).toEqual({ cancelled: true });
    // The calls are child runs of the other machines, recorded with the line they came from.
    const ledger = await e.getRunLedger(cancelled.requestId);
    expect(ledger.find((l) => l.kind === 'call')).toMatchObject({ from: { stepId: 'refund', source: { file: 'order-handler.flow', line: 18 } }, to: { flowId: '@myorg/billing/refund' } });
    const children = (await e.listRuns({})).runs.filter((r) => r.parentRunId === cancelled.requestId);
    expect(children.map((r) => [r.flowId, r.status, r.output])).toEqual([['@myorg/billing/refund', 'SUCCEEDED', { refunded: true, order_id: 'o-17' }]]);
  });

  it('countdown: a goto loop runs to the end without growing the stack', async () => {
    const e = newEngine();
    const result = await e.runAction({ flow: compileExample('countdown.flow'), input: { from: 250 } });
    expect(result.output).toEqual({ ticks: 250 });
    const ledger = await e.getRunLedger(result.requestId);
    expect(ledger.filter((l) => l.kind === 'goto')).toHaveLength(251);
    expect(ledger.find((l) => l.kind === 'goto')?.from.source).toEqual({ file: 'countdown.flow', line: 9 });
  });

  it('stops a recursion through run at the depth limit, while goto loops do not add depth', async () => {
    const recursive = compileFlow(['machine deep', '  implements', '    run flow(again)', '  flows', '    flow again', '      run flow(again)'].join('\n'));
    if (!recursive.ok) throw new Error('does not compile');
    const result = await newEngine().runAction({ flow: recursive.flow });
    expect(result.status).toBe('FAILED');
    expect(result.error).toMatchObject({ code: 'FLOW_DEPTH_EXCEEDED' });
  });

  it('order_intake: launch starts the other machine fire-and-forget; fail ends the run with its code', async () => {
    const e = newEngine();
    await e.deployFlow(compileExample('billing-refund.flow'), { publish: true });
    const ok = await e.runAction({ flow: compileExample('order-intake.flow'), input: { order_id: 'o-5', amount: 12 } });
    expect(ok.output).toEqual({ accepted: true, order_id: 'o-5', notified: true });
    await e.whenIdle();
    const ledger = await e.getRunLedger(ok.requestId);
    expect(ledger.find((l) => l.kind === 'launch')).toMatchObject({ from: { stepId: 'notify', source: { file: 'order-intake.flow', line: 11 } }, to: { flowId: '@myorg/billing/refund' } });
    const launched = (await e.listRuns({})).runs.find((r) => r.flowId === '@myorg/billing/refund');
    expect(launched).toMatchObject({ status: 'SUCCEEDED', detached: true, output: { refunded: true, order_id: 'o-5' } });
    const bad = await e.runAction({ flow: compileExample('order-intake.flow'), input: { order_id: 'o-6', amount: 0 } });
    expect(bad.status).toBe('FAILED');
    expect(bad.error).toMatchObject({ code: 'INVALID_AMOUNT', message: 'the amount must be positive' });
  });

  it('runs the report generator compiled from .flow exactly like its JSON twin', async () => {
    const json = JSON.parse(readFileSync(resolve(examples, 'report-generator.json'), 'utf8')) as FlowDefinition;
    const e = newEngine();
    for (const report_type of ['summary', 'weekly']) {
      const input = { report_type, data: { title: 'Q3' } };
      const fromFlow = await e.runAction({ flow: compileExample('report-generator.flow'), input });
      const fromJson = await e.runAction({ flow: json, input });
      expect(fromFlow.output).toEqual(fromJson.output);
    }
  });

  it('gives every example of the folder its own flow id, so `serve --flows examples` deploys each of them', () => {
    const ids = readdirSync(examples)
      .filter((name) => name.endsWith('.json') || name.endsWith('.flow'))
      .map((name) => (name.endsWith('.flow') ? compileExample(name).id : (JSON.parse(readFileSync(resolve(examples, name), 'utf8')) as FlowDefinition).id));
    expect(ids.length).toBeGreaterThan(5);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});
