/**
 * Group commit under a burst of writes (issue 12): one transaction takes operations only until
 * they took `maxBatchMs`, the rest commit next in queue order, the writes of several lanes (run
 * trees) are taken in turns, and the event loop gets a turn between two transactions, so requests
 * are served while a fork bomb writes. Time is a counter
 * the operations advance, never the wall clock.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { OffLoopSync } from './commit-durability.js';
import { GroupCommitQueue } from './group-commit-queue.js';
import { SqliteConnection } from './sqlite-connection.js';

const opened: Database.Database[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

function setup(options: { maxBatch: number; maxBatchMs?: number; minBatch?: number; now?: () => number; offLoopSync?: OffLoopSync }) {
  const path = join(mkdtempSync(join(tmpdir(), 'flowrun-gcq-')), 'q.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY)');
  const reader = new Database(path, { readonly: true });
  opened.push(db, reader);
  const connection = new SqliteConnection(db);
  const queue = new GroupCommitQueue({ connection: async () => connection, path, busyRetries: 0, busyBackoffMs: 1, ...options });
  const committed = (): number[] => (reader.prepare('SELECT n FROM t ORDER BY n').all() as { n: number }[]).map((row) => row.n);
  return { queue, committed };
}

describe('GroupCommitQueue', () => {
  it('ends a transaction once its operations took maxBatchMs; the rest commit next, in queue order, each settling after its own commit', async () => {
    let clock = 0;
    const { queue, committed } = setup({ maxBatch: 100, maxBatchMs: 3, minBatch: 1, now: () => clock });
    const seenAtSettle: number[][] = [];
    const writes = Array.from({ length: 7 }, (_, n) =>
      queue
        .enqueue((c) => {
          clock += 1;
          c.run('INSERT INTO t (n) VALUES (?)', [n]);
          return n;
        })
        .then((value) => {
          seenAtSettle[value] = committed();
          return value;
        }),
    );
    expect(await Promise.all(writes)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(queue.stats).toMatchObject({ commits: 3, operations: 7 });
    // Each write was visible to another connection when it settled: batches of 3, 3 and 1.
    expect(seenAtSettle.map((rows) => rows.length)).toEqual([3, 3, 3, 6, 6, 6, 7]);
    expect(committed()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('takes at least minBatch operations into a transaction, however long they take', async () => {
    let clock = 0;
    const { queue } = setup({ maxBatch: 100, maxBatchMs: 1, minBatch: 4, now: () => clock });
    const writes = Array.from({ length: 6 }, (_, n) =>
      queue.enqueue((c) => {
        clock += 10;
        c.run('INSERT INTO t (n) VALUES (?)', [n]);
      }),
    );
    await Promise.all(writes);
    expect(queue.stats).toMatchObject({ commits: 2, operations: 6 });
  });

  it('takes the writes of several lanes in turns, each lane in its order, so one write is not queued behind a whole burst', async () => {
    const { queue, committed } = setup({ maxBatch: 4 });
    const applied: string[] = [];
    const settled: string[] = [];
    const write = (lane: string, n: number) =>
      queue
        .enqueue(
          (c) => {
            applied.push(`${lane} ${n}`);
            c.run('INSERT INTO t (n) VALUES (?)', [lane === 'alice' ? 100 + n : n]);
          },
          { lane },
        )
        .then(() => void settled.push(`${lane} ${n}`));
    const writes = [0, 1, 2, 3, 4, 5].map((n) => write('bomb', n));
    writes.push(write('alice', 0));
    // A read waits for every write queued before it, whichever transaction took it.
    await queue.afterQueuedWrites();
    expect(settled).toHaveLength(7);
    await Promise.all(writes);
    expect(applied).toEqual(['bomb 0', 'alice 0', 'bomb 1', 'bomb 2', 'bomb 3', 'bomb 4', 'bomb 5']);
    expect(queue.stats).toMatchObject({ commits: 2, operations: 7 });
    expect(committed()).toEqual([0, 1, 2, 3, 4, 5, 100]);
  });

  it("commits a lane's lone write ahead of another lane's backlog, in a transaction of its own, unless that lane's last write was costly", async () => {
    let clock = 0;
    const { queue, committed } = setup({ maxBatch: 100, now: () => clock });
    const settled: string[] = [];
    const write = (lane: string, n: number, costMs = 0.1) =>
      queue
        .enqueue(
          (c) => {
            clock += costMs;
            c.run('INSERT INTO t (n) VALUES (?)', [n]);
          },
          { lane },
        )
        .then(() => void settled.push(`${lane} ${n}`));
    // A fork bomb's tree with 40 writes waiting, a hostile value's large write, a user's run.
    const writes = Array.from({ length: 40 }, (_, n) => write('bomb', n));
    writes.push(write('big', 1000, 20), write('alice', 2000));
    await Promise.all(writes);
    // Alice's write waited neither for the bomb's 40 writes nor for the large one (tried in her
    // transaction, undone, committed with the backlog's first transaction).
    expect(settled[0]).toBe('alice 2000');
    expect(settled.indexOf('big 1000')).toBeLessThan(settled.indexOf('bomb 39'));
    expect(committed()).toHaveLength(42);

    // The large write's lane is costly now: its next lone write waits with the backlog, alice's does not.
    settled.length = 0;
    const more = Array.from({ length: 40 }, (_, n) => write('bomb', 100 + n));
    more.push(write('big', 1001), write('alice', 2001));
    await Promise.all(more);
    expect(settled[0]).toBe('alice 2001');
    expect(settled[1]).toBe('bomb 100');
    expect(settled).toContain('big 1001');
  });

  it('gives a lane with a backlog every other transaction, however many light writes keep arriving', async () => {
    const { queue } = setup({ maxBatch: 100, minBatch: 4, maxBatchMs: 0 });
    const settled: string[] = [];
    const write = (lane: string, n: number): Promise<void> =>
      queue.enqueue((c) => c.run('INSERT INTO t (n) VALUES (?)', [n]), { lane }).then(() => void settled.push(`${lane} ${n}`));
    // A tree with 40 writes waiting; small runs that write again as soon as their last write settled.
    const tree = Array.from({ length: 40 }, (_, n) => write('tree', n));
    let next = 1000;
    const small = async (lane: string): Promise<void> => {
      while (settled.filter((s) => s.startsWith('tree')).length < 40) await write(lane, next++);
    };
    await Promise.all([...tree, ...['a', 'b', 'c', 'd', 'e'].map(small)]);
    // Every tree write committed (light transactions alone would have kept it waiting for ever),
    // in no more than twice the transactions the lanes' turns take without light ones.
    expect(settled.filter((s) => s.startsWith('tree'))).toHaveLength(40);
    expect(queue.stats.commits).toBeLessThanOrEqual(81);
  });

  it('lets the event loop run other callbacks between two transactions of one burst', async () => {
    const { queue } = setup({ maxBatch: 2 });
    const order: string[] = [];
    const writes = [0, 1, 2, 3].map((n) =>
      queue.enqueue((c) => {
        order.push(`write ${n}`);
        // Something else becomes due while the first transaction runs (a request, a timer).
        if (n === 0) setImmediate(() => order.push('other callback'));
        c.run('INSERT INTO t (n) VALUES (?)', [n]);
      }),
    );
    await Promise.all(writes);
    expect(order).toEqual(['write 0', 'write 1', 'other callback', 'write 2', 'write 3']);
  });

  describe('with a sync that makes commits durable off the event loop', () => {
    /** A sync the test finishes by hand, like an fdatasync still running in the thread pool. */
    function manualSync(chooseOffLoop: () => boolean = () => true) {
      const calls: { committedAtCall: number; finish: (error?: Error) => void }[] = [];
      const levels: string[] = [];
      let committed: () => number[] = () => [];
      const offLoopSync: OffLoopSync = {
        sync: () =>
          new Promise<void>((resolve, reject) => {
            calls.push({ committedAtCall: committed().length, finish: (error) => (error ? reject(error) : resolve()) });
          }),
        setCommitSyncs: (c, commitSyncs) => {
          const level = commitSyncs ? 'FULL' : 'NORMAL';
          c.db.pragma(`synchronous = ${level}`);
          levels.push(level);
        },
        policy: { chooseOffLoop, noteInline: () => {}, noteOffLoop: () => {} },
      };
      return { calls, levels, offLoopSync, watch: (read: () => number[]) => void (committed = read) };
    }

    const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

    it('settles a write only after the sync that began after its COMMIT finished, and begins no other transaction meanwhile', async () => {
      const manual = manualSync();
      const { queue, committed } = setup({ maxBatch: 100, offLoopSync: manual.offLoopSync });
      manual.watch(committed);
      const settled: number[] = [];
      const first = [0, 1].map((n) => queue.enqueue((c) => c.run('INSERT INTO t (n) VALUES (?)', [n])).then(() => void settled.push(n)));
      while (manual.calls.length === 0) await turn();
      // Committed (another connection sees it) and being synced, but not acknowledged yet.
      expect(manual.calls[0]!.committedAtCall).toBe(2);
      const later = queue.enqueue((c) => c.run('INSERT INTO t (n) VALUES (2)')).then(() => void settled.push(2));
      let readDone = false;
      const read = queue.afterQueuedWrites().then(() => (readDone = true));
      for (let i = 0; i < 5; i++) await turn();
      expect(settled).toEqual([]);
      expect(readDone).toBe(false);
      expect(queue.syncing).not.toBeNull();
      expect(committed()).toEqual([0, 1]);
      manual.calls[0]!.finish();
      await Promise.all(first);
      expect(settled).toEqual([0, 1]);
      while (manual.calls.length === 1) await turn();
      expect(committed()).toEqual([0, 1, 2]);
      expect(readDone).toBe(false);
      manual.calls[1]!.finish();
      await Promise.all([later, read]);
      expect(settled).toEqual([0, 1, 2]);
      expect(queue.syncing).toBeNull();
      expect(queue.stats.offLoopSyncs).toBe(2);
    });

    it('fails the batch whose sync failed and every write after it, as the disk may have dropped what it held', async () => {
      const manual = manualSync();
      const { queue } = setup({ maxBatch: 100, offLoopSync: manual.offLoopSync });
      const write = queue.enqueue((c) => c.run('INSERT INTO t (n) VALUES (0)'));
      while (manual.calls.length === 0) await turn();
      const queuedMeanwhile = queue.enqueue((c) => c.run('INSERT INTO t (n) VALUES (1)'));
      manual.calls[0]!.finish(new Error('EIO: i/o error, fdatasync'));
      await expect(write).rejects.toMatchObject({ code: 'STORE_ERROR', message: expect.stringContaining('EIO') });
      await expect(queuedMeanwhile).rejects.toMatchObject({ code: 'STORE_ERROR' });
      await expect(queue.enqueue((c) => c.run('INSERT INTO t (n) VALUES (2)'))).rejects.toMatchObject({ code: 'STORE_ERROR' });
      expect(manual.calls).toHaveLength(1);
    });

    it('lets COMMIT fsync itself (synchronous FULL) whenever the policy keeps the fsync on the loop, and never skips both', async () => {
      const choices = [false, true, true, false, false, true];
      const manual = manualSync(() => choices.shift()!);
      const { queue } = setup({ maxBatch: 100, offLoopSync: manual.offLoopSync });
      const seen: number[] = [];
      for (let n = 0; n < 6; n++) {
        let settled = false;
        const calls = manual.calls.length;
        const write = queue.enqueue((c) => c.get<{ synchronous: number }>('PRAGMA synchronous')!.synchronous).then((level) => {
          settled = true;
          seen.push(level);
        });
        while (!settled && manual.calls.length === calls) await turn();
        manual.calls[calls]?.finish();
        await write;
      }
      // Commits 1, 4 and 5 fsynced inside COMMIT (2 = FULL), 2, 3 and 6 through the sync (1 = NORMAL).
      expect(seen).toEqual([2, 1, 1, 2, 2, 1]);
      expect(manual.levels).toEqual(['FULL', 'NORMAL', 'FULL', 'NORMAL']);
      expect(manual.calls).toHaveLength(3);
      expect(queue.stats).toMatchObject({ commits: 6, offLoopSyncs: 3 });
    });

    it('ends its syncing state when a light transaction off the loop committed nothing (its large write undone), even if every later commit fsyncs itself', async () => {
      const choices = [true];
      const manual = manualSync(() => choices.shift() ?? false);
      let clock = 0;
      const { queue, committed } = setup({ maxBatch: 10, offLoopSync: manual.offLoopSync, now: () => clock });
      const write = (lane: string, n: number, costMs = 0.1) =>
        queue.enqueue(
          (c) => {
            clock += costMs;
            c.run('INSERT INTO t (n) VALUES (?)', [n]);
          },
          { lane },
        );
      const writes = Array.from({ length: 20 }, (_, n) => write('bomb', n));
      writes.push(write('big', 1000, 20), write('alice', 2000));
      while (manual.calls.length === 0) await turn();
      manual.calls[0]!.finish();
      await Promise.all(writes);
      expect(committed()).toHaveLength(22);
      // A reader of committed data would otherwise wait for a sync that never comes.
      expect(queue.syncing).toBeNull();
    });

    it('makes a batch of 16 writes or more durable off the loop even when the policy would keep the fsync on it', async () => {
      const manual = manualSync(() => false);
      const { queue, committed } = setup({ maxBatch: 100, offLoopSync: manual.offLoopSync });
      manual.watch(committed);
      const lone = queue.enqueue((c) => c.run('INSERT INTO t (n) VALUES (100)'));
      await lone;
      expect(manual.calls).toHaveLength(0);
      const settled: number[] = [];
      const writes = Array.from({ length: 16 }, (_, n) => queue.enqueue((c) => c.run('INSERT INTO t (n) VALUES (?)', [n])).then(() => void settled.push(n)));
      while (manual.calls.length === 0) await turn();
      expect(manual.calls[0]!.committedAtCall).toBe(17);
      for (let i = 0; i < 3; i++) await turn();
      expect(settled).toEqual([]);
      manual.calls[0]!.finish();
      await Promise.all(writes);
      expect(settled).toHaveLength(16);
      expect(queue.stats).toMatchObject({ commits: 2, offLoopSyncs: 1 });
    });
  });
});

