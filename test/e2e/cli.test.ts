import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFlowrunCli } from '../support/run-cli.js';
import { createFilesystemStores } from '../../src/index.js';

const flowrun = runFlowrunCli;

describe('flowrun CLI (real process)', () => {
  it('runs the seed-004 order example, shows the launch and the launched run, and exits 0', async () => {
    const input = JSON.stringify({ orderId: 'o-1', customer: 'ada', lines: [{ sku: 'tea', qty: 2, price: 4.5 }] });
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-cli-'));
    const r = await flowrun(['run', 'examples/order-intake.json', '--input', input, '--store', `sqlite:${dir}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('launch process-order-flow');
    expect(r.stdout).toContain('ok validate_order');
    expect(r.stdout).toMatch(/\[process-order-flow\] FlowSucceeded/);
    expect(r.stdout).toContain('output status = "approved"');
    expect(r.stdout).toMatch(/SUCCEEDED in \d+ ms/);
    expect(r.stdout).toContain('"accepted": true');
    // The runs are in the SQLite file, durable after the process ended.
    const store = createFilesystemStores({ rootDir: dir });
    const runs = (await store.listRuns({})).runs;
    await store.close();
    expect(runs.map((run) => [run.flowId, run.status, run.source]).sort()).toEqual([
      ['order-intake', 'SUCCEEDED', 'cli'],
      ['process-order-flow', 'SUCCEEDED', 'flow'],
    ]);
  });

  it('prints only the output with --quiet', async () => {
    const r = await flowrun(['run', 'examples/countdown.json', '--input', '{"from":5}', '--quiet', '--store', 'memory']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ticks: 5 });
  });

  it('exits 1 with the error code when the run fails, and 2 on input that breaks the params', async () => {
    const failing = await flowrun(['run', 'examples/order-intake.json', '--input', '{"orderId":"o","customer":"c","lines":[]}', '--json', '--store', 'memory']);
    expect(failing.code).toBe(2);
    expect(failing.stderr).toContain('INVALID_INPUT');
    expect(failing.stderr).toContain('input.lines');
    const badJson = await flowrun(['run', 'examples/countdown.json', '--input', '{nope', '--store', 'memory']);
    expect(badJson.code).toBe(2);
    const badStore = await flowrun(['run', 'examples/countdown.json', '--store', 'mysql://x']);
    expect(badStore.code).toBe(2);
    expect(badStore.stderr).toContain('is not a store');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain('--input is not valid JSON');
  });

  it('checks flow files and lists every problem with its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-check-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ id: 'bad', actions: { main: { startAt: 'nowhere', steps: { a: { stepType: 'TELEPORT' } } } } }));
    const r = await flowrun(['check', bad, 'examples/report-generator.json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('actions.main.startAt');
    expect(r.stdout).toContain('TELEPORT');
    expect(r.stdout).toContain('ok  examples/report-generator.json');
    const good = await flowrun(['check', 'examples/order-intake.json', 'examples/process-order-flow.json', 'examples/countdown.json']);
    expect(good.code).toBe(0);
  });

  it('ends quietly, exit code 0, when whoever reads its output went away (`flowrun --help | head -1`)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/flowrun-cli.ts', '--help'], { cwd: resolve(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader closes before the CLI writes a line: its first write meets EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
