/**
 * What only the SQLite store has: a file that outlives the process, schema versions, other
 * processes on the same file, and group commit. The shared behaviour is in store.conformance.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RunEventBody } from '../../core/run.js';
import { createEngine } from '../../create-engine.js';
import type { Transition } from '../../core/store.js';
import { sampleRun } from '../store.conformance.js';
import { createFilesystemStores, createSqliteStore } from './create-filesystem-stores.js';
import { SQLITE_SCHEMA_VERSION } from './migrations.js';
import type { SqliteStore } from './sqlite-store.js';
import { createSqliteAtVersion, insertSqliteRunBeforeSlots, runWaitingForPayment, WAITS_FOR_PAYMENT } from '../../../test/support/runs-before-slots.js';

const T0 = Date.UTC(2026, 0, 1);
const root = mkdtempSync(join(tmpdir(), 'flowrun-sqlite-specific-'));
let files = 0;
const freshPath = (): string => join(root, `db-${++files}.db`);
const open: SqliteStore[] = [];
const track = (store: SqliteStore): SqliteStore => {
  open.push(store);
  return store;
};
const log = (code: string): RunEventBody => ({ kind: 'log', entry: { time: T0, code, description: code } });
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function leasedRuns(store: SqliteStore, count: number, prefix: string): Promise<Transition[]> {
  const transitions: Transition[] = [];
  for (let i = 0; i < count; i++) {
    const created = await store.createRun({ run: sampleRun({ runId: `${prefix}-${i}` }), events: [log('FlowStarted')], lease: { owner: 'w1', expiresAt: T0 + 60_000 } });
    transitions.push({ runId: created.run.runId, lease: { owner: 'w1', fencingToken: 1 }, expectedVersion: 0, at: T0 + 10, patch: {}, events: [log('StepSucceeded')] });
  }
  return transitions;
}

describe('SqliteStore on disk', () => {
  it('keeps runs, events, items and flows across close and reopen', async () => {
    const path = freshPath();
    const first = createSqliteStore({ path });
    await first.saveFlowVersion({ definition: { id: 'a', actions: {} }, deployedBy: 'u', at: T0 });
    const created = await first.createRun({ run: sampleRun({ runId: 'kept', label: 'nightly', tags: ['t'] }), events: [log('FlowStarted')], lease: { owner: 'w1', expiresAt: T0 + 1 } });
    const item = { id: 'i1', type: 'message', status: 'done' as const, content: 'hi', transient: false, runId: 'kept', createdAt: T0, updatedAt: T0 };
    await first.recordTransition({ runId: 'kept', lease: { owner: 'w1', fencingToken: created.run.fencingToken }, expectedVersion: 0, at: T0 + 5, patch: { output: { n: 1 } }, items: [item], events: [log('StepSucceeded')] });
    await first.close();

    const second = track(createSqliteStore({ path }));
    expect(await second.getRun('kept')).toMatchObject({ label: 'nightly', tags: ['t'], version: 1, lastSeq: 2, output: { n: 1 }, fencingToken: 1 });
    expect((await second.getRunEvents('kept')).map((e) => (e.kind === 'log' ? e.entry.code : e.kind))).toEqual(['FlowStarted', 'StepSucceeded']);
    expect(await second.getRunItems('kept')).toEqual([item]);
    expect((await second.getFlowVersion('a', 'LATEST'))?.version).toBe(1);
    expect((await second.listRuns({ tags: ['t'] })).runs.map((r) => r.runId)).toEqual(['kept']);
  });

  it('opens nothing until first use, then writes a WAL-mode file under rootDir', async () => {
    const rootDir = join(root, 'lazy', 'nested');
    const store = track(createFilesystemStores({ rootDir }));
    const file = join(rootDir, 'flowrun.db');
    expect(existsSync(file)).toBe(false);
    await store.getRun('nothing');
    expect(existsSync(file)).toBe(true);
    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(raw.prepare('SELECT version FROM flowrun_schema').get()).toEqual({ version: SQLITE_SCHEMA_VERSION });
    } finally {
      raw.close();
    }
  });

  it('keeps the folder it creates and the database files to their owner (0700 / 0600), whatever the umask', async () => {
    const previous = process.umask(0);
    const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);
    try {
      const rootDir = join(root, 'private', 'store');
      const store = track(createFilesystemStores({ rootDir }));
      await store.saveFlowVersion({ definition: { id: 'a', actions: {} }, deployedBy: 'u', at: T0 });
      expect([mode(join(root, 'private')), mode(rootDir)]).toEqual(['700', '700']);
      const file = join(rootDir, 'flowrun.db');
      expect([file, `${file}-wal`, `${file}-shm`].map(mode)).toEqual(['600', '600', '600']);

      // A file an older version left world-readable is tightened when it is opened again.
      await store.close();
      const loose = join(root, 'loose');
      mkdirSync(loose, { mode: 0o755 });
      const old = createFilesystemStores({ rootDir: loose });
      await old.getRun('nothing');
      await old.close();
      chmodSync(join(loose, 'flowrun.db'), 0o644);
      const reopened = track(createFilesystemStores({ rootDir: loose }));
      await reopened.getRun('nothing');
      expect(mode(join(loose, 'flowrun.db'))).toBe('600');
      expect(mode(loose)).toBe('755'); // a folder it did not create keeps its owner's mode
    } finally {
      process.umask(previous);
    }
  });

  it('gives a store created before the secret existed one on upgrade, the same for every process on the file', async () => {
    const path = freshPath();
    // The schema before migration 5 (no secret table, no outbox), with a run as it was written then.
    createSqliteAtVersion(path, 4);
    insertSqliteRunBeforeSlots(path, sampleRun({ runId: 'older' }));

    const [one, two] = [track(createSqliteStore({ path })), track(createSqliteStore({ path }))];
    const [a, b] = await Promise.all([one.getStoreSecret(), two.getStoreSecret()]);
    expect(a.length).toBe(32);
    expect([...b]).toEqual([...a]);
    expect(await one.getRun('older')).toMatchObject({ runId: 'older' });
    await one.close();
    expect([...(await track(createSqliteStore({ path })).getStoreSecret())]).toEqual([...a]);
  });

  it('resumes by an event a run that waited for it before the upgrade to schema 8', async () => {
    const path = freshPath();
    // The run waits as today's engine leaves it (a NUL character in its state); the file it is
    // copied into is schema 6 with the row in that schema's form, which migration 8 reads.
    const scratch = createSqliteStore({ path: freshPath() });
    const { requestId, asCreated } = await runWaitingForPayment(scratch);
    await scratch.close();
    createSqliteAtVersion(path, 6);
    insertSqliteRunBeforeSlots(path, asCreated);
    const older = createSqliteStore({ path });
    await older.saveFlowVersion({ definition: WAITS_FOR_PAYMENT, deployedBy: 'user_42', at: Date.now() }).then((v) => older.publishFlowVersion({ flowId: v.flowId, version: v.version }));
    await older.close();

    const engine = createEngine({ stores: track(createSqliteStore({ path })), poll: false });
    expect(await engine.publishEvent('order.paid', { amount: 3 })).toMatchObject({ resumedRunIds: [requestId] });
    expect(await engine.waitForRun(requestId, { timeoutMs: 5_000 })).toMatchObject({ status: 'SUCCEEDED', output: { amount: 3 } });
    await engine.close();
  });

  it('writes a small run as one row per transition, no slot rows; a run with a large input as a header and slots', async () => {
    const path = freshPath();
    const engine = createEngine({ stores: track(createSqliteStore({ path })), modules: { echo: (input) => ({ got: input.v }) } });
    await engine.deployFlow(
      { id: 'rows/two', actions: { main: { startAt: 'a', steps: { a: { stepType: 'MODULE', moduleIdentifier: 'echo', inputMappings: { v: '$.input.v' }, defaultNextStepInstanceId: 'b' }, b: { stepType: 'MODULE', moduleIdentifier: 'echo', inputMappings: { v: '$.steps.a.got' } } } } } },
      { publish: true },
    );
    const small = await engine.runAction({ flow: 'rows/two', input: { v: 1 } });
    const large = await engine.runAction({ flow: 'rows/two', input: { v: 'x'.repeat(10_000) } });
    expect([small.status, large.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    await engine.close();
    const raw = new Database(path, { readonly: true });
    try {
      // Slots a run had go with its last frame; which form its row holds stays.
      const form = (runId: string): unknown => raw.prepare('SELECT state_slots, (SELECT count(*) FROM flowrun_run_slots s WHERE s.run_id = r.run_id) AS slots FROM flowrun_runs r WHERE run_id = ?').get(runId);
      expect(form(small.requestId)).toEqual({ state_slots: 0, slots: 0 });
      expect(form(large.requestId)).toEqual({ state_slots: 1, slots: 0 });
    } finally {
      raw.close();
    }
  });

  it('keeps a small input and only the unusual fixed fields in the run row (schema 15), and reads and resumes a run written before the upgrade with them apart', async () => {
    const path = freshPath();
    const first = createSqliteStore({ path });
    const runs = [sampleRun({ runId: 'apart' }), sampleRun({ runId: 'same' }), sampleRun({ runId: 'watched', monitors: { users: ['m'], groups: [] } }), sampleRun({ runId: 'large', input: { text: 'x'.repeat(600) } })];
    for (const run of runs) await first.createRun({ run, events: [log('FlowStarted')], lease: { owner: 'w1', expiresAt: T0 + 60_000 } });
    await first.close();
    const raw = new Database(path);
    try {
      const row = (runId: string): unknown => raw.prepare('SELECT input, fixed, (SELECT count(*) FROM flowrun_run_inputs i WHERE i.run_id = r.run_id) AS inputs FROM flowrun_runs r WHERE run_id = ?').get(runId);
      expect(row('watched')).toEqual({ input: JSON.stringify(runs[2]!.input), fixed: '{"flowVersion":1,"actionName":"main","createdBy":"user_42","runOwner":"user_42","source":"http","monitors":{"users":["m"],"groups":[]}}', inputs: 0 });
      expect(row('large')).toMatchObject({ input: null, inputs: 1 });
      // 'apart' as every row was written before: its input in flowrun_run_inputs, every fixed field in `fixed`.
      const { runId: _id, flowId: _flow, status: _status, label: _label, tags: _tags, startTime: _start, parentRunId: _parent, rootRunId: _root, readyAt: _ready, state: _state, input, ...fixed } = runs[0]!;
      raw.prepare('UPDATE flowrun_runs SET input = NULL, fixed = ? WHERE run_id = ?').run(JSON.stringify(fixed), 'apart');
      raw.prepare('INSERT INTO flowrun_run_inputs (run_id, input) VALUES (?, ?)').run('apart', JSON.stringify(input));
      // And the file at the version before (14): the store below upgrades it, then reads and resumes 'apart'.
      raw.prepare('UPDATE flowrun_schema SET version = 14').run();
    } finally {
      raw.close();
    }
    const second = track(createSqliteStore({ path }));
    // The same run whichever way its row holds it, field for field and in the same order (an API answer's JSON).
    const renamed = (run: unknown): string => JSON.stringify(run).replaceAll('"same"', '"apart"');
    expect(renamed(await second.getRun('same'))).toBe(JSON.stringify(await second.getRun('apart')));
    const byId = (a: { runId: string }, b: { runId: string }): number => a.runId.localeCompare(b.runId);
    expect((await second.listRuns({})).runs.sort(byId).map((run) => [run.runId, run.input, run.monitors])).toEqual(runs.sort(byId).map((run) => [run.runId, run.input, run.monitors]));
    const apart = runs.find((run) => run.runId === 'apart')!;
    const ended = await second.recordTransition({ runId: 'apart', lease: { owner: 'w1', fencingToken: 1 }, expectedVersion: 0, at: T0 + 10, patch: { status: 'SUCCEEDED', output: { ok: true }, endTime: T0 + 10 }, events: [log('FlowSucceeded')] });
    expect(ended).toMatchObject({ status: 'SUCCEEDED', createdBy: 'user_42', monitors: { users: [], groups: [] } });
    expect(await second.getRun('apart')).toMatchObject({ status: 'SUCCEEDED', input: apart.input, output: { ok: true }, treeId: 'apart', depth: 0 });
  });

  it('refuses a database written by a newer flowrun and leaves the file as it was', async () => {
    const path = freshPath();
    const store = createSqliteStore({ path });
    await store.createRun({ run: sampleRun({ runId: 'from-the-future' }) });
    await store.close();
    const raw = new Database(path);
    raw.prepare('UPDATE flowrun_schema SET version = ?').run(SQLITE_SCHEMA_VERSION + 98);
    raw.close();
    const before = sha256(path);

    const newer = track(createSqliteStore({ path }));
    await expect(newer.getRun('from-the-future')).rejects.toMatchObject({
      code: 'STORE_ERROR',
      message: `database schema version ${SQLITE_SCHEMA_VERSION + 98} is newer than this flowrun (${SQLITE_SCHEMA_VERSION}); upgrade flowrun`,
    });
    await expect(newer.createRun({ run: sampleRun() })).rejects.toMatchObject({ code: 'STORE_ERROR' });
    expect(sha256(path)).toBe(before);
  });

  it('reports a file that is not SQLite as STORE_ERROR naming the file, without touching it', async () => {
    const path = freshPath();
    writeFileSync(path, randomBytes(8192));
    const before = sha256(path);
    const store = track(createSqliteStore({ path }));
    const error: unknown = await store.listRuns({}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_ERROR' });
    expect((error as Error).message).toContain(path);
    expect(sha256(path)).toBe(before);
  });

  it('adds its tables to a database of foreign tables without touching them', async () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.exec(`CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT); INSERT INTO runs (what) VALUES ('theirs'); CREATE TABLE customers (name TEXT)`);
    raw.close();
    const store = track(createSqliteStore({ path }));
    await store.createRun({ run: sampleRun({ runId: 'ours' }) });
    expect(await store.getRun('ours')).not.toBeNull();
    const check = new Database(path, { readonly: true });
    try {
      expect(check.prepare('SELECT * FROM runs').all()).toEqual([{ id: 1, what: 'theirs' }]);
      expect(check.prepare(`SELECT sql FROM sqlite_master WHERE name = 'runs'`).get()).toEqual({ sql: 'CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT)' });
      expect(check.prepare(`SELECT count(*) AS n FROM customers`).get()).toEqual({ n: 0 });
    } finally {
      check.close();
    }
  });

  it('upgrades a schema-6 file so root runs stay out of the parent index, and still lists children through it', async () => {
    const path = freshPath();
    // A file as schema 6 left it (the parent index over every run), with a root and two children.
    createSqliteAtVersion(path, 6);
    insertSqliteRunBeforeSlots(path, sampleRun({ runId: 'root' }));
    insertSqliteRunBeforeSlots(path, sampleRun({ runId: 'child-1', parentRunId: 'root', rootRunId: 'root', startTime: T0 + 1 }));
    insertSqliteRunBeforeSlots(path, sampleRun({ runId: 'child-2', parentRunId: 'root', rootRunId: 'root', startTime: T0 + 2 }));

    const after = track(createSqliteStore({ path }));
    const page = await after.listRuns({ parentRunId: 'root', orderBy: 'startTime', orderDir: 'asc' });
    expect(page.runs.map((run) => run.runId)).toEqual(['child-1', 'child-2']);
    const check = new Database(path, { readonly: true });
    try {
      expect(check.prepare('SELECT version FROM flowrun_schema').get()).toEqual({ version: SQLITE_SCHEMA_VERSION });
      const entries = check.prepare('SELECT run_id FROM flowrun_runs INDEXED BY flowrun_runs_parent_start WHERE parent_run_id IS NOT NULL ORDER BY run_id').all();
      expect(entries).toEqual([{ run_id: 'child-1' }, { run_id: 'child-2' }]);
      expect(check.prepare(`SELECT sql FROM sqlite_master WHERE name = 'flowrun_runs_parent_start'`).get()).toEqual({
        sql: 'CREATE INDEX flowrun_runs_parent_start ON flowrun_runs (parent_run_id, start_time, run_id) WHERE parent_run_id IS NOT NULL',
      });
      const plan = check.prepare('EXPLAIN QUERY PLAN SELECT * FROM flowrun_runs WHERE parent_run_id = ? ORDER BY start_time DESC, run_id DESC LIMIT ?').all('root', 10) as { detail: string }[];
      expect(plan.map((row) => row.detail).join(' ')).toContain('USING INDEX flowrun_runs_parent_start');
    } finally {
      check.close();
    }
  });

  it('refuses a developmentOnly store when NODE_ENV is production', () => {
    const saved = process.env.NODE_ENV;
    try {
      process.env.NODE_ENV = 'production';
      expect(() => createFilesystemStores({ rootDir: join(root, 'dev'), developmentOnly: true })).toThrow(expect.objectContaining({ code: 'STORE_ERROR' }));
      track(createFilesystemStores({ rootDir: join(root, 'prod') }));
      process.env.NODE_ENV = 'development';
      track(createFilesystemStores({ rootDir: join(root, 'dev'), developmentOnly: true }));
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
  });
});

describe('SqliteStore group commit', () => {
  it('commits 200 concurrent transitions in a few transactions; the one that lost its lease fails alone', async () => {
    const path = freshPath();
    const store = track(createSqliteStore({ path }));
    const transitions = await leasedRuns(store, 200, 'g');
    transitions[57] = { ...transitions[57]!, lease: { owner: 'w1', fencingToken: 2 } };
    const reader = new Database(path, { readonly: true });
    const before = store.stats.commits;
    try {
      const outcomes = await Promise.allSettled(
        transitions.map(async (t) => {
          const run = await store.recordTransition(t);
          // Resolved means committed: another connection already sees it.
          const seen = reader.prepare('SELECT version FROM flowrun_runs WHERE run_id = ?').get(t.runId);
          return { run, seen };
        }),
      );
      expect(store.stats.commits - before).toBeLessThan(10);
      const rejected = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [[i, (o.reason as { code: string }).code]] : []));
      expect(rejected).toEqual([[57, 'LEASE_LOST']]);
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') expect(outcome.value).toMatchObject({ run: { version: 1, lastSeq: 2 }, seen: { version: 1 } });
      }
      expect(await store.getRun('g-57')).toMatchObject({ version: 0, lastSeq: 1 });
      expect((await store.getRunEvents('g-199')).map((e) => e.seq)).toEqual([1, 2]);
    } finally {
      reader.close();
    }
  });

  it("resolves a flow's published version without waiting for other runs' queued writes, and sees every settled deploy", async () => {
    const store = track(createSqliteStore({ path: freshPath() }));
    const deployed = await store.saveFlowVersion({ definition: { id: 'a', actions: {} }, deployedBy: 'u', at: T0 });
    await store.publishFlowVersion({ flowId: 'a', version: deployed.version });
    const settled: string[] = [];
    // A fork bomb's backlog: writes queued and not settled when the start resolves its flow.
    const backlog = (await leasedRuns(store, 50, 'b')).map((t) => store.recordTransition(t).then(() => void settled.push('write')));
    const found = await store.getFlowVersion('a', 'LATEST_PUBLISHED').then((v) => (settled.push('flow'), v));
    await Promise.all(backlog);
    expect(found).toMatchObject({ flowId: 'a', version: deployed.version, published: true });
    expect(settled[0]).toBe('flow');
  });

  it('rolls back a transition whose child id is taken while its batch neighbours commit', async () => {
    const store = track(createSqliteStore({ path: freshPath() }));
    const [a, b] = await leasedRuns(store, 2, 'n');
    const clash = { ...b!, patch: { output: 'never' }, createRuns: [{ run: sampleRun({ runId: 'n-0' }), events: [] }] };
    const [first, second] = await Promise.allSettled([store.recordTransition({ ...a!, patch: { output: 'yes' } }), store.recordTransition(clash)]);
    expect(first).toMatchObject({ status: 'fulfilled', value: { output: 'yes' } });
    expect(second).toMatchObject({ status: 'rejected', reason: { code: 'CONFLICT' } });
    expect(await store.getRun('n-1')).toMatchObject({ version: 0, output: null });
  });

  it('retries while another process holds the write lock, then fails with STORE_ERROR past its bound', async () => {
    const path = freshPath();
    const store = track(createSqliteStore({ path, busyTimeoutMs: 0, busyRetries: 2, busyBackoffMs: 1 }));
    await store.getRun('warm-up');
    const other = new Database(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      await expect(store.createRun({ run: sampleRun({ runId: 'blocked' }) })).rejects.toMatchObject({ code: 'STORE_ERROR', message: expect.stringContaining('locked') });
      const retries = store.stats.busyRetries;
      expect(retries).toBe(2);

      const patient = track(createSqliteStore({ path, busyTimeoutMs: 0, busyRetries: 50, busyBackoffMs: 5 }));
      await patient.getRun('warm-up');
      const write = patient.createRun({ run: sampleRun({ runId: 'waited' }) });
      while (patient.stats.busyRetries === 0) await new Promise((resolve) => setImmediate(resolve));
      other.exec('COMMIT');
      await expect(write).resolves.toMatchObject({ run: { runId: 'waited' } });
      expect(await store.getRun('waited')).not.toBeNull();
      expect(await store.getRun('blocked')).toBeNull();
    } finally {
      if (other.inTransaction) other.exec('ROLLBACK');
      other.close();
    }
  });
});

describe('SqliteStore shared by two instances on one file', () => {
  it('sees the other instance’s writes and lets only one of two concurrent claims win', async () => {
    const path = freshPath();
    const a = track(createSqliteStore({ path }));
    const b = track(createSqliteStore({ path }));
    await a.createRun({ run: sampleRun({ runId: 'shared' }), events: [log('FlowStarted')] });
    expect(await b.getRun('shared')).toMatchObject({ runId: 'shared', lastSeq: 1 });

    const claims = await Promise.all([
      a.claimRun({ runId: 'shared', owner: 'a', now: T0 + 1, leaseExpiresAt: T0 + 30_000 }),
      b.claimRun({ runId: 'shared', owner: 'b', now: T0 + 1, leaseExpiresAt: T0 + 30_000 }),
    ]);
    const winners = claims.filter((c) => c !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.lease.fencingToken).toBe(1);
    expect((await a.getRun('shared'))?.leaseOwner).toBe(winners[0]!.lease.owner);

    for (let i = 0; i < 30; i++) await b.createRun({ run: sampleRun({ runId: `q-${i}` }) });
    const rounds = await Promise.all([
      a.claimRuns({ owner: 'a', limit: 20, now: T0 + 1, leaseExpiresAt: T0 + 30_000 }),
      b.claimRuns({ owner: 'b', limit: 20, now: T0 + 1, leaseExpiresAt: T0 + 30_000 }),
    ]);
    const ids = rounds.flat().map((c) => c.run.runId);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
  });
});

describe('SqliteStore principals across connections', () => {
  it("sees another process's principal changes on the very next lookup", async () => {
    const path = freshPath();
    const mine = track(createSqliteStore({ path }));
    const theirs = track(createSqliteStore({ path }));
    await mine.principals.createPrincipal({ id: 'alice', kind: 'user', at: T0 });
    await mine.principals.createPrincipal({ id: 'ops', kind: 'group', at: T0 });
    expect(await mine.principals.resolvePrincipal('alice')).toMatchObject({ groups: [] });
    await theirs.principals.addGroupMember({ groupId: 'ops', memberId: 'alice' });
    expect(await mine.principals.resolvePrincipal('alice')).toMatchObject({ groups: ['ops'] });
    await theirs.principals.deletePrincipal('alice');
    expect(await mine.principals.resolvePrincipal('alice')).toBeNull();
    // Its own run writes do not hide a change either.
    await mine.principals.createPrincipal({ id: 'bob', kind: 'user', at: T0 });
    expect(await mine.principals.resolvePrincipal('bob')).toMatchObject({ groups: [] });
    await mine.createRun({ run: sampleRun({ runId: 'r-principals' }) });
    await theirs.principals.addGroupMember({ groupId: 'ops', memberId: 'bob' });
    expect(await mine.principals.resolvePrincipal('bob')).toMatchObject({ groups: ['ops'] });
  });
});

describe('SqliteStore cached reads across connections', () => {
  it('never serves a token or a run from before a change another connection committed', async () => {
    const path = freshPath();
    const mine = track(createSqliteStore({ path }));
    const theirs = track(createSqliteStore({ path }));
    await mine.principals.createPrincipal({ id: 'alice', kind: 'user', at: T0 });
    await mine.principals.createToken({ tokenId: 't1', principalId: 'alice', tokenHash: 'h1', at: T0 });
    // Read twice so the second read is served from memory, then change the file elsewhere.
    expect(await mine.principals.findTokenByHash('h1')).toMatchObject({ revokedAt: null });
    expect(await mine.principals.findTokenByHash('h1')).toMatchObject({ revokedAt: null });
    expect(await theirs.principals.revokeToken({ tokenId: 't1', at: T0 + 1 })).toBe(true);
    expect(await mine.principals.findTokenByHash('h1')).toMatchObject({ revokedAt: T0 + 1 });

    await mine.createRun({ run: sampleRun({ runId: 'cached', label: 'before' }) });
    expect(await mine.getRun('cached')).toMatchObject({ label: 'before' });
    expect(await mine.getRun('cached')).toMatchObject({ label: 'before' });
    await theirs.updateRun({ runId: 'cached', at: T0 + 2, label: 'after' });
    expect(await mine.getRun('cached')).toMatchObject({ label: 'after' });
    // Its own writes are seen by its next read too, and every read hands out a fresh object.
    await mine.updateRun({ runId: 'cached', at: T0 + 3, tags: ['mine'] });
    const read = await mine.getRun('cached');
    expect(read).toMatchObject({ label: 'after', tags: ['mine'] });
    read!.tags.push('mutated');
    expect((await mine.getRun('cached'))!.tags).toEqual(['mine']);
    await theirs.deleteEndedRuns({ endedBefore: T0 + 10, limit: 10 }); // not ended: stays
    expect(await mine.getRun('cached')).not.toBeNull();
  });
});

describe('SqliteStore transitions of a run it executes', () => {
  it('records what another process changed in the row between two transitions, and refuses after a takeover', async () => {
    const path = freshPath();
    const mine = track(createSqliteStore({ path }));
    const theirs = track(createSqliteStore({ path }));
    await mine.createRun({ run: sampleRun({ runId: 'shared', label: 'before', tags: ['a'] }), events: [log('FlowStarted')], lease: { owner: 'w1', expiresAt: T0 + 60_000 } });
    const step = (version: number, token = 1): Transition => ({ runId: 'shared', lease: { owner: 'w1', fencingToken: token }, expectedVersion: version, at: T0 + 10 + version, patch: {}, events: [log(`Step${version}`)] });
    await mine.recordTransition(step(0));

    // Label, tags and readyAt move without the version: the next transition reports them as stored.
    await theirs.updateRun({ runId: 'shared', at: T0 + 20, label: 'after', tags: ['b', 'c'] });
    expect(await mine.recordTransition(step(1))).toMatchObject({ version: 2, lastSeq: 3, label: 'after', tags: ['b', 'c'] });
    await theirs.renewLeases({ owner: 'w1', runIds: ['shared'], expiresAt: T0 + 90_000 });
    expect(await mine.recordTransition(step(2))).toMatchObject({ version: 3, lastSeq: 4, leaseExpiresAt: T0 + 90_000 });

    // Another process takes the run over once the lease ran out and records a step: this one is refused.
    const taken = await theirs.claimRun({ runId: 'shared', owner: 'w2', now: T0 + 100_000, leaseExpiresAt: T0 + 200_000 });
    expect(taken?.lease.fencingToken).toBe(2);
    await theirs.recordTransition({ ...step(3, 2), lease: { owner: 'w2', fencingToken: 2 } });
    await expect(mine.recordTransition(step(3))).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await expect(mine.recordTransition(step(4))).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect((await theirs.getRunEvents('shared')).map((e) => (e.kind === 'log' ? e.entry.code : e.kind))).toEqual(['FlowStarted', 'Step0', 'Step1', 'Step2', 'Step3']);
    expect(await theirs.getRun('shared')).toMatchObject({ version: 4, leaseOwner: 'w2', label: 'after', tags: ['b', 'c'] });
  });
});

describe('SqliteStore cached reads in a loop that never yields', () => {
  it('sees a commit another connection made during the loop within a millisecond or so', async () => {
    const path = freshPath();
    const mine = track(createSqliteStore({ path }));
    await mine.createRun({ run: sampleRun({ runId: 'polled', label: 'before' }) });
    expect(await mine.getRun('polled')).toMatchObject({ label: 'before' });
    const other = new Database(path);
    try {
      // Written synchronously in this very turn: only the check's age can make the loop see it.
      other.prepare(`UPDATE flowrun_runs SET label = 'after' WHERE run_id = 'polled'`).run();
      const until = performance.now() + 100;
      let label: string | null | undefined;
      while (performance.now() < until) {
        label = (await mine.getRun('polled'))?.label;
        if (label === 'after') break;
      }
      expect(label).toBe('after');
    } finally {
      other.close();
    }
  });
});
