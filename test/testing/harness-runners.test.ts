/**
 * `flowrun/testing` runs under any test runner: it imports none, and a test written for
 * `node:test` passes there (Jest, like Vitest, runs the same code: its assertions are thrown
 * `node:assert` AssertionErrors).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('flowrun/testing under other test runners', () => {
  it('imports no test runner', () => {
    const dir = join(root, 'src/testing');
    const offenders = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) => /from\s+['"](vitest|jest|@jest\/globals|node:test)['"]/.test(readFileSync(join(dir, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('passes a node:test file', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'test/testing/renewal.node-test.ts'], { cwd: root, timeout: 60_000 });
    expect(stdout).toMatch(/^# pass 1$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
  });
});
