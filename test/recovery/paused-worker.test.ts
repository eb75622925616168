/**
 * A worker paused past its lease — SIGSTOP, which is how a starved CPU, a long GC or a VM pause
 * looks from outside — while another worker takes its runs over and ends them. Once resumed, the
 * paused worker calls no module of those runs, though it wakes up to the answers of claims and
 * commits it made before the pause.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { createEngine } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { recoveryFlows } from './workload.js';
import { activeRuns, spawnWorker } from './worker-process.js';

const RUNS = 300;
const LEASE_MS = 1_500;
/** Rounds of pause and resume: each pauses the worker at a new moment of its work. */
const ROUNDS = 3;

/** Module calls (calls.log): `runId stepId pid time`. */
function calls(dir: string): { runId: string; stepId: string; pid: number; at: number }[] {
  return readFileSync(join(dir, 'calls.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [runId, stepId, pid, at] = line.split(' ') as [string, string, string, string];
      return { runId, stepId, pid: Number(pid), at: Number(at) };
    });
}

async function until(condition: () => Promise<boolean> | boolean, what: string, giveUpMs = 120_000): Promise<void> {
  const giveUpAt = Date.now() + giveUpMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function pausedWorker(storeSpec: string): Promise<void> {
  const setup = openStoreSpec(storeSpec);
  try {
    const engine = createEngine({ stores: setup, poll: false, maxConcurrentRuns: 0 });
    for (const flow of recoveryFlows) await engine.deployFlow(flow, { publish: true });
    await engine.close();
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'flowrun-paused-'));
      const starter = createEngine({ stores: setup, poll: false, maxConcurrentRuns: 0 });
      for (let i = 0; i < RUNS; i++) await starter.startRun({ flow: 'recovery/pair', input: { i }, requestId: `paused-${round}-${i}` });
      await starter.close();
      const paused = spawnWorker(storeSpec, dir, { leaseMs: LEASE_MS, maxConcurrent: 8 });
      await paused.working;
      // Paused in the middle of its work, a little later each round.
      await until(() => calls(dir).length >= 30 * (round + 1), 'the first worker called modules');
      paused.child.kill('SIGSTOP');
      const taker = spawnWorker(storeSpec, dir, { leaseMs: LEASE_MS, maxConcurrent: 8 });
      // The other worker takes the paused one's runs over once their leases ran out, and ends every
      // run; on SQLite, a worker paused inside a write holds the file's lock, and then nobody goes on
      // until it is resumed (given up after a while).
      await until(async () => (await activeRuns(setup)) === 0, 'every run ended', 10 * LEASE_MS).catch(() => undefined);
      const resumedAt = Date.now();
      paused.child.kill('SIGCONT');
      await Promise.all([paused.exited, taker.exited]);
      // After it was resumed, the paused worker called no module of a run the other worker had called a module of.
      const all = calls(dir);
      const takenOver = all.filter((c) => c.pid === paused.child.pid && c.at >= resumedAt && all.some((o) => o.runId === c.runId && o.pid === taker.child.pid && o.at <= c.at));
      expect(takenOver).toEqual([]);
      const ended = await setup.listRuns({ flowId: 'recovery/pair', status: 'SUCCEEDED', limit: 1_000 });
      expect(ended.runs.length).toBe(RUNS * (round + 1));
    }
  } finally {
    await setup.close();
  }
}

describe('a worker paused past its lease', () => {
  it('calls no module of the runs another worker took over, once resumed (SQLite)', async () => {
    await pausedWorker(`sqlite:${join(mkdtempSync(join(tmpdir(), 'flowrun-paused-db-')), 'flowrun.db')}`);
  }, 400_000);

  it.skipIf(!pgUrl)(`calls no module of the runs another worker took over, once resumed (PostgreSQL)${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_paused');
    try {
      await pausedWorker(spec);
    } finally {
      await drop();
    }
  }, 400_000);
});
