/**
 * The production layout with the real CLI: one `flowrun serve --no-worker` (the API) and three
 * `flowrun worker` processes on one PostgreSQL schema. 2,000 runs are started over HTTP; workers are
 * SIGKILLed at random (and now and then stopped with SIGTERM, which drains them) and replaced.
 * Every run completes, and no run is ever executed by two processes at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { startServeProcess } from '../support/serve-process.js';
import { recoveryFlows } from './workload.js';

const root = resolve(import.meta.dirname, '../..');
const RUNS = 2_000;

interface Worker {
  child: ChildProcess;
  exited: Promise<number | string>;
  output: () => string;
}

function startWorker(store: string, effects: string): Worker {
  const args = ['--import', 'tsx', 'test/support/flowrun-cli.ts', 'worker', '--store', store, '--modules', 'test/recovery/cli-worker-modules.ts', '--concurrency', '8', '--lease-ms', '1500', '--shutdown-timeout', '2000', '--log-format', 'json'];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, FLOWRUN_EFFECTS_DIR: effects }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output, exited: new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal ?? 'unknown'))) };
}

describe('serve --no-worker with flowrun worker processes', () => {
  it.skipIf(!pgUrl)(`runs 2,000 runs to completion with 1 API process and 3 workers killed at random, none lost, none executed twice at once${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_roles');
    const effects = mkdtempSync(join(tmpdir(), 'flowrun-roles-'));
    const flows = mkdtempSync(join(tmpdir(), 'flowrun-roles-flows-'));
    for (const flow of recoveryFlows) writeFileSync(join(flows, `${flow.id.replace('/', '-')}.json`), JSON.stringify(flow));
    const api = await startServeProcess({ store: spec, args: ['--no-worker', '--flows', flows, '--budget', 'maxStartsPerSecond=100000', '--no-dashboard', '--log-level', 'warn'] });
    const workers: Worker[] = [];
    try {
      // Started before any worker runs: the API process executes nothing itself.
      for (let batch = 0; batch < RUNS / 1_000; batch++) {
        const runs = Array.from({ length: 1_000 }, (_, k) => ({ flowId: 'recovery/quick', input: { i: batch * 1_000 + k } }));
        const started = await api.json('POST', '/runs/batch/start', { body: { runs, concurrency: 16 } });
        expect(started.status).toBe(200);
        expect(started.body.results.every((r: { run?: unknown }) => r.run)).toBe(true);
      }
      const active = async (): Promise<number> => (await api.json('GET', '/runs?status=ACTIVE&limit=1&markerOnly=false')).body.total as number;
      expect(await active()).toBe(RUNS);

      for (let i = 0; i < 3; i++) workers.push(startWorker(spec, effects));
      let kills = 0;
      let drains = 0;
      const deadline = Date.now() + 180_000;
      for (;;) {
        await new Promise((r) => setTimeout(r, 700));
        if ((await active()) === 0) break;
        if (Date.now() > deadline) throw new Error(`runs did not complete: ${await active()} still ACTIVE after ${kills} kills`);
        // At most 12 kills, each of a worker that is executing runs (one still loading has nothing to lose).
        const at = Math.floor(Math.random() * workers.length);
        const victim = workers[at]!;
        if (kills >= 12 || !victim.output().includes('is executing runs')) continue;
        // Mostly a crash; every fourth time a SIGTERM, which drains the worker (exit 0) within its timeout.
        const drain = kills % 4 === 3;
        victim.child.kill(drain ? 'SIGTERM' : 'SIGKILL');
        const code = await victim.exited;
        if (drain) {
          expect(code, victim.output()).toBe(0);
          drains++;
        }
        workers[at] = startWorker(spec, effects);
        kills++;
      }
      expect(kills).toBeGreaterThanOrEqual(3);
      expect(drains).toBeGreaterThanOrEqual(1);
      // A worker started as the last one was replaced may still be loading its modules, before it
      // handles signals (a SIGTERM then ends it as it ends any process): drained once it is up.
      for (const w of workers) {
        for (let waited = 0; !w.output().includes('is executing runs') && waited < 60_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
      }
      for (const w of workers) w.child.kill('SIGTERM');
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0]);

      const succeeded = (await api.json('GET', '/runs?flowId=recovery/quick&status=SUCCEEDED&limit=1')).body.total;
      expect(succeeded).toBe(RUNS);
      const byRun = new Map<string, { pid: string; start: number; end: number }[]>();
      for (const line of readFileSync(join(effects, 'intervals.log'), 'utf8').split('\n').filter(Boolean)) {
        const [runId, pid, start, end] = line.split(' ') as [string, string, string, string];
        byRun.set(runId, [...(byRun.get(runId) ?? []), { pid, start: Number(start), end: Number(end) }]);
      }
      expect(byRun.size).toBe(RUNS);
      const overlaps: string[] = [];
      for (const [runId, spans] of byRun) {
        for (const a of spans) for (const b of spans) if (a !== b && a.pid !== b.pid && a.start < b.end && b.start < a.end) overlaps.push(runId);
      }
      expect(overlaps).toEqual([]);
      // The API process executed nothing: every interval was written by a worker.
      expect([...byRun.values()].flat().some((span) => Number(span.pid) === api.pid)).toBe(false);
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      await api.stop();
      await drop();
    }
  }, 240_000);
});
