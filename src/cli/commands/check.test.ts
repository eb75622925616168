/**
 * `flowrun check` checks calls between flow files as a deploy would (issue 14 §4): against the
 * other files given and those beside them; a call of a flow in neither is a warning.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

async function flowrun(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(args, { out: (t) => void (out += t), err: (t) => void (out += t), isTty: false });
  return { code, out };
}

/** Seed 001's order handler calling `@myorg/billing/refund` as a machine (`action … call machine:`), as JSON. */
const handler = (binding: Record<string, string>) => ({
  id: 'order_handler',
  actions: { main: { startAt: 'refund', steps: { refund: { stepType: 'RUN_FLOW', flowDefinitionId: '@myorg/billing/refund', inputMappings: binding } } } },
});
const billing = { id: '@myorg/billing/refund', actions: { main: { params: { order_id: { type: 'text', required: true } }, startAt: 'r', steps: { r: { stepType: 'COMPUTE', expression: '{refunded: input.order_id}' } } } } };

describe('flowrun check', () => {
  it('fails a call that leaves a required param of a flow beside it unbound, naming the file and the path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-calls-'));
    writeFileSync(join(dir, 'billing.json'), JSON.stringify(billing));
    writeFileSync(join(dir, 'handler.json'), JSON.stringify(handler({ orderId: '$.event.order_id' })));
    const r = await flowrun(['check', join(dir, 'handler.json')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${join(dir, 'handler.json')}: actions.main.steps.refund.inputMappings: required param "order_id" of action "main" of flow "@myorg/billing/refund" is not bound`);
    writeFileSync(join(dir, 'handler.json'), JSON.stringify(handler({ order_id: '$.event.order_id' })));
    expect(await flowrun(['check', join(dir, 'handler.json')])).toEqual({ code: 0, out: `ok  ${join(dir, 'handler.json')} (order_handler)\n` });
  });

  it('passes a call of a flow it cannot find, with a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-calls-'));
    writeFileSync(join(dir, 'handler.json'), JSON.stringify(handler({ orderId: '$.event.order_id' })));
    const r = await flowrun(['check', join(dir, 'handler.json')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('warning: actions.main.steps.refund.flowDefinitionId: flow "@myorg/billing/refund" is not deployed yet: this call is checked when it runs');
  });

  it('reports a reference to a step that does not exist in a .flow program at its line, with a did-you-mean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-refs-'));
    writeFileSync(join(dir, 'pipeline.flow'), 'machine pipeline\n  implements\n    compute setup {ready: true}\n    compute finalize {processed: steps.setpu.ready}\n');
    const r = await flowrun(['check', join(dir, 'pipeline.flow')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/pipeline\.flow:4:\d+: .*"steps\.setpu".*did you mean "setup"\?/);
  });
});
