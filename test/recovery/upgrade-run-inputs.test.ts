/**
 * Runs recorded before inputs had their own table (SQLite schema 11: the input in the run row)
 * after the upgrade to schema 12: a live run resumes with its input and without re-running a
 * completed step, an ended run still answers its input in reads and listings, and retention
 * deletes an ended run's input with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type FlowDefinition, type Store } from '../../src/index.js';
import type { NewRun, RunState } from '../../src/core/run.js';
import { sampleRun } from '../../src/store/store.conformance.js';
import { createSqliteStore } from '../../src/store/sqlite/create-filesystem-stores.js';
import { createSqliteAtVersion, resumeCountingRun } from '../support/runs-before-slots.js';

const flow: FlowDefinition = {
  id: 'upgrade/inputs',
  actions: {
    main: {
      params: { x: { type: 'number', required: true }, doc: { type: 'map' } },
      startAt: 's0',
      steps: {
        s0: { stepType: 'MODULE', moduleIdentifier: 'count', inputMappings: { n: '$.input.x' }, defaultNextStepInstanceId: 's1' },
        s1: { stepType: 'MODULE', moduleIdentifier: 'count', inputMappings: { n: '$.steps.s0.n' }, defaultNextStepInstanceId: 's2' },
        s2: { stepType: 'COMPUTE', expression: '{total: steps.s1.n + input.x, title: input.doc.title}' },
      },
    },
  },
};

const input = { x: 5, doc: { title: 'kept', body: 'y'.repeat(20_000) } };

/** The live run as schema 11 left it: s0 completed (its module saw 5 and returned 6), s1 next. */
function liveRun(): NewRun {
  const state: RunState = {
    frames: [{ graph: 'action:main', at: 's1', steps: { s0: { n: 6 } }, last: { n: 6 }, depth: 0, attempt: 1, item: input }],
    vars: {},
    outputs: {},
    stepSeq: 1,
    stepCount: 1,
    stepLogs: true,
    historyCount: 1,
  };
  const now = Date.now();
  return sampleRun({ runId: 'live-before-12', flowId: flow.id, input, state, startTime: now, readyAt: now });
}

/** Inserts a run as the SQLite store wrote it at schemas 7–11: the input in `flowrun_runs.input`, the state whole (as migration 7 left live runs). */
function insertRunAtSchema11(path: string, run: NewRun, ended: { endTime: number } | null): void {
  const { runId, flowId, status, label, tags, startTime, parentRunId, rootRunId, readyAt, state, input: runInput, ...fixed } = run;
  const db = new Database(path);
  try {
    db.prepare(
      `INSERT INTO flowrun_runs (run_id, flow_id, status, label, start_time, end_time, parent_run_id, root_run_id, ready_at, lease_owner, lease_expires_at,
         fencing_token, version, last_seq, updated_at, last_transition_key, tags, output, run_error, state, state_slots, input, fixed)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 1, 3, 0, ?, NULL, ?, 'null', NULL, ?, 0, ?, ?)`,
    ).run(runId, flowId, ended ? 'SUCCEEDED' : status, label, startTime, ended?.endTime ?? null, parentRunId, rootRunId, ended ? null : readyAt, startTime, JSON.stringify(tags), JSON.stringify(state), JSON.stringify(runInput), JSON.stringify(fixed));
  } finally {
    db.close();
  }
}

/** Resumes the run on an upgraded store; returns what the modules were called with and the output. */
function resume(store: Store): Promise<{ calls: number[]; output: unknown }> {
  return resumeCountingRun(store, flow, 'live-before-12');
}

describe('upgrading to run inputs in their own table (SQLite schema 12)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowrun-upgrade-inputs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resumes a live run with its input, answers an ended one with its input, and retention deletes that input', async () => {
    const path = join(dir, 'at-11.db');
    createSqliteAtVersion(path, 11);
    insertRunAtSchema11(path, liveRun(), null);
    insertRunAtSchema11(path, sampleRun({ runId: 'ended-before-12', flowId: flow.id, input: { x: 1, doc: { title: 'old' } }, startTime: 1_000, readyAt: 1_000 }), { endTime: 2_000 });
    const store = createSqliteStore({ path });
    try {
      expect((await store.getRun('live-before-12'))?.input).toEqual(input);
      expect(await resume(store)).toEqual({ calls: [6], output: { total: 12, title: 'kept' } });
      expect((await store.getRun('live-before-12'))?.input).toEqual(input);
      expect((await store.getRun('ended-before-12'))?.input).toEqual({ x: 1, doc: { title: 'old' } });
      const listed = await store.listRuns({ flowId: flow.id });
      expect(Object.fromEntries(listed.runs.map((run) => [run.runId, run.input]))).toEqual({ 'live-before-12': input, 'ended-before-12': { x: 1, doc: { title: 'old' } } });

      expect(await store.deleteEndedRuns({ endedBefore: 3_000, limit: 10 })).toBe(1);
    } finally {
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      // The inputs left are the live run's, in their own table; no run row holds one any more.
      expect(db.prepare('SELECT run_id FROM flowrun_run_inputs ORDER BY run_id').all()).toEqual([{ run_id: 'live-before-12' }]);
      expect(db.prepare('SELECT count(*) AS n FROM flowrun_runs WHERE input IS NOT NULL').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});
