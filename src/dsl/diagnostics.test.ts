/** Diagnostics: every problem with line, column, what was expected and what was found, in two languages. */
import { describe, expect, it } from 'vitest';
import { compileFlow, type Diagnostic } from './compile-flow.js';

function problems(text: string, options = {}): Diagnostic[] {
  const result = compileFlow(text, options);
  if (result.ok) throw new Error('expected the program not to compile');
  return result.diagnostics;
}

describe('compileFlow diagnostics', () => {
  it('names the line, the column, what was expected and what was found', () => {
    const [d, ...rest] = problems('machine m\n  implements\n    compute x 1\n    comptue y 2\n');
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ line: 4, column: 5, code: 'SYNTAX', found: 'comptue', language: 'en' });
    expect(d!.expected).toBe('compute, decide, run, goto, launch, ask, action, set, fail, wait, emit');
    expect(d!.message).toBe('expected compute, decide, run, goto, launch, ask, action, set, fail, wait, emit, found "comptue"; did you mean "compute"?');
    expect(d!.localizedMessage).toBe(d!.message);
  });

  it('reports every problem at once, in order, and keeps reading after a bad line', () => {
    const ds = problems(['machine m', '  implements', '    run flow(nope)', '    compute', '    decide d', '  flows', '    flow f', '      goto flow f'].join('\n'));
    expect(ds.map((d) => [d.line, d.column, d.code])).toEqual([
      [4, 12, 'SYNTAX'],
      [5, 13, 'SYNTAX'],
      [8, 17, 'SYNTAX'],
      [3, 14, 'UNKNOWN_FLOW'],
    ].sort((a, b) => (a[0] as number) - (b[0] as number)));
    expect(ds.find((d) => d.code === 'UNKNOWN_FLOW')!.message).toBe('unknown flow "nope"; the machine\'s flows: f');
    expect(ds.find((d) => d.line === 4)).toMatchObject({ expected: 'a name', found: 'the end of the line' });
    expect(ds.find((d) => d.line === 8)).toMatchObject({ expected: '"("', found: 'f' });
  });

  it('speaks the program\'s language and English', () => {
    const [d] = problems('// language: es\nmáquina m\n  implementa\n    calcular x 1\n');
    expect(d).toMatchObject({ line: 4, column: 5, language: 'es', found: 'calcular' });
    // The suggestion is the closest keyword of the program's language ("calcula"); English has none that close.
    expect(d!.localizedMessage).toBe('se esperaba calcula, decide, ejecuta, salta, lanza, pregunta, acción, asigna, falla, espera, emite, se encontró "calcular"; ¿quiso decir "calcula"?');
    expect(d!.message).toBe('expected compute, decide, run, goto, launch, ask, action, set, fail, wait, emit, found "calcular"');
    const [ja] = problems('// language: ja\nマシン m\n  実装\n    実行 フロー(なし)\n');
    expect(ja!.localizedMessage).toContain('不明なフロー「なし」');
    expect(ja!.message).toContain('unknown flow "なし"');
  });

  it('reports unclosed strings and brackets where they open, and bad indentation', () => {
    expect(problems('machine m\n  implements\n    compute x "abc\n')[0]).toMatchObject({ line: 3, column: 15, code: 'UNCLOSED' });
    expect(problems('machine m\n  implements\n    compute x {a: (1\n')[0]).toMatchObject({ line: 3, column: 19, code: 'UNCLOSED', message: 'unclosed (' });
    expect(problems('machine m\n  implements\n    compute x 1\n   compute y 2\n')[0]).toMatchObject({ line: 4, column: 4, code: 'INDENTATION' });
  });

  it('maps problems the validator finds in the compiled definition back to their line', () => {
    const ds = problems(['machine m', '  implements', '    compute x 1 +', '    ask a, using: "nomodel"', '      returns n as number', '      assuming n: "three"'].join('\n'), { file: 'm.flow' });
    expect(ds.map((d) => [d.line, d.code, d.path])).toEqual([
      [3, 'INVALID_DEFINITION', 'actions.main.steps.x.expression'],
      [4, 'INVALID_DEFINITION', 'actions.main.steps.a.model'],
      [4, 'INVALID_DEFINITION', 'actions.main.steps.a.assuming.n'],
    ]);
    expect(ds[0]!.file).toBe('m.flow');
  });

  it('reports a mistake in an expression in the same pass as a misspelt keyword and an unknown flow, without definition paths', () => {
    const ds = problems(['machine m', '  implements', '    compute x {a: 1 +}', '    decid y', '    run flow(generat)', '    compute z steps.xx.a', '  flows', '    flow generate', '      compute b 1'].join('\n'));
    expect(ds.map((d) => [d.line, d.code])).toEqual([
      [3, 'INVALID_DEFINITION'],
      [4, 'SYNTAX'],
      [5, 'UNKNOWN_FLOW'],
      [6, 'INVALID_DEFINITION'],
    ]);
    expect(ds[1]!.message).toContain('found "decid"; did you mean "decide"?');
    expect(ds[2]!.message).toBe('unknown flow "generat"; the machine\'s flows: generate; did you mean "generate"?');
    expect(ds[3]!.message).toContain('did you mean "x"?');
    for (const d of ds) expect(d.message).not.toContain('actions.main');
  });

  it('refuses duplicate names and an unknown language', () => {
    const ds = problems('machine m\n  accepts\n    a as text\n    a as number\n  implements\n    compute x 1\n    compute x 2\n');
    expect(ds.map((d) => [d.line, d.code, d.message])).toEqual([
      [4, 'DUPLICATE', 'accepts "a" is already defined on line 3'],
      [7, 'DUPLICATE', 'step "x" is already defined on line 6'],
    ]);
    expect(problems('// language: xx\nmachine m\n')[0]).toMatchObject({ line: 1, column: 14, code: 'UNKNOWN_LANGUAGE', found: 'xx' });
    expect(problems('machine m', { language: 'tlh' })[0]).toMatchObject({ code: 'UNKNOWN_LANGUAGE' });
  });

  it('refuses prototype keys as names', () => {
    const ds = problems(['machine m', '  accepts', '    __proto__ as text', '  implements', '    compute constructor 1', '    action a call machine: "x" __proto__: 1'].join('\n'));
    expect(ds.map((d) => [d.line, d.found])).toEqual([
      [3, '__proto__'],
      [5, 'constructor'],
      [6, '__proto__'],
    ]);
  });

  it('answers input that is not text with a diagnostic, not an exception', () => {
    expect(problems(undefined as never)[0]).toMatchObject({ line: 1, column: 1, found: 'undefined' });
    expect(problems(42 as never, null as never)[0]).toMatchObject({ expected: 'program text (a string)' });
  });

  it('needs a machine', () => {
    expect(problems('')[0]).toMatchObject({ line: 1, column: 1, expected: 'machine' });
    expect(problems('compute x 1')[0]).toMatchObject({ line: 1, column: 1, expected: 'machine', found: 'compute' });
  });
});
