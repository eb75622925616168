/**
 * The TextMate grammar of `.flow` files is generated from the keyword tables: the committed file
 * is what the generator writes now, and every spelling of every keyword in every language is
 * highlighted as a keyword (the patterns are checked with JavaScript's regular expressions,
 * which agree with TextMate's Oniguruma on the constructs the grammar uses).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flowGrammar, flowGrammarText } from '../../scripts/flow-grammar.js';
import { LANGUAGES } from '../../src/dsl/keywords/languages.js';

const file = resolve(import.meta.dirname, '../../editors/vscode/flowrun.tmLanguage.json');

interface Pattern {
  name: string;
  match: string;
}
const keywordPatterns = ((flowGrammar().repository as Record<string, { patterns: Pattern[] }>).keyword!.patterns).map((p) => ({
  name: p.name,
  // `(?i)` is Oniguruma's; JavaScript takes the same as the `i` flag.
  regex: new RegExp(p.match.replace(/^\(\?i\)/, ''), 'iu'),
}));

/** The scope a whole word gets, if a keyword pattern matches all of it. */
function scopeOf(word: string): string | undefined {
  return keywordPatterns.find((p) => p.regex.exec(word)?.[0] === word)?.name;
}

describe('the .flow grammar', () => {
  it('is up to date with the keyword tables (run `npm run grammar` after changing them)', () => {
    expect(readFileSync(file, 'utf8')).toBe(flowGrammarText());
  });

  it.each(Object.values(LANGUAGES).map((t) => [t.language, t] as const))('highlights every keyword of %s', (_code, table) => {
    const missed = Object.entries(table.words).flatMap(([key, spellings]) => spellings.filter((w) => scopeOf(w) === undefined && scopeOf(w.toUpperCase()) === undefined).map((w) => `${key}: ${w}`));
    expect(missed).toEqual([]);
  });

  it('highlights keywords only as whole words', () => {
    expect(scopeOf('machine')).toBe('storage.type.machine.flowrun');
    expect(keywordPatterns.some((p) => p.regex.test('machinery'))).toBe(false);
    expect(keywordPatterns.some((p) => p.regex.test('order_id'))).toBe(false);
    expect(scopeOf('is   required')).toBe('keyword.other.flowrun');
  });
});
