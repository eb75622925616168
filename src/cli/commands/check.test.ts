/**
 * `flowrun check` checks calls between flow files as a deploy would (issue 14 §4): against the
 * other files given and those beside them; a call of a flow in neither is a warning.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../main.js';

async function flowrun(args: string[], isTty = false): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(args, { out: (t) => void (out += t), err: (t) => void (out += t), isTty });
  return { code, out };
}

/** A program with a mistake in an expression, a misspelt keyword, an unknown flow and a misspelt step id. */
const MISTAKES = ['machine m', '  implements', '    compute total {sum: input.a + }', '    decid choose', '    run flow(generat)', '    compute fin {y: steps.totl.sum}', '  flows', '    flow generate', '      compute b 1', ''].join('\n');

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
    expect(r.out).toContain(`${join(dir, 'handler.json')}: error: actions.main.steps.refund.inputMappings: required param "order_id" of action "main" of flow "@myorg/billing/refund" is not bound`);
    writeFileSync(join(dir, 'handler.json'), JSON.stringify(handler({ order_id: '$.event.order_id' })));
    expect(await flowrun(['check', join(dir, 'handler.json')])).toEqual({ code: 0, out: `ok  ${join(dir, 'handler.json')} (order_handler)\n` });
  });

  it('passes a call of a flow it cannot find, with a warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-calls-'));
    writeFileSync(join(dir, 'handler.json'), JSON.stringify(handler({ orderId: '$.event.order_id' })));
    const r = await flowrun(['check', join(dir, 'handler.json')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`ok  ${join(dir, 'handler.json')} (order_handler)\n`);
    expect(r.out).toContain('warning: actions.main.steps.refund.flowDefinitionId: flow "@myorg/billing/refund" is not deployed yet: this call is checked when it runs');
  });

  it('reports a reference to a step that does not exist in a .flow program at its line, with a did-you-mean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-refs-'));
    writeFileSync(join(dir, 'pipeline.flow'), 'machine pipeline\n  implements\n    compute setup {ready: true}\n    compute finalize {processed: steps.setpu.ready}\n');
    const r = await flowrun(['check', join(dir, 'pipeline.flow')]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/pipeline\.flow:4:\d+: .*"steps\.setpu".*did you mean "setup"\?/);
  });

  it('prints every problem of a program at once, each with its line and a caret under the mistake, without definition paths', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-carets-'));
    const file = join(dir, 'm.flow');
    writeFileSync(file, MISTAKES);
    const r = await flowrun(['check', file]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      [
        `${file}:3:35: error: Expected expression after + at column 17 in expression "{sum: input.a + }"`,
        '  3 |     compute total {sum: input.a + }',
        '    |                                   ^',
        `${file}:4:5: error: expected compute, decide, run, goto, launch, ask, action, set, fail, wait, emit, found "decid"; did you mean "decide"?`,
        '  4 |     decid choose',
        '    |     ^^^^^',
        `${file}:5:14: error: unknown flow "generat"; the machine's flows: generate; did you mean "generate"?`,
        '  5 |     run flow(generat)',
        '    |              ^^^^^^^',
        `${file}:6:21: error: "steps.totl" in "{y: steps.totl.sum}" names no step of this graph; did you mean "total"?; its steps: total, run_generat, fin (a step reads the outputs of its own graph's steps only)`,
        '  6 |     compute fin {y: steps.totl.sum}',
        '    |                     ^^^^^^^^^^',
        '',
      ].join('\n'),
    );
  });

  it('writes a program\'s problems in its language, with the English beside them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-language-'));
    const file = join(dir, 'm.flow');
    writeFileSync(file, '// language: es\nmáquina m\n  implementa\n    calcular x 1\n');
    const r = await flowrun(['check', file]);
    expect(r.out).toContain(`${file}:4:5: error: se esperaba calcula, decide, ejecuta, salta, lanza, pregunta, acción, asigna, falla, espera, emite, se encontró "calcular"; ¿quiso decir "calcula"?`);
    expect(r.out).toContain('  (en) expected compute, decide');
  });

  it('prints JSON with --json: every file, whether it passed, and each problem with its place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-json-'));
    writeFileSync(join(dir, 'm.flow'), MISTAKES);
    writeFileSync(join(dir, 'billing.json'), JSON.stringify(billing));
    const r = await flowrun(['check', join(dir, 'm.flow'), join(dir, 'billing.json'), '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { ok: boolean; files: { file: string; ok: boolean; flowId?: string; problems: { severity: string; line?: number; column?: number; code?: string }[] }[] };
    expect(report.ok).toBe(false);
    expect(report.files.map((f) => [f.ok, f.flowId])).toEqual([
      [false, undefined],
      [true, '@myorg/billing/refund'],
    ]);
    expect(report.files[0]!.problems.map((p) => [p.severity, p.line, p.column, p.code])).toEqual([
      ['error', 3, 35, 'INVALID_DEFINITION'],
      ['error', 4, 5, 'SYNTAX'],
      ['error', 5, 14, 'UNKNOWN_FLOW'],
      ['error', 6, 21, 'INVALID_DEFINITION'],
    ]);
  });

  it('colours on a terminal, and not with --no-color or NO_COLOR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-colour-'));
    const file = join(dir, 'm.flow');
    writeFileSync(file, MISTAKES);
    const red = '\x1b[31m';
    const saved = process.env.NO_COLOR;
    const forced = process.env.FORCE_COLOR;
    delete process.env.NO_COLOR;
    delete process.env.FORCE_COLOR;
    try {
      expect((await flowrun(['check', file], true)).out).toContain(`${red}error`);
      const plain = await flowrun(['check', file, '--no-color'], true);
      expect(plain.code).toBe(1);
      expect(plain.out).toContain('error: expected compute');
      expect(plain.out).not.toContain('\x1b');
      expect((await flowrun(['check', file], false)).out).not.toContain('\x1b');
      process.env.NO_COLOR = '1';
      expect((await flowrun(['check', file], true)).out).not.toContain('\x1b');
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
      if (forced !== undefined) process.env.FORCE_COLOR = forced;
    }
  });
});
