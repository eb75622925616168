/**
 * compileFlow on random and mutated programs: it always returns (a definition or diagnostics with
 * valid positions), never throws, and stays fast however odd the input.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFlow, type CompileFlowResult } from './compile-flow.js';
import { LANGUAGES, LANGUAGE_CODES } from './keywords/languages.js';
import { translateFlow } from './translate-flow.js';

const examples = resolve(import.meta.dirname, '../../examples');
const programs = readdirSync(examples).filter((n) => n.endsWith('.flow')).map((n) => readFileSync(resolve(examples, n), 'utf8'));
const words = [...new Set(LANGUAGE_CODES.flatMap((c) => Object.values(LANGUAGES[c]!.words).flat()))];
const pieces = [...words, '(', ')', '{', '}', '[', ']', '"', "'", '${', ':', ',', '//', '\n', '  ', '\t', 'flow(x)', 'input.a', 'is', '"s"', '1', '@o/m', '\\', '__proto__', 'constructor', '（', '：'];

/** Compiles within a time bound and checks the shape of the answer. */
function compileChecked(text: string, language?: string): CompileFlowResult {
  const started = performance.now();
  const result = compileFlow(text, language === undefined ? {} : { language });
  expect(performance.now() - started).toBeLessThan(2_000);
  expect(typeof result.ok).toBe('boolean');
  if (!result.ok) {
    expect(result.diagnostics.length).toBeGreaterThan(0);
    for (const d of result.diagnostics) {
      expect(Number.isInteger(d.line) && d.line >= 1).toBe(true);
      expect(Number.isInteger(d.column) && d.column >= 1).toBe(true);
      expect(typeof d.message).toBe('string');
      expect(d.message).not.toContain('internal compiler error');
    }
  }
  return result;
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 4 })) }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 4 }) }),
);

function mutate(text: string, mutations: { kind: string; [k: string]: unknown }[]): string {
  let out = text;
  for (const m of mutations) {
    if (m.kind === 'delete') {
      const at = (m.at as number) % (out.length + 1);
      out = out.slice(0, at) + out.slice(at + (m.length as number));
    } else if (m.kind === 'insert') {
      const at = (m.at as number) % (out.length + 1);
      out = out.slice(0, at) + (m.text as string) + out.slice(at);
    } else {
      const lines = out.split('\n');
      if (m.kind === 'swapLines') {
        const a = (m.a as number) % lines.length;
        const b = (m.b as number) % lines.length;
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      } else {
        const i = (m.line as number) % lines.length;
        const by = m.by as number;
        lines[i] = by >= 0 ? ' '.repeat(by) + lines[i] : lines[i]!.slice(-by);
      }
      out = lines.join('\n');
    }
  }
  return out;
}

describe('compileFlow on arbitrary input (fast-check)', () => {
  it('returns for any string, never throws', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.constantFrom(undefined, ...LANGUAGE_CODES), (text, language) => void compileChecked(text, language)), { numRuns: 400 });
  });

  it('returns for token soup made of every language\'s keywords and the punctuation of the language', () => {
    const soup = fc.array(fc.constantFrom(...pieces, ' ', ' ', '\n    ', 'm', 'x'), { maxLength: 120 }).map((parts) => parts.join(' '));
    fc.assert(fc.property(soup, fc.constantFrom(...LANGUAGE_CODES), (text, language) => void compileChecked(text, language)), { numRuns: 400 });
  });

  it('returns for mutated example programs, and translates whatever still compiles', () => {
    fc.assert(
      fc.property(fc.constantFrom(...programs), fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.constantFrom(...LANGUAGE_CODES), (program, mutations, to) => {
        const text = mutate(program, mutations as { kind: string }[]);
        const result = compileChecked(text);
        const translated = translateFlow(text, { to, header: false });
        expect(translated.ok).toBe(result.ok);
        if (translated.ok && result.ok) expect(compileFlow(translated.text, { language: to })).toEqual(result);
      }),
      { numRuns: 600 },
    );
  });

  it('stays fast on pathological nesting and very long lines', () => {
    compileChecked(`machine m\n  implements\n    compute x ${'['.repeat(5_000)}`);
    compileChecked(`machine m\n  implements\n    compute x ${'['.repeat(20_000)}1${']'.repeat(20_000)}`);
    compileChecked(`machine m\n  implements\n    compute x ${'('.repeat(20_000)}1${')'.repeat(20_000)}`);
    compileChecked(`machine m\n  implements\n    compute x ${'"${'.repeat(2_000)}`);
    compileChecked(`machine m\n  implements\n    ask a, using: "p:m"\n      assuming v: ${'['.repeat(3_000)}1${']'.repeat(3_000)}`);
    compileChecked(`machine m\n${'  '.repeat(1)}implements\n${Array.from({ length: 2_000 }, (_, i) => `${' '.repeat(4 + (i % 7))}compute s${i} ${i}`).join('\n')}`);
    compileChecked(`machine m\n  implements\n    launch l, machine: "x" ${'a: 1 '.repeat(5_000)}`);
  });
});
