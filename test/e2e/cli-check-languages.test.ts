/** `flowrun check` (real process) says the flow validator's problems in the language of each `.flow` file. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src/dsl/keywords/en.js';
import { LANGUAGES } from '../../src/dsl/keywords/languages.js';
import { REFUND_FLOW, programWithCalls, programWithInvalidDefinition, say } from '../support/localized-programs.js';
import { runFlowrunCli } from '../support/run-cli.js';

interface CheckJson {
  ok: boolean;
  files: { file: string; ok: boolean; problems: { severity: string; message: string; english?: string; line?: number }[] }[];
}

const tables = Object.values(LANGUAGES);
const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-languages-'));
const files: string[] = [];

beforeAll(() => {
  writeFileSync(join(dir, 'refund.json'), JSON.stringify(REFUND_FLOW));
  for (const t of tables) {
    const invalid = join(dir, `invalid.${t.language}.flow`);
    const calls = join(dir, `calls.${t.language}.flow`);
    writeFileSync(invalid, programWithInvalidDefinition(t).text);
    writeFileSync(calls, programWithCalls(t).text);
    files.push(invalid, calls);
  }
});

describe('flowrun check in seven languages (real process)', () => {
  it('prints every validator problem of a program in its language, the English after it, and none in English alone', async () => {
    const r = await runFlowrunCli(['check', ...files], { env: { ...process.env, NO_COLOR: '1' } });
    expect(r.code).toBe(1);
    for (const t of tables) {
      const invalid = programWithInvalidDefinition(t);
      const calls = programWithCalls(t);
      const expected = [
        ...invalid.problems.map((p) => ({ file: join(dir, `invalid.${t.language}.flow`), severity: 'error', ...p })),
        ...calls.errors.map((p) => ({ file: join(dir, `calls.${t.language}.flow`), severity: 'error', ...p })),
        ...calls.warnings.map((p) => ({ file: join(dir, `calls.${t.language}.flow`), severity: 'warning', ...p })),
      ];
      for (const p of expected) {
        const english = say(p.message, en);
        expect(r.stdout).toMatch(new RegExp(`${escape(p.file)}:${p.line}(:\\d+)?: ${p.severity}: ${escape(say(p.message, t))}\\n`));
        if (t === en) continue;
        expect(r.stdout).toContain(`  (en) ${english}\n`);
        // The English text shows only as the "(en)" line, never as the problem itself.
        expect(r.stdout).not.toMatch(new RegExp(`${escape(p.file)}:[\\d:]+ ${p.severity}: ${escape(english)}`));
      }
    }
  });

  it('--json carries each problem in the file\'s language and, when that is not English, the English message', async () => {
    const r = await runFlowrunCli(['check', '--json', ...files]);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as CheckJson;
    for (const t of tables) {
      const invalid = report.files.find((f) => f.file === join(dir, `invalid.${t.language}.flow`))!;
      const calls = report.files.find((f) => f.file === join(dir, `calls.${t.language}.flow`))!;
      const { problems } = programWithInvalidDefinition(t);
      const { errors, warnings } = programWithCalls(t);
      const pairs = (list: typeof problems): [number, string, string | undefined][] => list.map((p) => [p.line, say(p.message, t), t === en ? undefined : say(p.message, en)]);
      expect(invalid.problems.map((p) => [p.line, p.message, p.english])).toEqual(pairs(problems));
      expect(calls.problems.filter((p) => p.severity === 'error').map((p) => [p.line, p.message, p.english])).toEqual(pairs(errors));
      expect(calls.problems.filter((p) => p.severity === 'warning').map((p) => [p.line, p.message, p.english])).toEqual(pairs(warnings));
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
