/**
 * Budgets against a real `flowrun serve` over a SQLite folder: the doubling value of issue 12
 * (item 1) fails its run with LIMIT_EXCEEDED while the server keeps answering; a server killed
 * with SIGKILL while a run waits is restarted with a smaller state budget, opens its port, and
 * fails that run at its claim instead of running it; `--budget` refuses a name that is no budget.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFlowrunCli } from '../support/run-cli.js';
import { DOUBLING_FLOW } from '../support/hostile-flows.js';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'flowrun-budgets-e2e-'));
const flowsDir = join(dir, 'flows');
const store = `sqlite:${join(dir, 'store')}`;
const servers: ChildProcess[] = [];


/** A 300 KB var, then a wait of one second, forever. */
const fatWaiter = {
  id: 'm/fat',
  vars: { big: { type: 'text', default: '' } },
  actions: { main: { startAt: 'fill', steps: { fill: { stepType: 'SET', target: '$.vars.big', expression: '"x".repeat(300000)', defaultNextStepInstanceId: 'go' }, go: { stepType: 'GOTO', subflow: 'nap' } } } },
  subflows: { nap: { startAt: 'wait', steps: { wait: { stepType: 'WAIT', durationMs: 1000, defaultNextStepInstanceId: 'again' }, again: { stepType: 'GOTO', subflow: 'nap' } } } },
};

async function startServer(extra: string[]): Promise<{ child: ChildProcess; url: string; token: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/flowrun-cli.ts', 'serve', '--store', store, '--port', '0', '--flows', flowsDir, ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const deadline = Date.now() + 30_000;
  while (!/admin token \(shown once\): (frt_\S+)/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`flowrun serve did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: /flowrun is serving (http:\/\/\S+)/.exec(out)![1]!, token: /admin token \(shown once\): (frt_\S+)/.exec(out)![1]! };
}

async function api<T>(server: { url: string; token: string }, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await response.json()) as T;
}

type Run = { runId: string; status: string; runError: { code: string; details?: Record<string, unknown> } | null };

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(() => {
  for (const child of servers) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('budgets in flowrun serve (real processes, SQLite)', () => {
  it('refuses a --budget that is not a budget, naming it', async () => {
    const result = await runFlowrunCli(['serve', '--store', 'memory', '--port', '0', '--budget', 'maxStateByte=10']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('INVALID_INPUT');
    expect(result.stderr).toContain('"maxStateByte" is not a budget');
  });

  it('fails the doubling value with LIMIT_EXCEEDED while the server answers; after a SIGKILL, a restart with a smaller state budget opens its port and fails the waiting run at its claim', async () => {
    mkdirSync(flowsDir, { recursive: true });
    writeFileSync(join(flowsDir, 'dag.json'), JSON.stringify(DOUBLING_FLOW));
    writeFileSync(join(flowsDir, 'fat.json'), JSON.stringify(fatWaiter));
    const first = await startServer([]);

    const { run: dag } = await api<{ run: Run }>(first, '/runs', { flowId: 'm/dag', input: { k: 28 }, wait: true });
    expect(dag).toMatchObject({ status: 'FAILED', runError: { code: 'LIMIT_EXCEEDED', details: { limit: 'maxValueBytes', max: 1024 * 1024 } } });
    expect((await fetch(`${first.url}/health`)).status).toBe(200);
    // The store holds the doublings that fit, not the 2^28 of them (on main: 1 GB).
    const storeBytes = readdirSync(join(dir, 'store')).reduce((sum, file) => sum + statSync(join(dir, 'store', file)).size, 0);
    expect(storeBytes).toBeLessThan(64 * 1024 * 1024);

    const { run: fat } = await api<{ run: Run }>(first, '/runs', { flowId: 'm/fat', input: {} });
    await until(() => api<{ run: Run }>(first, `/runs/${fat.runId}`), (r) => r.run.status === 'INACTIVE');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await startServer(['--budget', 'maxStateBytes=100000', '--new-admin-token']);
    expect((await fetch(`${second.url}/health`)).status).toBe(200);
    const ended = await until(() => api<{ run: Run }>(second, `/runs/${fat.runId}`), (r) => r.run.status === 'FAILED');
    expect(ended.run).toMatchObject({ status: 'FAILED', runError: { code: 'LIMIT_EXCEEDED', details: { limit: 'maxStateBytes', max: 100_000 } } });
    second.child.kill('SIGTERM');
  }, 90_000);
});
