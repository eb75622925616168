/**
 * What single SQLite statements cost on flowrun's schema, for the choices the store makes:
 *
 * - a run's INSERT with and without `RETURNING *` (the store writes without it);
 * - that INSERT inside a savepoint (every write of the group-commit queue runs in one) with the
 *   statement journal in a temporary file (SQLite's default) and in memory (`temp_store = MEMORY`);
 * - outside a transaction: `PRAGMA data_version` (the check behind every cached read) against
 *   reading a run row (what a cache hit saves);
 * - what one `POST /runs` of bench/http.ts writes (its run created already ended), with every index
 *   of the runs table and without some (issue 13: what the row format costs against the least server).
 *
 * Each figure is µs per statement, measured over the same rows in the same process; the ratios
 * are what to compare across machines.
 *
 *   node --import tsx bench/sqlite-statements.ts [--quick]      (or: npm run bench -- --only statements)
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../src/index.js';
import { INSERT_RUN_SQL, newRunParams } from '../src/store/sqlite/run-rows.js';
import { sampleRun } from '../src/store/store.conformance.js';
import { fmt, markdownTable, readOptions } from './measure.js';

const BATCH = 64;

/** The INSERT's parameters for a new run, as the store binds them (run-writes.ts insertRun: the end fields are set on the row after newRunParams). */
function rowParams(run: Parameters<typeof newRunParams>[0], options: Parameters<typeof newRunParams>[1]): Record<string, unknown> {
  return { ...newRunParams(run, options).params, end_time: run.endTime ?? null, output: run.output === undefined ? 'null' : JSON.stringify(run.output), run_error: null };
}

/** The secondary indexes of flowrun_runs (its primary key's excepted), as the migrations leave them. */
const SECONDARY_RUN_INDEXES = ['flowrun_runs_start', 'flowrun_runs_end', 'flowrun_runs_flow_start', 'flowrun_runs_status_start', 'flowrun_runs_root_start', 'flowrun_runs_claimable', 'flowrun_runs_waiting_event', 'flowrun_runs_due', 'flowrun_runs_parent_start', 'flowrun_runs_flow_status_start'];

/** A migrated, empty flowrun file opened with better-sqlite3 as the store opens it. */
async function freshDatabase(tempStore: 'FILE' | 'MEMORY'): Promise<Database.Database> {
  const path = join(mkdtempSync(join(tmpdir(), 'flowrun-bench-statements-')), 'flowrun.db');
  const store = createSqliteStore({ path });
  await store.listFlows(); // opens and migrates
  await store.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // the commits are not what is measured
  db.pragma(`temp_store = ${tempStore}`);
  return db;
}

/** µs per run INSERT, `count` runs in transactions of {@link BATCH}, each optionally in its own savepoint. */
async function insertCost(count: number, options: { returning: boolean; savepoint: boolean; tempStore: 'FILE' | 'MEMORY' }): Promise<number> {
  const db = await freshDatabase(options.tempStore);
  const insert = db.prepare(options.returning ? `${INSERT_RUN_SQL} RETURNING *` : INSERT_RUN_SQL);
  let spent = 0;
  for (let done = 0; done < count; done += BATCH) {
    db.exec('BEGIN IMMEDIATE');
    for (let i = done; i < done + BATCH; i++) {
      const params = rowParams(sampleRun({ runId: `run-${String(i).padStart(8, '0')}`, startTime: 1_700_000_000_000 + i }), { updatedAt: 0, lastSeq: 1, lease: null });
      if (options.savepoint) db.exec('SAVEPOINT flowrun_op');
      const started = performance.now();
      if (options.returning) insert.get(params);
      else insert.run(params);
      spent += performance.now() - started;
      if (options.savepoint) db.exec('RELEASE flowrun_op');
    }
    db.exec('COMMIT');
  }
  db.close();
  return (1000 * spent) / count;
}

/** µs per `PRAGMA data_version` and per run-row read, each outside any transaction, over `count` runs. */
async function readCosts(count: number): Promise<{ dataVersion: number; runRow: number }> {
  const db = await freshDatabase('MEMORY');
  const insert = db.prepare(INSERT_RUN_SQL);
  db.transaction(() => {
    for (let i = 0; i < count; i++) insert.run(rowParams(sampleRun({ runId: `run-${i}` }), { updatedAt: 0, lastSeq: 1, lease: null }));
  })();
  const dataVersion = db.prepare('PRAGMA data_version');
  const runRow = db.prepare('SELECT * FROM flowrun_runs WHERE run_id = ?');
  const time = (work: (i: number) => void): number => {
    for (let i = 0; i < 1000; i++) work(i % count); // warm-up
    const started = performance.now();
    for (let i = 0; i < count; i++) work(i);
    return (1000 * (performance.now() - started)) / count;
  };
  const figures = { dataVersion: time(() => dataVersion.get()), runRow: time((i) => runRow.get(`run-${i}`)) };
  db.close();
  return figures;
}

/**
 * What the store writes for one `POST /runs` of bench/http.ts's one-step flow, per run, as its
 * statements (bench/http.ts measures them inside the whole server): the run's INSERT, already
 * SUCCEEDED (its flow ends within its start: run-creation.ts), with its five events, in its
 * savepoint, 32 runs per transaction, COMMIT without fsync (synchronous=NORMAL: the fsync is not what is compared). `dropIndexes` are dropped
 * first, to see what the secondary indexes cost. CPU µs and WAL bytes per run.
 */
