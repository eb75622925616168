/**
 * What only the PostgreSQL store has: migrations shared by concurrent processes, refusing a
 * newer schema, connection failures, group commit, NOTIFY, and several stores (standing for
 * several processes) claiming from one database. The shared behaviour is in store.conformance.ts.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPostgresAtVersion, insertPostgresRunBeforeSlots, runWaitingForPayment, WAITS_FOR_PAYMENT } from '../../../test/support/runs-before-slots.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FlowError } from '../../core/errors.js';
import { createEngine } from '../../create-engine.js';
import type { RunEventBody, RunState, RunStatus } from '../../core/run.js';
import { INLINE_STATE_MAX_BYTES, stateHeader, varKey, wholeStateChanges } from '../../core/state-slots.js';
import type { Transition } from '../../core/store.js';
import { sampleRun } from '../store.conformance.js';
import { createPostgresStores } from './create-postgres-stores.js';
import { MIGRATION_VERSIONS, SCHEMA_VERSION } from './migrations.js';
import type { RunNotification } from './notification-listener.js';
import type { PostgresStore } from './postgres-store.js';

const url = process.env.FLOWRUN_TEST_PG_URL;
const T0 = Date.UTC(2026, 0, 1);
const log = (code: string): RunEventBody => ({ kind: 'log', entry: { time: T0, code, description: code } });

const schemas: string[] = [];
const open: PostgresStore[] = [];

function freshSchema(): string {
  const schema = `flowrun_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

function storeOn(schema: string, connectionString = url!): PostgresStore {
  const store = createPostgresStores({ connectionString, schema, poolSize: 4 });
  open.push(store);
  return store;
}

async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** Polls a database condition (not a timing assumption): resolves with the first truthy value. */
async function eventually<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The pid of a session of `schema`'s store that is blocked on a lock. Asked on a connection of
 * its own: inside a transaction PostgreSQL 15 keeps showing the pg_stat_activity it saw first.
 */
function blockedBackend(schema: string, except?: number): Promise<number> {
  return withAdmin((monitor) =>
    eventually(async () => {
      const found = await monitor.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' AND pid <> $2`, [
        `flowrun:${schema}`,
        except ?? 0,
      ]);
      return found.rows[0]?.pid;
    }, 'a blocked store session'),
  );
}

async function leasedRun(store: PostgresStore, runId: string, state?: RunState): Promise<{ runId: string; token: number; version: number }> {
  const created = await store.createRun({ run: sampleRun({ runId, ...(state ? { state } : {}) }), events: [log('FlowStarted')], lease: { owner: 'w1', expiresAt: T0 + 60_000 } });
  return { runId, token: created.lease!.fencingToken, version: created.run.version };
}

function step(run: { runId: string; token: number; version: number }, extra: Partial<Transition> = {}): Transition {
  return { runId: run.runId, lease: { owner: 'w1', fencingToken: run.token }, expectedVersion: run.version, at: T0 + 10, patch: {}, events: [log('Step')], ...extra };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
});

