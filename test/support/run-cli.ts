/** Runs the `flowrun` CLI from source in a child process and collects what it printed. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const root = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** The exit code and output of `flowrun ARGS` (run by test/support/flowrun-cli.ts, no build needed). */
export async function runFlowrunCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'test/support/flowrun-cli.ts', ...args], {
      cwd: root,
      timeout: options.timeoutMs ?? 30_000,
      ...(options.env ? { env: options.env } : {}),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