async function startWritesCost(count: number, dropIndexes: readonly string[]): Promise<{ cpuUs: number; walBytes: number }> {
  const db = await freshDatabase('MEMORY');
  db.pragma('wal_autocheckpoint = 0');
  for (const index of dropIndexes) db.exec(`DROP INDEX ${index}`);
  const insert = db.prepare(INSERT_RUN_SQL);
  const events = (n: number) => db.prepare(`INSERT INTO flowrun_run_events (run_id, seq, kind, time, body) VALUES ${Array(n).fill('(?, ?, ?, ?, ?)').join(', ')}`);
  const fiveEvents = events(5);
  const [begin, commit, savepoint, release] = ['BEGIN IMMEDIATE', 'COMMIT', 'SAVEPOINT flowrun_op', 'RELEASE flowrun_op'].map((sql) => db.prepare(sql));
  const body = JSON.stringify({ kind: 'log', entry: { time: 1_700_000_000_000, code: 'StepSucceeded', description: 'step done succeeded', details: { stepId: 'done', stepType: 'COMPUTE', graph: 'action:main' } } });
  const batch = 32;
  const ids = Array.from({ length: count }, (_, i) => `0190${String(i).padStart(8, '0')}-aaaa-7bbb-8ccc-dddddddddddd`);
  const walBefore = statSync(`${db.name}-wal`).size;
  const from = process.cpuUsage();
  for (let done = 0; done <= count; done += batch) {
    begin!.run();
    // Its one-step flow ends within the start: each run is created already SUCCEEDED, with its five events (run-creation.ts).
    for (let i = done; i < Math.min(done + batch, count); i++) {
      savepoint!.run();
      const at = 1_700_000_000_000 + i;
      insert.run(rowParams(sampleRun({ runId: ids[i]!, flowId: 'bench/start', status: 'SUCCEEDED', startTime: at, readyAt: null, endTime: at, output: { n: 1 } }), { updatedAt: at, lastSeq: 5, lease: null }));
      fiveEvents.run(ids[i], 1, 'status', at, body, ids[i], 2, 'log', at, body, ids[i], 3, 'log', at, body, ids[i], 4, 'log', at, body, ids[i], 5, 'status', at, body);
      release!.run();
    }
    commit!.run();
  }
  const used = process.cpuUsage(from);
  const walBytes = statSync(`${db.name}-wal`).size - walBefore;
  db.close();
  return { cpuUs: (used.user + used.system) / count, walBytes: walBytes / count };
}

/** The table of statement costs (µs each, and the ratios the store's choices rest on). */
export async function benchSqliteStatements(options: { quick: boolean }): Promise<string> {
  const count = options.quick ? 10_000 : 30_000;
  const plain = await insertCost(count, { returning: false, savepoint: false, tempStore: 'MEMORY' });
  const returning = await insertCost(count, { returning: true, savepoint: false, tempStore: 'MEMORY' });
  const savepointFile = await insertCost(count, { returning: false, savepoint: true, tempStore: 'FILE' });
  const savepointMemory = await insertCost(count, { returning: false, savepoint: true, tempStore: 'MEMORY' });
  const reads = await readCosts(count);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}×`;
  const allIndexes = await startWritesCost(count, []);
  const withoutTwo = await startWritesCost(count, ['flowrun_runs_flow_start', 'flowrun_runs_status_start']);
  const withoutAny = await startWritesCost(count, SECONDARY_RUN_INDEXES);
  const writes = (w: { cpuUs: number; walBytes: number }): string => `${fmt(w.cpuUs)} µs CPU, ${fmt(w.walBytes)} B of WAL`;
  return (
    markdownTable(
      ['statement', 'µs each', 'against'],
      [
        ['run INSERT, no RETURNING (what the store does)', fmt(plain), '–'],
        ['run INSERT … RETURNING *', fmt(returning), `${ratio(returning, plain)} the plain INSERT`],
        ['run INSERT in a savepoint, statement journal in a temporary file (SQLite default)', fmt(savepointFile), `${ratio(savepointFile, savepointMemory)} in memory`],
        ['run INSERT in a savepoint, statement journal in memory (what the store does)', fmt(savepointMemory), '–'],
        ['PRAGMA data_version, outside a transaction (a cached read checks this)', fmt(reads.dataVersion), '–'],
        ['SELECT * of a run row by id, outside a transaction (a cache hit skips this)', fmt(reads.runRow), `${ratio(reads.runRow, reads.dataVersion)} the check`],
        ['a POST /runs\'s writes per run (one INSERT of the run already ended + its 5 events, in a savepoint; COMMIT without fsync), every index', writes(allIndexes), '–'],
        ['the same without flowrun_runs_flow_start and flowrun_runs_status_start', writes(withoutTwo), `${ratio(withoutTwo.cpuUs, allIndexes.cpuUs)} the CPU`],
        ['the same without any secondary index of flowrun_runs (the floor of this row format)', writes(withoutAny), `${ratio(withoutAny.cpuUs, allIndexes.cpuUs)} the CPU`],
      ],
    ) + `\n\n${count} runs per INSERT figure, in transactions of ${BATCH}, into a fresh flowrun file (WAL); the same rows read back one by one for the read figures. A POST's writes: 32 runs created already ended per transaction, as a loaded server does; WAL bytes before any checkpoint.`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchSqliteStatements({ quick: readOptions(process.argv.slice(2)).has('quick') }));
}
