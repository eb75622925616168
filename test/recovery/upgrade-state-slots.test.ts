/**
 * A run started before run states were stored as slots (SQLite schema 6, PostgreSQL schema 8)
 * resumes after the upgrade: its whole state and its input are read as the older flowrun wrote
 * them, its next transition writes them as slots, and no completed step runs again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type FlowDefinition, type Store } from '../../src/index.js';
import type { RunState } from '../../src/core/run.js';
import { sampleRun } from '../../src/store/store.conformance.js';
import { createSqliteStore } from '../../src/store/sqlite/create-filesystem-stores.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createPostgresAtVersion, createSqliteAtVersion, insertPostgresRunBeforeSlots, insertSqliteRunBeforeSlots, resumeCountingRun } from '../support/runs-before-slots.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';

const flow: FlowDefinition = {
  id: 'upgrade/flow',
  actions: {
    main: {
      params: { x: { type: 'number', required: true } },
      startAt: 's0',
      steps: {
        s0: { stepType: 'MODULE', moduleIdentifier: 'count', inputMappings: { n: '$.input.x' }, defaultNextStepInstanceId: 's1' },
        s1: { stepType: 'MODULE', moduleIdentifier: 'count', inputMappings: { n: '$.steps.s0.n' }, defaultNextStepInstanceId: 's2' },
        s2: { stepType: 'COMPUTE', expression: '{total: steps.s1.n + input.x, first: steps.s0.n, item: item.x}' },
      },
    },
  },
};

/** The run as the older flowrun left it: s0 completed (its module saw 5 and returned 6), s1 next. */
function runBeforeUpgrade(): ReturnType<typeof sampleRun> {
  const state: RunState = {
    frames: [{ graph: 'action:main', at: 's1', steps: { s0: { n: 6 } }, last: { n: 6 }, depth: 0, attempt: 1, item: { x: 5 } }],
    vars: {},
    outputs: {},
    stepSeq: 1,
    stepCount: 1,
    stepLogs: true,
    historyCount: 1,
  };
  const now = Date.now();
  return sampleRun({ runId: 'before-slots', flowId: flow.id, input: { x: 5 }, state, startTime: now, readyAt: now });
}

/** Resumes the run on an upgraded store; returns what the modules were called with and the output. */
function resume(store: Store): Promise<{ calls: number[]; output: unknown }> {
  return resumeCountingRun(store, flow, 'before-slots');
}

describe('upgrading to state slots', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowrun-upgrade-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('resumes a run an SQLite store of schema 6 recorded, without re-running its completed step', async () => {
    const path = join(dir, 'old.db');
    createSqliteAtVersion(path, 6);
    insertSqliteRunBeforeSlots(path, runBeforeUpgrade());
    const store = createSqliteStore({ path });
    try {
      const before = await store.getRun('before-slots');
      expect(before?.input).toEqual({ x: 5 });
      expect(before?.state.frames[0]?.steps).toEqual({ s0: { n: 6 } });
      expect(await resume(store)).toEqual({ calls: [6], output: { total: 12, first: 6, item: 5 } });
      expect((await store.getRun('before-slots'))?.input).toEqual({ x: 5 });
    } finally {
      await store.close();
    }
  });

  it.skipIf(!pgUrl)(`resumes a run a PostgreSQL store of schema 8 recorded, without re-running its completed step${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('upgrade');
    const schema = new URL(spec).searchParams.get('schema')!;
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      await createPostgresAtVersion(client, schema, 8);
      await client.query(`SET search_path TO "${schema}"`);
      await insertPostgresRunBeforeSlots(client, runBeforeUpgrade());
    } finally {
      await client.end();
    }
    const store = new PostgresStore({ connectionString: pgUrl!, schema });
    try {
      expect((await store.getRun('before-slots'))?.state.frames[0]?.steps).toEqual({ s0: { n: 6 } });
      expect(await resume(store)).toEqual({ calls: [6], output: { total: 12, first: 6, item: 5 } });
    } finally {
      await store.close();
      await drop();
    }
  });
});
