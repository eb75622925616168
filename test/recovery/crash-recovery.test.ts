/**
 * Crash recovery with real processes: a worker executes a mixed workload over a durable store
 * and is killed with SIGKILL at random moments, again and again; a last worker finishes. Nothing
 * may be lost, no completed step may run again, and the outputs must equal an uninterrupted run's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { createEngine, createMemoryStores, type Store } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { LOOPS, recoveryFlows, recoveryModules } from './workload.js';

const root = resolve(import.meta.dirname, '../..');
const RUNS = 24;

function startWorker(storeSpec: string, dir: string): { child: ChildProcess; ready: Promise<void>; done: Promise<boolean> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/recovery/worker.ts'], {
    cwd: root,
    env: { ...process.env, FLOWRUN_STORE: storeSpec, FLOWRUN_EFFECTS_DIR: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let resolveReadyOnExit: () => void = () => undefined;
  // Ready once it executes runs (or has exited: nothing left to do), so each kill interrupts work.
  const ready = new Promise<void>((resolveReady) => {
    resolveReadyOnExit = resolveReady;
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('working')) resolveReady();
    });
  });
  const done = new Promise<boolean>((resolveDone) =>
    child.on('exit', (code) => {
      resolveReadyOnExit();
      if (code !== 0 && code !== null && err) process.stderr.write(`worker exited ${code}: ${err}\n`);
      resolveDone(out.includes('DONE'));
    }),
  );
  return { child, ready, done };
}

async function seedRuns(store: Store): Promise<void> {
  // An engine that may run nothing: it only records the runs, for the workers to claim.
  const engine = createEngine({ stores: store, poll: false, maxConcurrentRuns: 0 });
  for (const flow of recoveryFlows) await engine.deployFlow(flow, { publish: true });
  for (let i = 0; i < RUNS; i++) await engine.startRun({ flow: 'recovery/main', input: { i }, requestId: `rec-${i}` });
  await engine.close();
}

async function uninterruptedOutputs(): Promise<Map<string, unknown>> {
  const engine = createEngine({ stores: createMemoryStores(), poll: false, modules: recoveryModules(mkdtempSync(join(tmpdir(), 'flowrun-ref-'))) });
  for (const flow of recoveryFlows) await engine.deployFlow(flow, { publish: true });
  const results = await Promise.all(Array.from({ length: RUNS }, (_, i) => engine.runAction({ flow: 'recovery/main', input: { i }, requestId: `rec-${i}` })));
  await engine.whenIdle();
  return new Map(results.map((r) => [r.requestId, r.output]));
}

async function crashAndRecover(storeSpec: string, kills: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flowrun-effects-'));
  const setup = openStoreSpec(storeSpec);
  await seedRuns(setup);
  await setup.close();

  let killedMidWork = 0;
  for (let k = 0; k < kills; k++) {
    const worker = startWorker(storeSpec, dir);
    await worker.ready;
    await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 180)));
    if (worker.child.exitCode === null) {
      worker.child.kill('SIGKILL');
      killedMidWork++;
    }
    await worker.done;
  }
  const last = startWorker(storeSpec, dir);
  expect(await last.done).toBe(true);

  const store = openStoreSpec(storeSpec);
  try {
    const expected = await uninterruptedOutputs();
    const all = await store.listRuns({ limit: 1000 });
    expect(all.runs.filter((r) => r.status !== 'SUCCEEDED').map((r) => `${r.runId} ${r.status} ${JSON.stringify(r.runError)}`)).toEqual([]);
    // Every main run, its child and its launch: 3 runs per input.
    expect(all.runs).toHaveLength(RUNS * 3);
    for (const [runId, output] of expected) expect((await store.getRun(runId))?.output, runId).toEqual(output);
    const launched = all.runs.filter((r) => r.flowId === 'recovery/launched').map((r) => (r.output as { launched: number }).launched);
    expect(launched.sort((a, b) => a - b)).toEqual(Array.from({ length: RUNS }, (_, i) => i));

    const effects = readFileSync(join(dir, 'effects.log'), 'utf8').split('\n').filter(Boolean);
    const invocations = existsSync(join(dir, 'invocations.log')) ? readFileSync(join(dir, 'invocations.log'), 'utf8').split('\n').filter(Boolean) : [];
    // Each side effect happened once: one line per idempotency key.
    expect(new Set(effects).size).toBe(effects.length);
    expect(effects.length).toBe(RUNS * (1 + 1 + 1 + LOOPS + 1 + 2)); // m1, inner, child c1, the loop's sleeps, launched l1, flaky twice
    // A module interrupted mid-flight runs again with the same key, in the next process. It runs
    // twice in one process only after that process lost the run's lease (a stall past the lease
    // time under load); anything else would be a completed step running again.
    const pidsByKey = new Map<string, string[]>();
    for (const line of invocations) {
      const [key, pid] = line.split(' ') as [string, string];
      pidsByKey.set(key, [...(pidsByKey.get(key) ?? []), pid]);
    }
    const leasesLost = new Set(existsSync(join(dir, 'leases.log')) ? readFileSync(join(dir, 'leases.log'), 'utf8').split('\n').filter(Boolean) : []);
    const sameProcessRepeats = [...pidsByKey.entries()].filter(([key, pids]) => {
      const runId = key.split(':')[0]!;
      return pids.some((pid, i) => pids.indexOf(pid) !== i && !leasesLost.has(`${pid} ${runId}`));
    });
    expect(sameProcessRepeats).toEqual([]);
    expect([...pidsByKey.keys()].sort()).toEqual([...new Set(effects)].sort());
    const rerun = [...pidsByKey.values()].filter((pids) => pids.length > 1).length;
    expect(rerun).toBeLessThanOrEqual(kills * 2); // at most the two in-flight modules of each killed worker
    // Every kill hit a worker with work left: the workload outlasted all of them.
    expect(killedMidWork, 'the workload finished before all kills; make it longer').toBe(kills);
  } finally {
    await store.close();
  }
}

describe('crash recovery (SIGKILL, real processes)', () => {
  it('loses no run and repeats no completed step over 50 kills on SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-crash-'));
    await crashAndRecover(`sqlite:${join(dir, 'flowrun.db')}`, 50);
  }, 300_000);

  it.skipIf(!pgUrl)(`loses no run and repeats no completed step over 20 kills on PostgreSQL${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_crash');
    try {
      await crashAndRecover(spec, 20);
    } finally {
      await drop();
    }
  }, 300_000);
});
