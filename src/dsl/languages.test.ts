/**
 * The seven languages: each table is complete and unambiguous, and every example written in any
 * of them compiles to the identical FlowDefinition.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFlow } from './compile-flow.js';
import { KEYWORD_KEYS } from './keywords/keyword-table.js';
import { LANGUAGES, LANGUAGE_CODES } from './keywords/languages.js';
import { translateFlow } from './translate-flow.js';

const examples = resolve(import.meta.dirname, '../../examples');
const flowFiles = readdirSync(examples).filter((n) => n.endsWith('.flow')).sort();
const read = (name: string): string => readFileSync(resolve(examples, name), 'utf8');

describe('keyword tables', () => {
  it('has the seven languages, with run spelled as the seed says', () => {
    expect(LANGUAGE_CODES).toEqual(['en', 'es', 'fr', 'de', 'ja', 'zh', 'ko']);
    expect(LANGUAGE_CODES.map((c) => LANGUAGES[c]!.words.run[0])).toEqual(['run', 'ejecuta', 'execute', 'starte', '実行', '运行', '실행']);
  });

  it.each(LANGUAGE_CODES)('%s: spells every keyword, and no spelling means two things', (code) => {
    const table = LANGUAGES[code]!;
    const seen = new Map<string, string>();
    for (const key of KEYWORD_KEYS) {
      expect(table.words[key].length, key).toBeGreaterThan(0);
      for (const spelling of table.words[key]) {
        const word = spelling.toLowerCase();
        expect(seen.get(word), `"${spelling}" is both ${seen.get(word)} and ${key}`).toBeUndefined();
        seen.set(word, key);
        expect(spelling).toMatch(/^[\p{L}\p{N}_]+( [\p{L}\p{N}_]+)*$/u);
      }
    }
  });
});

describe('the same program in seven languages', () => {
  it('covers every example file', () => {
    expect(flowFiles.length).toBeGreaterThanOrEqual(7);
  });

  for (const name of flowFiles) {
    it(`${name} compiles to the identical definition in every language`, () => {
      const english = compileFlow(read(name), { file: name });
      expect(english.ok).toBe(true);
      for (const to of LANGUAGE_CODES) {
        // Without a header line, so line numbers (in each step's source) are the same.
        const translated = translateFlow(read(name), { to, file: name, header: false });
        if (!translated.ok) throw new Error(JSON.stringify(translated.diagnostics));
        if (to !== 'en') expect(translated.text).not.toEqual(read(name));
        expect(compileFlow(translated.text, { file: name, language: to }), `${name} in ${to}`).toEqual(english);
        // With a header, the language needs no option.
        const withHeader = translateFlow(read(name), { to, file: name });
        expect(withHeader.ok && compileFlow(withHeader.text, { file: name }).ok).toBe(true);
      }
    });
  }

  it.each(LANGUAGE_CODES.filter((c) => c !== 'en'))('the hand-written report_generator in %s compiles like the English one', (code) => {
    const own = compileFlow(read(`i18n/report-generator.${code}.flow`), { file: 'report-generator.flow' });
    const english = translateFlow(read('report-generator.flow'), { to: code, file: 'report-generator.flow' });
    expect(english.ok).toBe(true);
    if (english.ok) expect(own).toEqual(compileFlow(english.text, { file: 'report-generator.flow' }));
  });

  it('accepts accent-free and capitalised spellings', () => {
    const es = '// language: es\nMAQUINA m\n  implementa\n    calcula x {a: 1}\n';
    const de = '// language: de\nMaschine m\n  Implementiert\n    Berechne x {a: 1}\n';
    expect(compileFlow(es)).toEqual(compileFlow('// language: en\nmachine m\n  implements\n    compute x {a: 1}\n'));
    expect(compileFlow(de).ok).toBe(true);
  });

  it('accepts full-width punctuation in keyword syntax, as CJK keyboards type it', () => {
    const ja = '// language: ja\nマシン m\n  実装\n    実行 フロー（f）\n    起動 l、マシン：「x」\n  フロー一覧\n    フロー f\n      計算 x 1\n';
    const ascii = ja.replace('（', '(').replace('）', ')').replace('、', ',').replace('：', ':');
    expect(compileFlow(ja.replace('「x」', '"x"'))).toEqual(compileFlow(ascii.replace('「x」', '"x"')));
    expect(compileFlow(ja.replace('「x」', '"x"')).ok).toBe(true);
  });

  it('takes the language from the header over the option', () => {
    const text = '// language: fr\nmachine m\n  implémente\n    calcule x 1\n';
    expect(compileFlow(text, { language: 'en' }).ok).toBe(true);
  });
});

describe('English keywords in a program of another language (seed 001: the seed is written in English)', () => {
  const spanish = '// language: es\nmáquina pipeline\n  implementa\n    calcula setup {ready: true}\n    ejecuta flujo(process)\n    calcula finalize {done: true, processed: steps.setup.ready}\n  flujos\n    flujo process\n      calcula work {result: "processed"}\n';

  it('accepts "machine" and "ejecuta flow(x)" in a Spanish program, compiled to the same definition', () => {
    const mixed = '// language: es\nmachine pipeline\n  implementa\n    calcula setup {ready: true}\n    ejecuta flow(process)\n    calcula finalize {done: true, processed: steps.setup.ready}\n  flows\n    flow process\n      compute work {result: "processed"}\n';
    const result = compileFlow(mixed);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result).toEqual(compileFlow(spanish));
  });

  it.each(LANGUAGE_CODES.filter((c) => c !== 'en'))('%s: every example written in English compiles under that language to the English definition', (code) => {
    for (const name of flowFiles) {
      const english = compileFlow(read(name), { file: name });
      expect(compileFlow(read(name), { file: name, language: code }), `${name} as ${code}`).toEqual(english);
    }
  });

  it('no English word spells another keyword of any language', () => {
    for (const code of LANGUAGE_CODES) {
      const own = new Map<string, string>();
      for (const key of KEYWORD_KEYS) for (const s of LANGUAGES[code]!.words[key]) own.set(s.toLowerCase(), key);
      for (const key of KEYWORD_KEYS) for (const s of LANGUAGES.en!.words[key]) expect(own.get(s) ?? key, `${code}: "${s}"`).toBe(key);
    }
  });

  it('accepts a leading byte-order mark', () => {
    expect(compileFlow(`\uFEFF${spanish}`)).toEqual(compileFlow(spanish));
    expect(compileFlow('\uFEFFmachine m\n  implements\n    compute x 1\n').ok).toBe(true);
  });
});

describe('the schedule clause', () => {
  const program = `machine nightly_report
  schedule nightly "30 2 * * *" in "Europe/Paris"
  schedule quarter every "15m" as "svc-reports"
  implements
    compute report {at: schedule.scheduledTime, before: schedule.previousTime}
`;

  it('compiles to the definition\'s schedules, identically in all seven languages', () => {
    const english = compileFlow(program);
    expect(english.ok && english.flow.schedules).toEqual([
      { name: 'nightly', cron: '30 2 * * *', timezone: 'Europe/Paris' },
      { name: 'quarter', every: '15m', runAs: 'svc-reports' },
    ]);
    for (const to of LANGUAGE_CODES) {
      const translated = translateFlow(program, { to, header: false });
      if (!translated.ok) throw new Error(JSON.stringify(translated.diagnostics));
      expect(compileFlow(translated.text, { language: to }), to).toEqual(english);
    }
    expect(translateFlow(program, { to: 'fr', header: false })).toMatchObject({ ok: true, text: expect.stringContaining('planifie nightly "30 2 * * *" fuseau "Europe/Paris"') });
  });

  it('reports an invalid cron or time zone on the schedule line', () => {
    const bad = compileFlow('machine m\n  schedule x "0 2 * * *" in "Mars/Base"\n  implements\n    compute a 1\n');
    expect(bad).toMatchObject({ ok: false, diagnostics: [{ line: 2, message: expect.stringMatching(/unknown time zone "Mars\/Base"/) }] });
  });
});
