/**
 * An engine in a process of its own, the way a script uses it: work it accepted keeps the process
 * alive until it is done. (A backlog of one owner past its fair share once waited on an unref'd
 * poll timer, and Node exited in the middle of `await engine.whenIdle()`, printing nothing.)
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

it('keeps the process alive until 8,000 runs of one owner all wait on their retry timers', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/waiting-runs.ts', '8000'], { cwd: root, timeout: 120_000 });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  expect(last).not.toBe('');
  expect(JSON.parse(last)).toMatchObject({ runs: 8000, waiting: 8000 });
}, 150_000);
