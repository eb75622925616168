/**
 * The single-commit limit of SQLite on a given disk (issue 13): how many one-row transactions per
 * second better-sqlite3 commits in a loop with WAL and synchronous=FULL — every commit waits for
 * its fsync, nothing is shared. A store that group-commits beats it by sharing fsyncs; a store
 * that commits once per step cannot. Measured beside a workload, in the same process and
 * directory, so both see the same disk at the same moment of a shared machine.
 *
 *   node --import tsx bench/commit-limit.ts [DIR] [SECONDS]    → one JSON line
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';

/** One measurement of {@link measureCommitLimit}. */
export interface CommitLimit {
  /** One-row commits per second (WAL, synchronous=FULL). */
  commitsPerSecond: number;
  /** Commits made in the measured interval (after a warm-up of 200). */
  commits: number;
  /** Length of the measured interval. */
  seconds: number;
}

/**
 * Commits one 200-byte row per transaction for `seconds` (after 200 unmeasured ones) in a fresh
 * database under `dir` (deleted afterwards); synchronous, so nothing else runs on this thread meanwhile.
 */
export function measureCommitLimit(options: { dir: string; seconds: number }): CommitLimit {
  // The driver flowrun itself loads (a dependency of the root package).
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
  const folder = mkdtempSync(join(options.dir, 'commit-limit-'));
  try {
    const db = new Database(join(folder, 'limit.db'));
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      const row = 'x'.repeat(200);
      for (let i = 0; i < 200; i++) insert.run(row);
      const started = performance.now();
      const until = started + options.seconds * 1000;
      let commits = 0;
      // Each autocommit INSERT is one transaction: one WAL append and its fsync.
      while (performance.now() < until) {
        insert.run(row);
        commits++;
      }
      const seconds = (performance.now() - started) / 1000;
      return { commitsPerSecond: Math.round(commits / seconds), commits, seconds: Math.round(seconds * 1000) / 1000 };
    } finally {
      db.close();
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir = 'bench/out', seconds = '2'] = process.argv.slice(2);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  process.stdout.write(`${JSON.stringify(measureCommitLimit({ dir, seconds: Number(seconds) }))}\n`);
}
