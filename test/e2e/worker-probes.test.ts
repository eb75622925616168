/**
 * `flowrun worker --metrics-port`: a worker serves no API, but Prometheus scrapes it and an
 * orchestrator probes it — `/metrics` counts the runs it executed, `/health` and `/ready` answer —
 * and SIGTERM stops it cleanly (exit 0).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, createSqliteStore } from '../../src/index.js';

const root = resolve(import.meta.dirname, '../..');

describe('flowrun worker --metrics-port', () => {
  it('serves /metrics with the runs it executed, /health and /ready, and exits 0 on SIGTERM', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'flowrun-worker-probes-')), 'flowrun.db');
    const stores = createSqliteStore({ path });
    const api = createEngine({ stores, maxConcurrentRuns: 0, poll: false });
    const flow = { id: 'probe/echo', actions: { main: { startAt: 'a', steps: { a: { stepType: 'COMPUTE' as const, expression: '{ok: true}' } } } } };
    await api.deployFlow(flow, { publish: true });
    const ids = await Promise.all([1, 2, 3].map(async () => (await api.startRun({ flow: 'probe/echo' })).requestId));
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/flowrun-cli.ts', 'worker', '--store', `sqlite:${path}`, '--metrics-port', '0', '--log-format', 'json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
    try {
      for (const id of ids) expect((await api.waitForRun(id, { timeoutMs: 30_000 })).status).toBe('SUCCEEDED');
      const url = /metrics and probes: (http:\/\/\S+)\/metrics/.exec(output)?.[1];
      expect(url, output).toBeDefined();
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      expect((await fetch(`${url}/runs`)).status).toBe(404);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^flowrun_runs_ended_total\{flow="probe\/echo",status="SUCCEEDED"\} 3$/m);
      expect(metrics).toMatch(/^flowrun_leases_held 0$/m);
      expect(output).not.toContain('WARNING');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await api.close();
      await stores.close();
    }
  }, 60_000);

  it('warns that /metrics answers without a token when bound beyond loopback', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'flowrun-worker-probes-')), 'flowrun.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/flowrun-cli.ts', 'worker', '--store', `sqlite:${path}`, '--metrics-port', '0', '--metrics-host', '0.0.0.0', '--log-format', 'json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let errors = '';
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? 'unknown')));
    try {
      await new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          if (errors.includes('WARNING')) resolve(clearInterval(check));
        }, 50);
        void exited.then((code) => {
          clearInterval(check);
          reject(new Error(`worker exited ${code}: ${errors}`));
        });
      });
      expect(errors).toContain('/metrics on 0.0.0.0 answers without a token');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
