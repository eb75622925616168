/**
 * Checkpoints a SQLite write-ahead log from a worker thread, so the event loop never does it.
 *
 * SQLite checkpoints inside the COMMIT that finds the WAL past `wal_autocheckpoint` pages (1,000
 * by default): that commit copies the log's pages into the database file and, with synchronous
 * FULL or NORMAL, fsyncs both files, on the thread that committed — the event loop, for ~5–10 ms
 * every few hundred commits under load (bench/http.ts). Here the store's own connection waits
 * until the log holds {@link SAFETY_NET_PAGES}, and a worker with a connection of its own runs a
 * PASSIVE checkpoint (which never waits for, nor blocks, writers and readers) after commits, at
 * most one at a time and one every {@link INTERVAL_MS}.
 *
 * Guarantees: nothing here decides what is durable. A checkpoint copies only committed frames and
 * syncs the log before it copies (SQLite does so whatever the connection); a crash at any point
 * leaves the log to replay. Should the worker fail or stop, the store's connection checkpoints as
 * SQLite does by default again. Other processes on the file keep their own settings.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SqliteConnection } from './sqlite-connection.js';

/** Most time between two checkpoints asked for while commits go on, ms. */
const INTERVAL_MS = 100;
/** The store's own connection checkpoints past this many log pages (~40 MB): only when the worker falls behind or is gone. */
const SAFETY_NET_PAGES = 10_000;
/** SQLite's default `wal_autocheckpoint`, set back when the worker stops. */
const SQLITE_DEFAULT_PAGES = 1_000;

/**
 * The worker: one connection to the file, a PASSIVE checkpoint per message. CommonJS run from a
 * string (`eval`), so it needs no file of its own next to the compiled sources and no loader
 * under tests; the driver is the one the store loaded, by its resolved path.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  let result;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    result = { ok: true, busy: row.busy, log: row.log, checkpointed: row.checkpointed };
  } catch (error) {
    result = { ok: false, message: String(error && error.message || error) };
  }
  parentPort.postMessage(result);
});
`;

/** What one checkpoint did (`PRAGMA wal_checkpoint`'s row), or why it failed. */
type CheckpointResult = { ok: true; busy: number; log: number; checkpointed: number } | { ok: false; message: string };

/** Counters of a {@link WalCheckpointer}. */
export interface WalCheckpointStats {
  /** Checkpoints the worker ran. */
  checkpoints: number;
  /** Pages of the log at the last one, and how many of them it copied. */
  lastLogPages: number;
  lastCheckpointedPages: number;
}

/** One database file's checkpoints, run by a worker thread; see the module comment. */
export class WalCheckpointer {
  /** Started with the first checkpoint asked for: a store that commits for less than {@link INTERVAL_MS} never starts one. */
  #worker: Worker | null = null;
  readonly #connection: SqliteConnection;
  readonly #workerData: { driver: string; path: string; synchronous: 'FULL' | 'NORMAL' };
  #running = false;
  #lastAskedAt = performance.now();
  #stopped = false;
  #closed: Promise<void> | null = null;
  readonly #stats: WalCheckpointStats = { checkpoints: 0, lastLogPages: 0, lastCheckpointedPages: 0 };

  private constructor(connection: SqliteConnection, path: string, synchronous: 'FULL' | 'NORMAL') {
    this.#connection = connection;
    // One of the two words only: it becomes part of a PRAGMA in the worker.
    this.#workerData = { driver: createRequire(import.meta.url).resolve('better-sqlite3'), path: resolve(path), synchronous: synchronous === 'NORMAL' ? 'NORMAL' : 'FULL' };
  }

  /**
   * A checkpointer for the open connection `connection` to the file at `path`, which hands its
   * checkpoints over once the worker started; null when the file has no WAL of its own (`:memory:`, a `file:` URI).
   */
  static forConnection(connection: SqliteConnection, path: string, synchronous: 'FULL' | 'NORMAL'): WalCheckpointer | null {
    if (path === ':memory:' || path === '' || path.startsWith('file:')) return null;
    return new WalCheckpointer(connection, path, synchronous);
  }

  get stats(): WalCheckpointStats {
    return { ...this.#stats };
  }

  /** A transaction of the store committed: asks for a checkpoint when none runs and the last was asked for {@link INTERVAL_MS} ago. Never throws. */
  committed(): void {
    if (this.#running || this.#stopped) return;
    const now = performance.now();
    if (now - this.#lastAskedAt < INTERVAL_MS) return;
    this.#lastAskedAt = now;
    try {
      this.#started().postMessage('checkpoint');
      this.#running = true;
    } catch {
      // No worker (the process may not start another thread): the store's connection checkpoints
      // as SQLite does. Never an error of the commit that asked.
      this.#stop();
    }
  }

  #started(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.#workerData });
    // Never what keeps a process alive: a store left open does not hold its process.
    worker.unref();
    worker.on('message', (result: CheckpointResult) => this.#finished(result));
    worker.on('error', () => this.#stop());
    worker.on('exit', () => this.#stop());
    this.#connection.db.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
    return (this.#worker = worker);
  }

  /** Waits for a running checkpoint, then closes the worker's connection; the store's connection checkpoints as SQLite does again. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const worker = this.#worker;
      if (worker && !this.#stopped) {
        const exited = new Promise<void>((done) => worker.once('exit', () => done()));
        // Held now: a process whose last work is closing its store stays until the worker is gone.
        worker.ref();
        worker.postMessage('close');
        await exited;
      }
      this.#stop();
    })();
    return this.#closed;
  }

  #finished(result: CheckpointResult): void {
    this.#running = false;
    if (!result.ok) {
      // The file is gone or unreadable to the worker: the store's connection checkpoints again.
      void this.#worker?.terminate();
      this.#stop();
      return;
    }
    this.#stats.checkpoints++;
    this.#stats.lastLogPages = result.log;
    this.#stats.lastCheckpointedPages = result.checkpointed;
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      this.#connection.db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_PAGES}`);
    } catch {
      // The connection is closed already: nothing to checkpoint on it.
    }
  }
}