afterAll(async () => {
  if (!url || schemas.length === 0) return;
  await withAdmin(async (admin) => {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
});

describe('createPostgresStores options', () => {
  it('returns a store at once and refuses bad options by name, without connecting', () => {
    const store = createPostgresStores({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
    expect(store).toMatchObject({ name: 'postgres', schema: 'public', capabilities: { isShared: true, isDurable: true, hasNotifications: true } });
    expect(() => createPostgresStores({ connectionString: 'postgres://x@h/db', schema: 'bad"; DROP' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('schema') }));
    expect(() => createPostgresStores({ connectionString: 'postgres://x@h/db', poolSize: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('poolSize') }));
    expect(() => createPostgresStores({ connectionString: '' })).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});

describe.skipIf(!url)(`postgres store specifics${url ? '' : ' (skipped: FLOWRUN_TEST_PG_URL is not set; CI sets it)'}`, () => {
  describe('migrations', () => {
    it('migrates a schema exactly once when three processes start on it at once', async () => {
      const schema = freshSchema();
      const stores = [storeOn(schema), storeOn(schema), storeOn(schema)];
      await Promise.all(stores.map((store) => store.listFlows()));
      await stores[0]!.saveFlowVersion({ definition: { id: 'a', actions: { main: { startAt: 's', steps: { s: { stepType: 'SUCCEED' } } } } }, deployedBy: 'u', at: T0 });
      expect((await stores[2]!.getFlowVersion('a', 'LATEST'))?.version).toBe(1);
      const versions = await withAdmin((admin) => admin.query<{ version: number }>(`SELECT version FROM "${schema}".flowrun_schema ORDER BY version`));
      expect(versions.rows.map((row) => row.version)).toEqual(MIGRATION_VERSIONS);
    });

    it('refuses a database whose schema is newer than this flowrun and writes nothing to it', async () => {
      const schema = freshSchema();
      await withAdmin(async (admin) => {
        await admin.query(`CREATE SCHEMA "${schema}"`);
        await admin.query(`CREATE TABLE "${schema}".flowrun_schema (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        await admin.query(`INSERT INTO "${schema}".flowrun_schema (version, description) VALUES (99, 'from the future')`);
      });
      const store = storeOn(schema);
      await expect(store.getRun('r')).rejects.toMatchObject({
        code: 'STORE_ERROR',
        message: `database schema version 99 is newer than this flowrun (${SCHEMA_VERSION}); upgrade flowrun`,
      });
      const after = await withAdmin((admin) =>
        admin.query<{ tables: string[] }>(`SELECT array_agg(table_name::text ORDER BY table_name) AS tables FROM information_schema.tables WHERE table_schema = $1`, [schema]),
      );
      expect(after.rows[0]?.tables).toEqual(['flowrun_schema']);
    });
  });

  describe('upgrade to schema 10', () => {
    it('resumes by an event a run that waited for it before the upgrade, its state holding a NUL character', async () => {
      const schema = freshSchema();
      // The run waits as today's engine leaves it (a NUL character in its state: PostgreSQL's json
      // operators refuse it); the schema it is copied into is schema 8 with the row in that form.
      const { requestId, asCreated } = await runWaitingForPayment(storeOn(freshSchema()));
      await withAdmin(async (admin) => {
        await createPostgresAtVersion(admin, schema, 8);
        await admin.query(`SET search_path TO "${schema}"`);
        await insertPostgresRunBeforeSlots(admin, asCreated);
      });
      const older = storeOn(schema);
      await older.saveFlowVersion({ definition: WAITS_FOR_PAYMENT, deployedBy: 'user_42', at: Date.now() }).then((v) => older.publishFlowVersion({ flowId: v.flowId, version: v.version }));

      const engine = createEngine({ stores: storeOn(schema), poll: false });
      expect(await engine.publishEvent('order.paid', { amount: 3 })).toMatchObject({ resumedRunIds: [requestId] });
      expect(await engine.waitForRun(requestId, { timeoutMs: 10_000 })).toMatchObject({ status: 'SUCCEEDED', output: { amount: 3 } });
      await engine.close();
    });
  });

  describe('upgrade to schema 16', () => {
    it('resumes a run whose small state was stored as a header and slots, and stores it whole in its row from then on', async () => {
      const schema = freshSchema();
      const { requestId, asCreated } = await runWaitingForPayment(storeOn(freshSchema()));
      // The waiting run as schema 13 stored every run: its state a header, the rest in slot rows.
      const slots = wholeStateChanges(asCreated.state);
      await withAdmin(async (admin) => {
        await createPostgresAtVersion(admin, schema, 13);
        await admin.query(`SET search_path TO "${schema}"`);
        await insertPostgresRunBeforeSlots(admin, asCreated);
        await admin.query(`UPDATE runs SET state = $2::json, state_slots = true, waiting_event = 'order.paid' WHERE run_id = $1`, [requestId, JSON.stringify(slots.header)]);
        for (const [i, slot] of slots.put.entries()) {
          await admin.query('INSERT INTO run_state_slots (run_id, key, ord, body) VALUES ($1, $2, $3, $4::json)', [requestId, slot.key, i, JSON.stringify(slot.value)]);
        }
      });
      const older = storeOn(schema);
      await older.saveFlowVersion({ definition: WAITS_FOR_PAYMENT, deployedBy: 'user_42', at: Date.now() }).then((v) => older.publishFlowVersion({ flowId: v.flowId, version: v.version }));
      expect((await older.getRun(requestId))?.state).toEqual(asCreated.state);

      const engine = createEngine({ stores: storeOn(schema), poll: false });
      expect(await engine.publishEvent('order.paid', { amount: 3 })).toMatchObject({ resumedRunIds: [requestId] });
      expect(await engine.waitForRun(requestId, { timeoutMs: 10_000 })).toMatchObject({ status: 'SUCCEEDED', output: { amount: 3 } });
      await engine.close();
      const left = await withAdmin((admin) => admin.query(`SELECT count(*)::int AS n FROM "${schema}".run_state_slots WHERE run_id = $1`, [requestId]));
      expect(left.rows[0]).toEqual({ n: 0 });
    });
  });

  describe('values', () => {
    it('round-trips what the memory store keeps: NUL characters, key order and fractional times', async () => {
      const store = storeOn(freshSchema());
      const odd = 'a\u0000b';
      const created = await store.createRun({
        run: sampleRun({ runId: 'odd', input: { z: odd, a: 1 }, startTime: T0 + 0.5 }),
        events: [{ kind: 'log', entry: { time: T0, code: 'C', description: odd } }],
        lease: { owner: 'w1', expiresAt: T0 + 1000.25 },
      });
      const item = { id: 'i1', type: 'message', status: 'done' as const, content: odd, transient: false, runId: 'odd', createdAt: T0, updatedAt: T0 };
      await store.recordTransition(step({ runId: 'odd', token: created.lease!.fencingToken, version: 0 }, { at: T0 + 1.5, patch: { output: { z: 1, a: odd } }, items: [item] }));
      const run = await store.getRun('odd');
      expect(Object.keys(run!.input as object)).toEqual(['z', 'a']);
      expect(Object.keys(run!.output as object)).toEqual(['z', 'a']);
      expect(run).toMatchObject({ input: { z: odd }, output: { a: odd }, startTime: T0 + 0.5, updatedAt: T0 + 1.5, leaseExpiresAt: T0 + 1000.25 });
      expect((await store.getRunLogs('odd')).entries[0]?.description).toBe(odd);
      expect((await store.getRunItems('odd'))[0]?.content).toBe(odd);
      expect((await store.getRunEvents('odd')).map((e) => e.time)).toEqual([T0 + 0.5, T0 + 1.5]);
    });
  });

  describe('connection failures', () => {
    it('reports a wrong password as STORE_ERROR naming host and user but never the password', async () => {
      const secret = 'not-the-password-7f3a9';
      const wrong = new URL(url!);
      wrong.password = secret;
      const store = storeOn(freshSchema(), wrong.toString());
      const error = await store.getRun('r').then(
        () => null,
        (e: unknown) => e as FlowError,
      );
      expect(error).toMatchObject({ code: 'STORE_ERROR' });
      expect(error!.message).toContain(`${wrong.hostname}:`);
      expect(error!.message).toContain(`as ${decodeURIComponent(wrong.username)}`);
      const everything = `${error!.message} ${String(error!.cause)} ${JSON.stringify(error)} ${error!.stack ?? ''}`;
      expect(everything).not.toContain(secret);
    });

    it('rejects a write whose connection is lost mid-transaction with STORE_ERROR, and recovers after', async () => {
      const schema = freshSchema();
      const store = storeOn(schema);
      const run = await leasedRun(store, 'victim');
      await withAdmin(async (admin) => {
        await admin.query('BEGIN');
        await admin.query(`SELECT 1 FROM "${schema}".runs WHERE run_id = 'victim' FOR UPDATE`);
        // Settled into a value at once, so the rejection is never briefly unhandled.
        const outcome = store.recordTransition(step(run)).then(
          () => null,
          (error: unknown) => error,
        );
        const pid = await blockedBackend(schema);
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        expect(await outcome).toMatchObject({ code: 'STORE_ERROR', message: expect.stringContaining('lost the connection') });
        await admin.query('ROLLBACK');
      });
      // Nothing of the lost write committed, so the engine's retry of the same transition applies it.
      expect(await store.recordTransition(step(run))).toMatchObject({ version: 1, lastSeq: 2 });
    });

    it('retries a read whose connection is lost mid-query', async () => {
      const schema = freshSchema();
      const store = storeOn(schema);
      await store.createRun({ run: sampleRun({ runId: 'r' }) });
      await withAdmin(async (admin) => {
        // An exclusive table lock holds the read in flight, so its connection dies under it.
        await admin.query('BEGIN');
        await admin.query(`LOCK TABLE "${schema}".runs IN ACCESS EXCLUSIVE MODE`);
        const read = store.getRun('r');
        const first = await blockedBackend(schema);
        await admin.query('SELECT pg_terminate_backend($1)', [first]);
        // The store tries again on a new connection, which waits for the lock in turn.
        await blockedBackend(schema, first);
        await admin.query('ROLLBACK');
        expect((await read)?.runId).toBe('r');
      });
    });

    it('retries a transaction that PostgreSQL aborted as a deadlock victim', async () => {
      const schema = freshSchema();
      const store = storeOn(schema);
      await store.createRun({ run: sampleRun({ runId: 'parent', readyAt: null }) });
      await store.createRun({ run: sampleRun({ runId: 'child', parentRunId: 'parent' }) });
      await withAdmin(async (admin) => {
        await admin.query('BEGIN');
        await admin.query(`SELECT 1 FROM "${schema}".runs WHERE run_id = 'parent' FOR UPDATE`);
        // The store locks the child, then waits for the parent (to wake it)…
        const canceled = store.cancelRun({ runId: 'child', at: T0 + 5, events: [log('FlowCanceled')], runError: { code: 'CANCELED', description: 'test' }, wakeRuns: ['parent'] });
        await blockedBackend(schema);
        // …while this session, holding the parent, asks for the child: a deadlock, which the
        // store's session detects first (it waited first) and is aborted for.
        await admin.query(`SELECT 1 FROM "${schema}".runs WHERE run_id = 'child' FOR UPDATE`);
        await admin.query('ROLLBACK');
        expect(await canceled).toMatchObject({ status: 'CANCELED', lastSeq: 1 });
      });
      expect((await store.getRun('parent'))?.readyAt).toBe(T0 + 5);
      expect((await store.getRunEvents('child')).map((e) => e.kind)).toEqual(['log']);
    });
  });

  describe('group commit', () => {
    it('records the transitions of many runs submitted in the same tick in one commit', async () => {
      const store = storeOn(freshSchema());
      const runs = [];
      for (let i = 0; i < 40; i++) runs.push(await leasedRun(store, `g-${i}`));
      const before = store.stats.commits;
      const recorded = await Promise.all(runs.map((run) => store.recordTransition(step(run))));
      expect(store.stats.commits - before).toBe(1);
      expect(recorded.map((r) => [r.version, r.lastSeq])).toEqual(runs.map(() => [1, 2]));
      expect((await store.getRunEvents('g-39')).map((e) => e.seq)).toEqual([1, 2]);
    });

    it('records a batch in one call exactly as it records the same transitions one at a time', async () => {
      // The same scenario on two schemas: submitted in one tick (one group call), and one by one.
      const scenario = async (store: PostgresStore, together: boolean): Promise<unknown> => {
        const parent = await leasedRun(store, 'parent');
        const waiting = await leasedRun(store, 'waiting');
        const plain = await leasedRun(store, 'plain');
        const self = await leasedRun(store, 'self');
        // Small states whole in the row (inline), one leaving slots for it, changes reaching a row that holds its state whole.
        const withVars = (vars: Record<string, unknown>): RunState => ({ ...sampleRun({}).state, vars });
        const small = await leasedRun(store, 'small');
        const grown = await leasedRun(store, 'grown', withVars({ doc: 'x'.repeat(INLINE_STATE_MAX_BYTES) }));
        const delta = await leasedRun(store, 'delta');
        const item = { id: 'i1', type: 'progress', status: 'done' as const, content: { n: 1 }, transient: false, runId: 'plain', createdAt: T0, updatedAt: T0 };
        const transitions: Transition[] = [
          step(parent, { patch: { state: { ...sampleRun({}).state, stepSeq: 1 }, readyAt: null }, releaseLease: true, createRuns: [{ run: sampleRun({ runId: 'child', parentRunId: 'parent' }), events: [log('FlowStarted')], lease: { owner: 'w1', expiresAt: T0 + 60_000 } }] }),
          step(waiting, {
            patch: { status: 'SUCCEEDED', output: { ok: true }, runError: null, endTime: T0 + 10 },
            wakeRuns: ['plain'],
            wakeLease: { owner: 'w2', expiresAt: T0 + 50_000 },
            emits: [{ eventId: 'waiting:1:e', event: 'done', payload: { ok: [true] } }],
          }),
          step(plain, { items: [item, { ...item, content: { n: 2 } }], events: [log('A'), { kind: 'item', change: 'added', item }] }),
          step(self, { patch: { readyAt: null }, wakeRuns: ['self'], leaseExpiresAt: T0 + 90_000 }),
          step(small, { patch: { state: withVars({ a: 1 }) }, stateChanges: { inline: true, dropSlots: false } }),
          step(grown, { patch: { state: withVars({ b: 2 }) }, stateChanges: { inline: true, dropSlots: true } }),
          step(delta, { patch: { state: withVars({ c: 3 }) }, stateChanges: { header: stateHeader(withVars({ c: 3 })), put: [{ key: varKey('c'), value: 3 }], delete: [], deletePrefixes: [], replace: false } }),
          step({ ...plain, runId: 'nobody' }),
        ];
        const settle = (t: Transition): Promise<unknown> => store.recordTransition(t).then((run) => ({ ...run, updatedAt: 0 }), (error: FlowError) => error.code);
        const results = together ? await Promise.all(transitions.map(settle)) : await transitions.reduce<Promise<unknown[]>>(async (acc, t) => [...(await acc), await settle(t)], Promise.resolve([]));
        const runs = await Promise.all(['parent', 'waiting', 'plain', 'self', 'child', 'small', 'grown', 'delta'].map((id) => store.getRun(id)));
        const events = await Promise.all(['parent', 'plain', 'child'].map((id) => store.getRunEvents(id)));
        return { results, runs, events, items: await store.getRunItems('plain'), emits: await store.listPendingEmits({ recordedBefore: T0 + 100, limit: 10 }) };
      };
      const together = storeOn(freshSchema());
      const before = together.stats.commits;
      const a = await scenario(together, true);
      const b = await scenario(storeOn(freshSchema()), false);
      expect(a).toEqual(b);
      expect((a as { emits: unknown[] }).emits).toHaveLength(1);
      expect(together.stats.commits - before).toBe(7 + 1); // seven creations awaited one by one, then the eight transitions in one call
      const runs = (a as { runs: { state: RunState }[] }).runs;
      expect(runs.slice(-3).map((run) => run.state.vars)).toEqual([{ a: 1 }, { b: 2 }, { c: 3 }]);
      expect((a as { results: unknown[] }).results.at(-1)).toBe('RUN_NOT_FOUND');
    });

    it('group-commits new runs with transitions; a taken id rejects alone with CONFLICT', async () => {
      const store = storeOn(freshSchema());
      await store.createRun({ run: sampleRun({ runId: 'taken' }) });
      const moving = await leasedRun(store, 'moving');
      const before = store.stats.commits;
      const results = await Promise.allSettled([
        store.createRun({ run: sampleRun({ runId: 'new-1' }), events: [log('FlowStarted')] }),
        store.createRun({ run: sampleRun({ runId: 'taken' }), events: [log('FlowStarted')] }),
        store.recordTransition(step(moving)),
        store.createRun({ run: sampleRun({ runId: 'new-2' }), events: [log('FlowStarted'), log('More')], lease: { owner: 'w1', expiresAt: T0 + 60_000 } }),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as FlowError).code))).toEqual(['ok', 'CONFLICT', 'ok', 'ok']);
      expect(store.stats.commits - before).toBe(1);
      expect(await store.getRun('new-2')).toMatchObject({ leaseOwner: 'w1', fencingToken: 1, lastSeq: 2, version: 0 });
      expect((await store.getRunEvents('new-1')).map((e) => e.seq)).toEqual([1]);
      expect(await store.getRun('taken')).toMatchObject({ lastSeq: 0 });
      expect(await store.getRun('moving')).toMatchObject({ version: 1, lastSeq: 2 });
    });

    it('rolls back only the refused transitions of a batch, each rejecting alone', async () => {
      const store = storeOn(freshSchema());
      await store.createRun({ run: sampleRun({ runId: 'taken' }) });
      const good = await leasedRun(store, 'good');
      const stale = await leasedRun(store, 'stale');
      const clash = await leasedRun(store, 'clash');
      const bad = await leasedRun(store, 'bad');
      const later = await leasedRun(store, 'later');
      const before = store.stats.commits;
      const results = await Promise.allSettled([
        store.recordTransition(step(good)),
        store.recordTransition(step({ ...stale, token: stale.token + 1 })),
        store.recordTransition(step(clash, { createRuns: [{ run: sampleRun({ runId: 'taken' }), events: [] }] })),
        store.recordTransition(step({ ...good, runId: 'missing' })),
        // PostgreSQL itself refuses this one (the status CHECK), which aborts the transaction.
        store.recordTransition(step(bad, { patch: { status: 'BOGUS' as RunStatus } })),
        store.recordTransition(step(later)),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as FlowError).code))).toEqual(['ok', 'LEASE_LOST', 'CONFLICT', 'RUN_NOT_FOUND', 'STORE_ERROR', 'ok']);
      expect(store.stats.commits - before).toBe(1);
      expect(await store.getRun('good')).toMatchObject({ version: 1, lastSeq: 2 });
      expect(await store.getRun('later')).toMatchObject({ version: 1, lastSeq: 2 });
      for (const runId of ['stale', 'clash', 'bad']) expect(await store.getRun(runId)).toMatchObject({ status: 'ACTIVE', version: 0, lastSeq: 1 });
      expect((await store.getRunEvents('good')).map((e) => e.seq)).toEqual([1, 2]);
    });
  });

  describe('notifications', () => {
    it('tells a subscriber in another process about a run after each commit, with its lastSeq', async () => {
      const schema = freshSchema();
      const writer = storeOn(schema);
      const watcher = storeOn(schema);
      const heard: RunNotification[] = [];
      const unsubscribe = await watcher.subscribe((n) => {
        if (n.runId.startsWith(`${schema}-`)) heard.push(n);
      });
      const runId = `${schema}-n1`;
      const created = await writer.createRun({ run: sampleRun({ runId }), events: [log('FlowStarted'), log('More')], lease: { owner: 'w1', expiresAt: T0 + 60_000 } });
      await eventually(async () => heard.length >= 1, 'the creation notice');
      await writer.recordTransition(step({ runId, token: created.lease!.fencingToken, version: 0 }));
      await eventually(async () => heard.length >= 2, 'the transition notice');
      expect(heard).toEqual([
        { runId, lastSeq: 2 },
        { runId, lastSeq: 3 },
      ]);
      await unsubscribe();
    });

    it('keeps notifying after the LISTEN connection was dropped', async () => {
      const schema = freshSchema();
      const store = storeOn(schema);
      const heard = new Set<string>();
      await store.subscribe((n) => heard.add(n.runId));
      await withAdmin((admin) => admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`, [`flowrun:${schema}`]));
      // Notifications sent while it reconnects are lost (they are hints), so keep creating runs until one is heard.
      let n = 0;
      await eventually(async () => {
        const runId = `${schema}-after-${++n}`;
        await store.createRun({ run: sampleRun({ runId }) });
        await new Promise((resolve) => setTimeout(resolve, 50));
        return heard.has(runId);
      }, 'a notice after reconnecting');
    });
  });

  describe('several processes', () => {
    it('numbers concurrent deploys of one flow from several processes without gaps, and makes one version of identical ones', async () => {
      const schema = freshSchema();
      const stores = [storeOn(schema), storeOn(schema), storeOn(schema)];
      const flow = (n: number) => ({ id: 'shared', actions: { main: { startAt: 's', steps: { s: { stepType: 'COMPUTE' as const, expression: String(n) } } } } });
      const distinct = await Promise.all(Array.from({ length: 9 }, (_, n) => stores[n % 3]!.saveFlowVersion({ definition: flow(n), deployedBy: 'u', at: T0 + n })));
      expect(distinct.map((v) => v.version).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const same = await Promise.all(stores.map((store) => store.saveFlowVersion({ definition: flow(100), deployedBy: 'u', at: T0 + 100 })));
      expect(same.map((v) => v.version)).toEqual([10, 10, 10]);
      expect(await stores[1]!.listFlows()).toEqual([expect.objectContaining({ flowId: 'shared', latestVersion: 10 })]);
    });

    it('never lets two stores claim the same run when they claim 100 runs concurrently', async () => {
      const schema = freshSchema();
      const a = storeOn(schema);
      const b = storeOn(schema);
      for (let i = 0; i < 100; i++) await a.createRun({ run: sampleRun({ runId: `c-${String(i).padStart(3, '0')}` }) });
      const claimAll = async (store: PostgresStore, owner: string): Promise<string[]> => {
        const ids: string[] = [];
        for (;;) {
          const claimed = await Promise.all([1, 2].map(() => store.claimRuns({ owner, limit: 7, now: T0 + 1, leaseExpiresAt: T0 + 60_000 })));
          if (claimed.every((c) => c.length === 0)) return ids;
          for (const c of claimed.flat()) {
            expect(c.lease).toMatchObject({ owner, fencingToken: 1 });
            ids.push(c.run.runId);
          }
        }
      };
      const [byA, byB] = await Promise.all([claimAll(a, 'A'), claimAll(b, 'B')]);
      const all = [...byA, ...byB];
      expect(new Set(all).size).toBe(all.length);
      expect(all.length).toBe(100);
      const owners = await withAdmin((admin) => admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".runs WHERE lease_owner IS NOT NULL AND fencing_token = 1`));
      expect(Number(owners.rows[0]?.n)).toBe(100);
    });
  });
});
