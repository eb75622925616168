/**
 * Many processes, one store: three workers execute 2,000 runs together while one of them is
 * killed every 0.7 s and replaced. Every run completes, and no run is ever executed by two
 * processes at once (leases with heartbeats and fencing tokens).
 *
 * A worker is killed once it has begun executing (or after 15 s without), so a loaded machine
 * whose workers take seconds to start still sees each one do some work before it dies; the test
 * fails when the runs stop progressing, not after a fixed number of kills.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { createEngine } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { recoveryFlows } from './workload.js';
import { activeRuns, spawnWorker, type WorkerProcess } from './worker-process.js';

const RUNS = 2_000;

/** Kills without progress (fewer runs left ACTIVE) after which the test gives up. */
const MAX_KILLS_WITHOUT_PROGRESS = 20;

function worker(storeSpec: string, dir: string): WorkerProcess {
  return spawnWorker(storeSpec, dir, { leaseMs: 1_500, maxConcurrent: 8 });
}

async function manyWorkers(storeSpec: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flowrun-many-'));
  const setup = openStoreSpec(storeSpec);
  const engine = createEngine({ stores: setup, poll: false, maxConcurrentRuns: 0 });
  for (const flow of recoveryFlows) await engine.deployFlow(flow, { publish: true });
  for (let i = 0; i < RUNS; i++) await engine.startRun({ flow: 'recovery/quick', input: { i }, requestId: `many-${i}` });
  await engine.close();

  const workers = [worker(storeSpec, dir), worker(storeSpec, dir), worker(storeSpec, dir)];
  let kills = 0;
  let fewestLeft = RUNS;
  let killsWithoutProgress = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 700));
    const left = await activeRuns(setup);
    if (left === 0) break;
    if (left < fewestLeft) {
      fewestLeft = left;
      killsWithoutProgress = 0;
    } else if (++killsWithoutProgress > MAX_KILLS_WITHOUT_PROGRESS) {
      throw new Error(`no progress over ${MAX_KILLS_WITHOUT_PROGRESS} kills: ${left} runs still ACTIVE after ${kills} kills`);
    }
    const victim = workers[kills % workers.length]!;
    await Promise.race([victim.working, new Promise((r) => setTimeout(r, 15_000))]);
    victim.child.kill('SIGKILL');
    await victim.exited;
    workers[kills % workers.length] = worker(storeSpec, dir);
    kills++;
  }
  await Promise.all(workers.map((w) => w.exited));

  try {
    let succeeded = 0;
    let marker: string | undefined;
    do {
      const page = await setup.listRuns({ flowId: 'recovery/quick', status: 'SUCCEEDED', limit: 1_000, ...(marker ? { marker } : {}) });
      succeeded += page.runs.length;
      marker = page.marker ?? undefined;
    } while (marker);
    expect(succeeded).toBe(RUNS);
    expect(kills).toBeGreaterThanOrEqual(3);

    const byRun = new Map<string, { pid: string; start: number; end: number }[]>();
    for (const line of readFileSync(join(dir, 'intervals.log'), 'utf8').split('\n').filter(Boolean)) {
      const [runId, pid, start, end] = line.split(' ') as [string, string, string, string];
      byRun.set(runId, [...(byRun.get(runId) ?? []), { pid, start: Number(start), end: Number(end) }]);
    }
    const overlaps: string[] = [];
    for (const [runId, spans] of byRun) {
      for (const a of spans) for (const b of spans) if (a !== b && a.pid !== b.pid && a.start < b.end && b.start < a.end) overlaps.push(runId);
    }
    expect(overlaps).toEqual([]);
    const effects = readFileSync(join(dir, 'effects.log'), 'utf8').split('\n').filter(Boolean);
    // Every run's side effect happened (a module cut off by a kill may have run twice, in two processes).
    expect(new Set(effects).size).toBe(RUNS);
  } finally {
    await setup.close();
  }
}

describe('many processes, one store', () => {
  it('executes 2,000 runs with 3 workers on one SQLite file while killing one every 0.7 s', async () => {
    await manyWorkers(`sqlite:${join(mkdtempSync(join(tmpdir(), 'flowrun-many-db-')), 'flowrun.db')}`);
  }, 400_000);

  it.skipIf(!pgUrl)(`executes 2,000 runs with 3 workers on one PostgreSQL database while killing one every 0.7 s${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_many');
    try {
      await manyWorkers(spec);
    } finally {
      await drop();
    }
  }, 400_000);
});
