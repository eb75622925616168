import { describe, expect, it } from 'vitest';
import { compileFlow } from './compile-flow.js';
import { translateFlow } from './translate-flow.js';
import { LANGUAGES } from './keywords/languages.js';

const program = `machine checkout
  accepts
    order_id as text, is required
  implements
    emit announce, on: "order.placed" order_id: input.order_id
      total: 3 * 4
    wait paid, on: "payment.received" order_id: input.order_id
    wait cool_down, for: 5000
    wait until_noon, until: "2026-01-02T12:00:00Z"
    compute done {paid: steps.paid.event.amount}
`;

describe('wait and emit in the flow language', () => {
  it('compile to WAIT and EMIT steps', () => {
    const compiled = compileFlow(program, { file: 'checkout.flow' });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
    const steps = compiled.flow.actions.main!.steps;
    expect(steps.announce).toMatchObject({ stepType: 'EMIT', event: 'order.placed', payload: '{order_id: (input.order_id), total: (3 * 4)}', defaultNextStepInstanceId: 'paid' });
    expect(steps.paid).toMatchObject({ stepType: 'WAIT', event: 'payment.received', match: { order_id: 'input.order_id' }, defaultNextStepInstanceId: 'cool_down' });
    expect(steps.cool_down).toMatchObject({ stepType: 'WAIT', durationMs: 5000, source: { file: 'checkout.flow', line: 8 } });
    expect(steps.until_noon).toMatchObject({ stepType: 'WAIT', until: '"2026-01-02T12:00:00Z"' });
  });

  it('compile to the identical definition in all seven languages', () => {
    const english = compileFlow(`// language: en\n${program}`); // the translations carry a header line too
    if (!english.ok) throw new Error('english does not compile');
    for (const language of Object.keys(LANGUAGES).filter((l) => l !== 'en')) {
      const translated = translateFlow(program, { to: language });
      if (!translated.ok) throw new Error(`${language}: ${JSON.stringify(translated)}`);
      const compiled = compileFlow(translated.text);
      expect(compiled, language).toMatchObject({ ok: true, flow: english.flow });
    }
  });

  it('reports a wait without for, until or on, and a duration that is not a number', () => {
    const bad = compileFlow('machine m\n  implements\n    wait w, soon: 5\n    wait v, for: "x"\n');
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.diagnostics.map((d) => [d.line, d.code])).toEqual([
      [3, 'SYNTAX'],
      [4, 'SYNTAX'],
    ]);
  });
});
