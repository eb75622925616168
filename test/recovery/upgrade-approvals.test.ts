/**
 * Runs held for an approval before the approvals listing existed (SQLite schema 12, PostgreSQL
 * schema 16) are listed after the upgrade (SQLite 13, PostgreSQL 17) — with their state stored
 * whole in the run row or as slots — and approving one resumes it to the end. The store is left
 * as the older flowrun would have: the runs waiting, the waiting-event column empty for them, the
 * flow versions without their `source` column, the schema version before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, type FlowDefinition, type Store } from '../../src/index.js';
import { createSqliteStore } from '../../src/store/sqlite/create-filesystem-stores.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';

/** `note` copies the input into the state: a long one makes the state too large to keep whole in the row (slots). */
const charge: FlowDefinition = {
  id: 'upgrade/charge',
  actions: {
    main: {
      startAt: 'note',
      steps: {
        note: { stepType: 'COMPUTE', expression: 'input.note', defaultNextStepInstanceId: 'charge' },
        charge: { stepType: 'MODULE', moduleIdentifier: 'card/charge', defaultNextStepInstanceId: 'done' },
        done: { stepType: 'COMPUTE', expression: '{charged: steps.charge.ok, note: steps.note}' },
      },
    },
  },
};

const modules = { 'card/charge': () => ({ ok: true }) };
const governance = (request: { stepId: string }) => (request.stepId === 'charge' ? { decision: 'approve' as const, reason: 'check the card' } : ('allow' as const));

/** Two runs held for approval by today's engine: one with a small state (whole in the row), one with a large state (slots). */
async function holdTwo(store: Store): Promise<{ small: string; large: string }> {
  const engine = createEngine({ stores: store, poll: false, runtimeConfig: { modules, governance } });
  try {
    await engine.deployFlow(charge, { publish: true });
    const small = (await engine.startRun({ flow: charge.id, input: { note: 'small' } })).requestId;
    const large = (await engine.startRun({ flow: charge.id, input: { note: 'x'.repeat(20_000) } })).requestId;
    await engine.whenIdle();
    return { small, large };
  } finally {
    await engine.close();
  }
}

/** Lists the approvals after the upgrade, approves both, and answers what the runs ended with. */
async function approveListed(store: Store, runIds: { small: string; large: string }): Promise<unknown[]> {
  const engine = createEngine({ stores: store, poll: false, runtimeConfig: { modules, governance } });
  try {
    const listed = await engine.listApprovals();
    expect(listed.approvals.map((a) => [a.run.runId, a.stepId, a.reason]).sort()).toEqual([[runIds.small, 'charge', 'check the card'], [runIds.large, 'charge', 'check the card']].sort());
    for (const runId of [runIds.small, runIds.large]) await engine.approve(runId, 'charge');
    const ended = await Promise.all([runIds.small, runIds.large].map((runId) => engine.waitForRun(runId, { timeoutMs: 10_000 })));
    expect((await engine.listApprovals()).approvals).toEqual([]);
    return ended.map((run) => [run.status, (run.output as { charged: boolean }).charged, String((run.output as { note: string }).note).length]);
  } finally {
    await engine.close();
  }
}

describe('upgrading to the approvals listing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowrun-upgrade-approvals-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists and resumes the runs an SQLite store of schema 12 held for approval, their state whole or in slots', async () => {
    const path = join(dir, 'at-12.db');
    const held = await holdTwo(createSqliteStore({ path }));
    const raw = new Database(path);
    try {
      expect(raw.prepare('SELECT run_id, state_slots FROM flowrun_runs ORDER BY state_slots').all()).toEqual([{ run_id: held.small, state_slots: 0 }, { run_id: held.large, state_slots: 1 }]);
      raw.exec(`UPDATE flowrun_runs SET waiting_event = NULL; ALTER TABLE flowrun_flows DROP COLUMN source; UPDATE flowrun_schema SET version = 12`);
    } finally {
      raw.close();
    }
    const store = createSqliteStore({ path });
    try {
      expect(await approveListed(store, held)).toEqual([['SUCCEEDED', true, 5], ['SUCCEEDED', true, 20_000]]);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!pgUrl)(`lists and resumes the runs a PostgreSQL store of schema 16 held for approval, their state whole or in slots${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('upgrade_approvals');
    const schema = new URL(spec).searchParams.get('schema')!;
    try {
      const held = await holdTwo(new PostgresStore({ connectionString: pgUrl!, schema }));
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await client.query(`SET search_path TO "${schema}"`);
        expect((await client.query('SELECT run_id, state_slots FROM runs ORDER BY state_slots')).rows).toEqual([{ run_id: held.small, state_slots: false }, { run_id: held.large, state_slots: true }]);
        await client.query('UPDATE runs SET waiting_event = NULL');
        await client.query('ALTER TABLE flow_versions DROP COLUMN source');
        await client.query('ALTER TABLE runs DROP COLUMN trace_context'); // schema 19
        await client.query('DELETE FROM flowrun_schema WHERE version > 16');
      } finally {
        await client.end();
      }
      const store = new PostgresStore({ connectionString: pgUrl!, schema });
      try {
        expect(await approveListed(store, held)).toEqual([['SUCCEEDED', true, 5], ['SUCCEEDED', true, 20_000]]);
      } finally {
        await store.close();
      }
    } finally {
      await drop();
    }
  });
});
