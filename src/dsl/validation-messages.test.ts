/** The flow validator's messages in the seven languages: complete tables, and compileFlow speaking them. */
import { describe, expect, it } from 'vitest';
import { programWithInvalidDefinition, say } from '../../test/support/localized-programs.js';
import { VALIDATION_MESSAGES, type ValidationMessageKey } from '../core/validation/messages.js';
import { compileFlow } from './compile-flow.js';
import { en } from './keywords/en.js';
import type { KeywordKey } from './keywords/keyword-table.js';
import { LANGUAGES } from './keywords/languages.js';

const KEYS = Object.keys(VALIDATION_MESSAGES) as ValidationMessageKey[];
const placeholders = (template: string): string[] => [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();
const OTHERS = Object.values(LANGUAGES).filter((t) => t !== en);

describe('the validator messages of every language', () => {
  it.each(Object.values(LANGUAGES).map((t) => [t.language, t] as const))('%s has every key, non-empty, with the English placeholders', (_code, table) => {
    expect(Object.keys(table.validation).sort()).toEqual([...KEYS].sort());
    for (const key of KEYS) {
      const template = table.validation[key];
      expect(template.trim(), `${table.language}.${key}`).not.toBe('');
      expect(placeholders(template), `${table.language}.${key}: ${template}`).toEqual(placeholders(VALIDATION_MESSAGES[key]));
    }
  });

  it.each(OTHERS.map((t) => [t.language, t] as const))('%s names the types with its own type keywords', (_code, table) => {
    const types: [ValidationMessageKey, KeywordKey][] = [['typeString', 'text'], ['typeNumber', 'number'], ['typeBoolean', 'boolean'], ['typeObject', 'map'], ['typeArray', 'list']];
    for (const [key, word] of types) expect(table.validation[key]).toBe(table.words[word][0]);
  });
});

describe('compileFlow: problems the validator finds, in the program\'s language', () => {
  it.each(Object.values(LANGUAGES).map((t) => [t.language, t] as const))('%s: each problem in the language, the English beside it, on its line', (_code, table) => {
    const { text, problems } = programWithInvalidDefinition(table);
    const result = compileFlow(text);
    if (result.ok) throw new Error('expected the program not to compile');
    const invalid = result.diagnostics.filter((d) => d.code === 'INVALID_DEFINITION');
    expect(invalid.map((d) => [d.line, d.localizedMessage])).toEqual(problems.map((p) => [p.line, say(p.message, table)]));
    expect(invalid.map((d) => d.message)).toEqual(problems.map((p) => say(p.message, en)));
    for (const d of invalid) expect(d.language).toBe(table.language);
    if (table === en) return;
    // No English validator text reaches the author of a program in another language.
    for (const d of invalid) {
      expect(d.localizedMessage).not.toBe(d.message);
      for (const english of ['expected', 'names no step', 'should be', 'invalid flow id', 'did you mean', 'does not fit', 'at column']) expect(d.localizedMessage).not.toContain(english);
    }
  });

  it.each(Object.values(LANGUAGES).map((t) => [t.language, t] as const))('%s: an expression nested too deeply is said in the language too', (_code, table) => {
    const w = (key: KeywordKey): string => table.words[key][0]!;
    const deep = `${'['.repeat(70)}1${']'.repeat(70)}`;
    const text = [`// language: ${table.language}`, `${w('machine')} deep`, `  ${w('implements')}`, `    ${w('compute')} total ${deep}`, ''].join('\n');
    const result = compileFlow(text);
    if (result.ok) throw new Error('expected the program not to compile');
    const problem = result.diagnostics.find((d) => d.code === 'INVALID_DEFINITION')!;
    expect(problem.message).toContain('more than 64 levels of nesting');
    expect(problem.localizedMessage).toContain(table.validation.exprTooDeep.replace('{bound}', '64'));
  });

  it('keeps what a name from the program says as written, and says the suggestion in the language', () => {
    const { text } = programWithInvalidDefinition(LANGUAGES.de!);
    const result = compileFlow(text);
    if (result.ok) throw new Error('expected the program not to compile');
    const step = result.diagnostics.find((d) => d.line === 7)!;
    expect(step.localizedMessage).toBe('„steps.totl“ in "steps.totl.value" bezeichnet keinen Schritt dieses Ablaufs; meinten Sie „total“?; seine Schritte: total, next, summary, refund, paid (ein Schritt liest nur die Ausgaben der Schritte seines eigenen Ablaufs)');
    expect(step.message).toBe('"steps.totl" in "steps.totl.value" names no step of this graph; did you mean "total"?; its steps: total, next, summary, refund, paid (a step reads the outputs of its own graph\'s steps only)');
    expect(result.diagnostics.find((d) => d.line === 4)!.localizedMessage).toBe('der Standardwert von „limit“ passt nicht zu seinem Typ: erwartet: zahl, gefunden: "ten" (Schema: #/type)');
  });
});
