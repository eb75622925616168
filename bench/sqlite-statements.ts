/**
 * What single SQLite statements cost on flowrun's schema, for the choices the store makes:
 *
 * - a run's INSERT with and without `RETURNING *` (the store writes without it);
 * - that INSERT inside a savepoint (every write of the group-commit queue runs in one) with the
 *   statement journal in a temporary file (SQLite's default) and in memory (`temp_store = MEMORY`);
 * - outside a transaction: `PRAGMA data_version` (the check behind every cached read) against
 *   reading a run row (what a cache hit saves).
 *
 * Each figure is µs per statement, measured over the same rows in the same process; the ratios
 * are what to compare across machines.
 *
 *   node --import tsx bench/sqlite-statements.ts [--quick]      (or: npm run bench -- --only statements)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../src/index.js';
import { INSERT_RUN_SQL, newRunParams } from '../src/store/sqlite/run-rows.js';
import { sampleRun } from '../src/store/store.conformance.js';
import { fmt, markdownTable, readOptions } from './measure.js';

const BATCH = 64;

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
      const params = newRunParams(sampleRun({ runId: `run-${String(i).padStart(8, '0')}`, startTime: 1_700_000_000_000 + i }), { updatedAt: 0, lastSeq: 1, lease: null });
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
    for (let i = 0; i < count; i++) insert.run(newRunParams(sampleRun({ runId: `run-${i}` }), { updatedAt: 0, lastSeq: 1, lease: null }));
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

/** The table of statement costs (µs each, and the ratios the store's choices rest on). */
export async function benchSqliteStatements(options: { quick: boolean }): Promise<string> {
  const count = options.quick ? 10_000 : 30_000;
  const plain = await insertCost(count, { returning: false, savepoint: false, tempStore: 'MEMORY' });
  const returning = await insertCost(count, { returning: true, savepoint: false, tempStore: 'MEMORY' });
  const savepointFile = await insertCost(count, { returning: false, savepoint: true, tempStore: 'FILE' });
  const savepointMemory = await insertCost(count, { returning: false, savepoint: true, tempStore: 'MEMORY' });
  const reads = await readCosts(count);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(1)}×`;
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
      ],
    ) + `\n\n${count} runs per INSERT figure, in transactions of ${BATCH}, into a fresh flowrun file (WAL); the same rows read back one by one for the read figures.`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchSqliteStatements({ quick: readOptions(process.argv.slice(2)).has('quick') }));
}
