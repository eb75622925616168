/**
 * What the disk allows, measured on the benchmark's temp folder in the same run as the figures it
 * bounds: the latency of an fdatasync after a 4 KiB append and after a 4 KiB overwrite in place
 * (SQLite's reused WAL is the cheaper case), and SQLite's rate of one-row commits in WAL mode at
 * synchronous=FULL (flowrun's default: one fsync per commit) and NORMAL (none). A durable engine
 * at concurrency 1 cannot commit faster than the FULL rate without batching commits.
 */
import Database from 'better-sqlite3';
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, markdownTable, percentile } from './measure.js';

/** The limits, as figures. */
export interface DiskLimits {
  fdatasyncAppendUs: { p50: number; p99: number };
  fdatasyncOverwriteUs: { p50: number; p99: number };
  sqliteCommitsPerS: { FULL: number; NORMAL: number };
}

/** Measures the limits (`syncs` fdatasyncs of each kind, `commitMs` of commits per level). */
export function measureDiskLimits(options: { syncs: number; commitMs: number }): DiskLimits {
  const dir = mkdtempSync(join(tmpdir(), 'flowrun-limits-'));
  try {
    const fd = openSync(join(dir, 'f'), 'w');
    const block = Buffer.alloc(4096, 1);
    const timeSync = (write: (k: number) => void): { p50: number; p99: number } => {
      const us = new Float64Array(options.syncs);
      for (let k = 0; k < options.syncs; k++) {
        write(k);
        const a = performance.now();
        fdatasyncSync(fd);
        us[k] = (performance.now() - a) * 1000;
      }
      us.sort();
      return { p50: percentile(us, 50), p99: percentile(us, 99) };
    };
    const append = timeSync(() => writeSync(fd, block));
    const overwrite = timeSync((k) => writeSync(fd, block, 0, block.length, (k % 16) * block.length));
    closeSync(fd);
    const commits = (level: 'FULL' | 'NORMAL'): number => {
      const db = new Database(join(dir, `${level}.db`));
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${level}`);
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      const row = 'x'.repeat(200);
      for (let k = 0; k < 200; k++) insert.run(row);
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < options.commitMs) {
        insert.run(row);
        n++;
      }
      const rate = n / ((performance.now() - t0) / 1000);
      db.close();
      return rate;
    };
    return { fdatasyncAppendUs: append, fdatasyncOverwriteUs: overwrite, sqliteCommitsPerS: { FULL: commits('FULL'), NORMAL: commits('NORMAL') } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The limits as a one-row markdown table. */
export function diskLimitsTable(limits: DiskLimits): string {
  return markdownTable(
    ['fdatasync after 4 KiB append µs p50 / p99', 'fdatasync after 4 KiB overwrite µs p50 / p99', 'SQLite one-row commits/s, WAL FULL', 'SQLite one-row commits/s, WAL NORMAL'],
    [
      [
        `${fmt(limits.fdatasyncAppendUs.p50)} / ${fmt(limits.fdatasyncAppendUs.p99)}`,
        `${fmt(limits.fdatasyncOverwriteUs.p50)} / ${fmt(limits.fdatasyncOverwriteUs.p99)}`,
        fmt(limits.sqliteCommitsPerS.FULL),
        fmt(limits.sqliteCommitsPerS.NORMAL),
      ],
    ],
  );
}
