// Databases as flowrun wrote them before run states were stored as slots (SQLite schema 6,
// PostgreSQL schema 8): the older migrations only, and a run row in the older form — its whole
// state in `state` and, on SQLite, its input inside `fixed` — exactly as the older stores wrote it.
import Database from 'better-sqlite3';
import type pg from 'pg';
import type { FlowDefinition } from '../../src/core/model.js';
import type { NewRun } from '../../src/core/run.js';
import type { Store } from '../../src/core/store.js';
import { createEngine } from '../../src/create-engine.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { migrate as migratePostgres } from '../../src/store/postgres/migrations.js';

/** Creates an SQLite file at schema `version` (the migrations up to it, nothing newer). */
export function createSqliteAtVersion(path: string, version: number): void {
  const db = new Database(path);
  try {
    db.exec('CREATE TABLE flowrun_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)');
    for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version <= version)) for (const statement of migration.statements) db.exec(statement);
    db.prepare('INSERT INTO flowrun_schema (id, version) VALUES (1, ?)').run(version);
  } finally {
    db.close();
  }
}

/** Inserts an unleased run as the SQLite store wrote it up to schema 6: the state whole, the input in `fixed`. */
export function insertSqliteRunBeforeSlots(path: string, run: NewRun): void {
  const { runId, flowId, status, label, tags, startTime, parentRunId, rootRunId, readyAt, state, ...fixed } = run;
  const db = new Database(path);
  try {
    db.prepare(
      `INSERT INTO flowrun_runs (run_id, flow_id, status, label, start_time, end_time, parent_run_id, root_run_id, ready_at, lease_owner, lease_expires_at,
         fencing_token, version, last_seq, updated_at, last_transition_key, tags, output, run_error, state, fixed)
       VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, NULL, 1, 3, 0, ?, NULL, ?, 'null', NULL, ?, ?)`,
    ).run(runId, flowId, status, label, startTime, parentRunId, rootRunId, readyAt, startTime, JSON.stringify(tags), JSON.stringify(state), JSON.stringify(fixed));
  } finally {
    db.close();
  }
}

/** Brings a PostgreSQL schema to `version` (the migrations up to it) on a client whose search_path is that schema. */
export async function createPostgresAtVersion(client: pg.Client, schema: string, version: number): Promise<void> {
  await migratePostgres(client as unknown as pg.PoolClient, { schema, warn: () => undefined, targetVersion: version });
}

/** Inserts an unleased run as the PostgreSQL store wrote it up to schema 8: the state whole in `state`. */
export async function insertPostgresRunBeforeSlots(client: pg.Client, run: NewRun): Promise<void> {
  await client.query(
    `INSERT INTO runs (run_id, flow_id, flow_version, action_name, status, label, tags, input, output, run_error, created_by, run_owner, run_as, source,
       session_id, parent_run_id, root_run_id, detached, depth, monitors, managers, start_time, end_time, updated_at, timeout_ms, deadline, version,
       last_seq, ready_at, lease_owner, lease_expires_at, fencing_token, last_transition_key, triggered_by, tree_id, state)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'null', NULL, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, NULL, $20, $21, $22, 3,
       0, $23, NULL, NULL, 1, NULL, $24, $25, $26)`,
    [
      run.runId, run.flowId, run.flowVersion, run.actionName, run.status, run.label, run.tags, JSON.stringify(run.input), run.createdBy, run.runOwner, run.runAs, run.source,
      run.sessionId, run.parentRunId, run.rootRunId, run.detached, run.depth, JSON.stringify(run.monitors), JSON.stringify(run.managers), run.startTime,
      run.timeoutMs, run.deadline, run.readyAt, run.triggeredBy, run.treeId, JSON.stringify(run.state),
    ],
  );
}

/** A flow whose run computes a note (a NUL character in it) and then waits for `order.paid`. */
export const WAITS_FOR_PAYMENT: FlowDefinition = {
  id: 'waits',
  actions: {
    main: {
      startAt: 'note',
      steps: {
        note: { stepType: 'COMPUTE', expression: 'input.note', defaultNextStepInstanceId: 'wait' },
        wait: { stepType: 'WAIT', event: 'order.paid', defaultNextStepInstanceId: 'done' },
        done: { stepType: 'COMPUTE', expression: 'steps.wait.event' },
      },
    },
  },
};

/**
 * Runs {@link WAITS_FOR_PAYMENT} on `store` until it waits (today's engine), and returns the run as
 * a NewRun with that waiting state: what an older store held for it, to insert in the older form.
 */
export async function runWaitingForPayment(store: Store): Promise<{ requestId: string; asCreated: NewRun }> {
  const engine = createEngine({ stores: store, poll: false });
  try {
    await engine.deployFlow(WAITS_FOR_PAYMENT, { publish: true });
    const { requestId } = await engine.startRun({ flow: 'waits', input: { note: 'a\u0000b' } });
    await engine.whenIdle();
    const waited = await store.getRun(requestId);
    if (waited?.status !== 'INACTIVE') throw new Error(`expected run ${requestId} to wait, found ${waited?.status}`);
    const { version, lastSeq, leaseOwner, leaseExpiresAt, fencingToken, updatedAt, endTime, output, runError, dataError, ...asCreated } = waited;
    return { requestId, asCreated };
  } finally {
    await engine.close();
  }
}

/**
 * Publishes `flow` (its steps call module `count`: `{n}` → `{n: n + 1}`), dispatches the recorded
 * run `runId` on an upgraded store and waits for it to succeed; returns the `n` each call was given
 * (a completed step run again shows up here) and the run's output.
 */
export async function resumeCountingRun(store: Store, flow: FlowDefinition, runId: string): Promise<{ calls: number[]; output: unknown }> {
  const calls: number[] = [];
  const engine = createEngine({ stores: store, poll: false, modules: { count: (given) => { const n = given.n as number; calls.push(n); return { n: n + 1 }; } } });
  try {
    await engine.deployFlow(flow, { publish: true });
    engine.dispatch(runId);
    const ended = await engine.waitForRun(runId, { timeoutMs: 20_000 });
    if (ended.status !== 'SUCCEEDED') throw new Error(`run ${runId} ended ${ended.status}, expected SUCCEEDED`);
    return { calls, output: ended.output };
  } finally {
    await engine.close();
  }
}
