/**
 * `@opentelemetry/api` is an optional peer dependency: in a process where it cannot be found,
 * flowrun still loads and runs flows, untraced.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

describe('without @opentelemetry/api installed', () => {
  it('loads flowrun and runs a flow, untraced', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/support/hide-opentelemetry.mjs', 'test/support/run-without-opentelemetry.ts'], { cwd: root, encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout.trim())).toEqual({ reachable: { byImport: false, byRequire: false }, traced: false, status: 'SUCCEEDED', output: { ok: true } });
  });
});
