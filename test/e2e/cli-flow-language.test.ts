import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFlowrunCli } from '../support/run-cli.js';

const flowrun = runFlowrunCli;

describe('flowrun CLI with .flow programs (real process)', () => {
  it('runs the seed report_generator with --assume, showing the run dispatch with its line, and exits 0', async () => {
    const input = JSON.stringify({ report_type: 'detailed', data: { title: 'Q3' } });
    const r = await flowrun(['run', 'examples/report-generator.flow', '--input', input, '--assume', '--store', 'memory']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('run generate_detailed from run_generate_detailed (report-generator.flow:13)');
    expect(r.stdout).toContain('"report": "Detailed analysis..."');
  });

  it('fails an ask without --assume with MODEL_NOT_CONFIGURED', async () => {
    const input = JSON.stringify({ report_type: 'detailed', data: { title: 'Q3' } });
    const r = await flowrun(['run', 'examples/report-generator.flow', '--input', input, '--json', '--store', 'memory']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('MODEL_NOT_CONFIGURED');
  });

  it('translates a program into another language, which checks and runs the same', async () => {
    const r = await flowrun(['translate', 'examples/pipeline.flow', '--to', 'ko']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('// language: ko');
    expect(r.stdout).toContain('    실행 흐름(process)');
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-dsl-'));
    const file = join(dir, 'pipeline.ko.flow');
    writeFileSync(file, r.stdout);
    const ran = await flowrun(['run', file, '--quiet', '--store', 'memory']);
    expect(ran.code).toBe(0);
    expect(JSON.parse(ran.stdout)).toEqual({ done: true, processed: true });
    expect((await flowrun(['translate', 'examples/pipeline.flow', '--to', 'xx'])).code).toBe(1);
  });

  it('checks .flow files: exit 0 when all compile, exit 1 with file:line:column diagnostics in the file\'s language and English', async () => {
    const ok = await flowrun(['check', 'examples/pipeline.flow', 'examples/i18n/report-generator.ja.flow']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ok  examples/pipeline.flow (pipeline)');
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-dsl-'));
    const bad = join(dir, 'bad.flow');
    writeFileSync(bad, '// language: es\nmaquina m\n  implementa\n    ejecuta flujo(nada)\n');
    const r = await flowrun(['check', 'examples/pipeline.flow', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${bad}:4:19: error: flujo desconocido "nada"`);
    expect(r.stdout).toContain('(en) unknown flow "nada"');
  });
});
