/**
 * Log entries a module writes during a step survive a crash of its process (SIGKILL) once
 * flushed (~10 ms after they are written): the next process runs the step again, its entries
 * follow, and the run's events stay one gapless sequence.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { createEngine, type Store } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';

const root = resolve(import.meta.dirname, '../..');

function startWorker(storeSpec: string, hang: boolean): { pid: number; output: Promise<string>; kill: () => void; says: (text: string) => Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/recovery/log-worker.ts'], {
    cwd: root,
    env: { ...process.env, FLOWRUN_STORE: storeSpec, FLOWRUN_HANG: hang ? '1' : '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const waiting: { text: string; resolve: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiting) if (out.includes(w.text)) w.resolve();
  });
  return {
    pid: child.pid!,
    output: new Promise((r) => child.on('exit', () => r(out))),
    kill: () => child.kill('SIGKILL'),
    says: (text) => new Promise((r) => (out.includes(text) ? r() : waiting.push({ text, resolve: r }))),
  };
}

async function tickEntries(store: Store, runId: string): Promise<{ pid: number; i: number }[]> {
  const { entries } = await store.getRunLogs(runId, { limit: 1000 });
  return entries.filter((e) => e.code === 'Tick').map((e) => e.details as { pid: number; i: number });
}

async function crashMidStep(storeSpec: string): Promise<void> {
  const store = openStoreSpec(storeSpec);
  try {
    // An engine that runs nothing: it records the run for the workers to claim.
    const seeder = createEngine({ stores: store, poll: false, maxConcurrentRuns: 0 });
    const { requestId } = await seeder.startRun({ flow: { id: 'ops/ticker', actions: { main: { startAt: 'tick', steps: { tick: { stepType: 'MODULE', moduleIdentifier: 'tick' } } } } } });
    await seeder.close();

    const first = startWorker(storeSpec, true);
    await first.says('logged');
    // The module is still in its step: its entries are written (flushed) while it runs.
    for (let i = 0; i < 500 && (await tickEntries(store, requestId)).length < 5; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await tickEntries(store, requestId)).toEqual([1, 2, 3, 4, 5].map((i) => ({ pid: first.pid, i })));
    expect((await store.getRun(requestId))!.status).toBe('ACTIVE');
    first.kill();
    await first.output;

    const second = startWorker(storeSpec, false);
    expect(await second.output).toContain('DONE');
    const run = (await store.getRun(requestId))!;
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ pid: second.pid });
    // What the killed process flushed is kept; the step ran again and logged again.
    expect(await tickEntries(store, requestId)).toEqual([...[1, 2, 3, 4, 5].map((i) => ({ pid: first.pid, i })), ...[1, 2, 3, 4, 5].map((i) => ({ pid: second.pid, i }))]);
    const events = await store.getRunEvents(requestId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const codes = events.flatMap((e) => (e.kind === 'log' ? [e.entry.code] : []));
    expect(codes.filter((c) => c === 'StepSucceeded')).toHaveLength(1);
  } finally {
    await store.close();
  }
}

describe('a crash in the middle of a step that logs', () => {
  it('keeps the flushed log entries and runs the step again, over a SQLite file', async () => {
    await crashMidStep(`sqlite:${join(mkdtempSync(join(tmpdir(), 'flowrun-log-crash-')), 'flowrun.db')}`);
  }, 120_000);

  it.skipIf(!pgUrl)(`keeps the flushed log entries and runs the step again, over PostgreSQL${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_log_crash');
    try {
      await crashMidStep(spec);
    } finally {
      await drop();
    }
  }, 120_000);
});
