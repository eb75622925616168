/**
 * The WAL is checkpointed by a worker thread, not by the commits of the event loop: while a store
 * writes, the worker copies the log into the database file, the store's own connection only
 * checkpoints past a safety net, and closing the store leaves one file with every write in it.
 */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openSqliteDatabase } from './open-sqlite-database.js';
import { SqliteConnection } from './sqlite-connection.js';
import { SqliteStore } from './sqlite-store.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { sampleRun } from '../store.conformance.js';

const autocheckpoint = (connection: SqliteConnection): number => connection.db.pragma('wal_autocheckpoint', { simple: true }) as number;

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const ends = Date.now() + ms;
  while (!check()) {
    if (Date.now() > ends) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('WalCheckpointer', () => {
  it('copies the log into the database file from its worker while commits go on; the connection checkpoints itself only past the safety net, and as SQLite does again once closed', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'flowrun-ckpt-')), 'c.db');
    const connection = new SqliteConnection(await openSqliteDatabase({ path, synchronous: 'FULL', busyTimeoutMs: 1000 }));
    connection.db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY, body TEXT)');
    const checkpointer = WalCheckpointer.forConnection(connection, path, 'FULL')!;
    expect(autocheckpoint(connection)).toBe(1000);
    const insert = connection.db.prepare('INSERT INTO t (n, body) VALUES (?, ?)');
    const body = 'x'.repeat(3000);
    // Commits for well over the interval, each a page or more, as a store's do.
    const ends = Date.now() + 600;
    for (let n = 0; Date.now() < ends; n++) {
      connection.db.transaction(() => insert.run(n, body))();
      checkpointer.committed();
      if (n % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await until(() => checkpointer.stats.checkpoints >= 2);
    // The worker runs the checkpoints; the store's own connection waits for the safety net.
    expect(autocheckpoint(connection)).toBe(10_000);
    expect(checkpointer.stats.lastCheckpointedPages).toBeGreaterThan(0);
    // What the worker copied is in the database file itself, which grew with it.
    expect(statSync(path).size).toBeGreaterThan(100 * 3000);
    await checkpointer.close();
    expect(autocheckpoint(connection)).toBe(1000);
    const rows = (connection.db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
    connection.db.close();
    // Closed last, the connection checkpointed the rest and removed the log: every row is in the one file.
    expect(existsSync(`${path}-wal`)).toBe(false);
    const reopened = new Database(path, { readonly: true });
    expect((reopened.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(rows);
    reopened.close();
  });

  it('has nothing to do for a database without a WAL file of its own', () => {
    const connection = new SqliteConnection(new Database(':memory:'));
    expect(WalCheckpointer.forConnection(connection, ':memory:', 'FULL')).toBeNull();
    connection.db.close();
  });

  it('a store that wrote for a while closes into one file holding every run, its worker gone', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'flowrun-ckpt-store-')), 'flowrun.db');
    const store = new SqliteStore({ path });
    await store.saveFlowVersion({ definition: { id: 'f', actions: { main: { startAt: 'a', steps: { a: { stepType: 'SUCCEED' } } } } }, deployedBy: 'u', at: 1 });
    const ends = Date.now() + 400;
    let n = 0;
    while (Date.now() < ends) {
      await Promise.all(Array.from({ length: 16 }, () => store.createRun({ run: sampleRun({ runId: `r-${n++}` }), events: [{ kind: 'status', status: 'ACTIVE' }] })));
    }
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const db = new Database(path, { readonly: true });
    expect((db.prepare('SELECT count(*) AS n FROM flowrun_runs').get() as { n: number }).n).toBe(n);
    db.close();
  });
});
