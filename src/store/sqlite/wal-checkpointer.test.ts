/**
 * A busy SQLite store checkpoints its WAL from a worker thread (issue 13): the checkpoints happen,
 * the store still closes (the worker never keeps it or the process open), and everything written
 * is there when the file is opened again.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleRun } from '../store.conformance.js';
import { SqliteStore } from './sqlite-store.js';

describe('SQLite checkpoints off the event loop', () => {
  it('checkpoints a busy store from its worker, closes, and keeps every run written', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'flowrun-ckpt-')), 'busy.db');
    const store = new SqliteStore({ path });
    const padding = 'x'.repeat(2000);
    const runIds: string[] = [];
    // Batches of 64 runs with ~2 KB of input each, until the worker has checkpointed twice
    // (the worker starts once the WAL reached 1 MiB); bounded so old code fails instead of looping.
    for (let batch = 0; batch < 400 && store.stats.workerCheckpoints < 2; batch++) {
      const runs = Array.from({ length: 64 }, () => sampleRun({ input: { padding } }));
      await Promise.all(runs.map((run) => store.createRun({ run })));
      runIds.push(...runs.map((run) => run.runId));
    }
    expect(store.stats.workerCheckpoints).toBeGreaterThanOrEqual(2);
    await store.close();

    const reopened = new SqliteStore({ path });
    try {
      const missing: string[] = [];
      for (const runId of runIds) if (!(await reopened.getRun(runId))) missing.push(runId);
      expect(missing).toEqual([]);
    } finally {
      await reopened.close();
    }
  }, 60_000);
});
