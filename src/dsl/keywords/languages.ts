/** The seven languages of the flow language, by code. */
import { de } from './de.js';
import { en } from './en.js';
import { es } from './es.js';
import { fr } from './fr.js';
import { ja } from './ja.js';
import type { KeywordKey, KeywordTable } from './keyword-table.js';
import { ko } from './ko.js';
import { zh } from './zh.js';

/** Every language, by its code: en, es, fr, de, ja, zh, ko. */
export const LANGUAGES: Readonly<Record<string, KeywordTable>> = Object.freeze({ en, es, fr, de, ja, zh, ko });

/** The language codes, in a stable order. */
export const LANGUAGE_CODES = Object.keys(LANGUAGES);

/** The language with code `code`, if it exists. */
export function languageOf(code: string): KeywordTable | undefined {
  return Object.hasOwn(LANGUAGES, code) ? LANGUAGES[code] : undefined;
}

/**
 * A word → keys index of one table (words compared lower-cased); multi-word spellings are keyed by
 * their first word. Every table also accepts the English spellings, after its own: a program in
 * any language may use the seed's English words (`ejecuta flow(x)`), and a mixed program compiles
 * to the same definition. No English word spells another key in any table (languages.test.ts).
 */
export interface KeywordIndex {
  table: KeywordTable;
  /** First word of a spelling → the keys it may start, with the words that must follow. */
  byFirstWord: Map<string, { key: KeywordKey; rest: string[] }[]>;
}

const indexes = new Map<string, KeywordIndex>();

/** The (cached) reverse index of a table. */
export function keywordIndex(table: KeywordTable): KeywordIndex {
  let index = indexes.get(table.language);
  if (index) return index;
  index = { table, byFirstWord: new Map() };
  const tables = table === en ? [table] : [table, en];
  for (const [key, spellings] of tables.flatMap((t) => Object.entries(t.words) as [KeywordKey, readonly string[]][])) {
    for (const spelling of spellings) {
      const [first, ...rest] = spelling.toLowerCase().split(' ');
      const entries = index.byFirstWord.get(first!) ?? [];
      if (entries.some((e) => e.key === key && e.rest.join(' ') === rest.join(' '))) continue;
      entries.push({ key, rest });
      index.byFirstWord.set(first!, entries);
    }
  }
  indexes.set(table.language, index);
  return index;
}
