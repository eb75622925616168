/**
 * Checkpoints a SQLite WAL from a worker thread. A checkpoint copies the WAL's pages into the
 * database file and fsyncs both; run by SQLite inside the COMMIT that crosses
 * `wal_autocheckpoint` (1,000 pages), it holds the event loop for those fsyncs — milliseconds to
 * tens of milliseconds on a busy disk, the longest pause of a group commit once the commit's own
 * fsync left the loop (wal-sync.ts).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL size from which a store starts the worker (~256 pages): a store that writes little keeps
 * SQLite's own checkpoints and no thread.
 */
const START_AT_WAL_BYTES = 1024 * 1024;
/**
 * Write operations (transitions, run creations) between two checkpoints: ~3 WAL pages each, so
 * about SQLite's own cadence of 1,000 pages whether they come one per commit or 64 per group
 * commit. Checkpointing more often costs more: a page that every commit rewrites (an index's root,
 * a busy run's row) is copied, and the database fsynced, once per checkpoint.
 */
const CHECKPOINT_EVERY_OPERATIONS = 256;
/**
 * SQLite's automatic checkpoint of the store's own connection while the worker runs: a safety net
 * (~40 MB of WAL at 4 KiB pages), against SQLite's default of 1,000 pages. The WAL starts over
 * only when a write transaction begins after a checkpoint copied all of it; under a steady stream
 * of commits the worker's checkpoint is often overtaken by the next one, so the WAL grows until
 * a lull — or until this checkpoint on the event loop, which then finds most of it copied (and
 * the database synced by the worker's last complete pass) and costs little more than its fsyncs.
 */
const WORKER_AUTO_CHECKPOINT_PAGES = 10_000;
/** SQLite's default `wal_autocheckpoint`, restored when the worker fails. */
const DEFAULT_AUTO_CHECKPOINT_PAGES = 1000;

// Plain CommonJS, evaluated by the worker: no loader (tsx, vitest) needed in the thread.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
// A checkpoint at FULL or NORMAL fsyncs the WAL before copying it and the database before the WAL
// may be written over; OFF would not.
db.pragma('synchronous = FULL');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  let error = null;
  try {
    // A pass that a commit overtook copied the WAL but not to its end: it did not fsync the
    // database, and the WAL cannot start over. Another pass has only that commit to copy.
    for (let pass = 0; pass < 4; pass++) {
      const [result] = db.pragma('wal_checkpoint(PASSIVE)');
      if (!result || result.log <= 0 || result.checkpointed >= result.log) break;
    }
  } catch (caught) {
    error = String((caught && caught.message) || caught);
  }
  parentPort.postMessage({ error });
});
`;

/**
 * Runs PASSIVE checkpoints of one database file on a connection of its own in a worker thread,
 * every {@link CHECKPOINT_EVERY_OPERATIONS} write operations of a busy store (one at a time), so
 * SQLite's automatic checkpoint (kept as a
 * safety net, at {@link WORKER_AUTO_CHECKPOINT_PAGES}) rarely comes due inside a COMMIT on the event loop.
 *
 * Guarantees: a PASSIVE checkpoint never blocks or fails a writer or a reader, and with
 * synchronous=FULL it writes the WAL into the database only after fsyncing the WAL, and lets the
 * WAL be reused only after fsyncing the database, so it never makes a commit less durable. If the
 * worker cannot start or fails, nothing is lost: SQLite's own checkpoint takes over at its default.
 */
export class WalCheckpointer {
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  readonly #setAutoCheckpoint: (pages: number) => void;
  #worker: Worker | null = null;
  #exited: Promise<void> = Promise.resolve();
  #isBroken = false;
  #isRunning = false;
  #checkpoints = 0;
  #operationsAtLastCheckpoint = 0;

  /**
   * `setAutoCheckpoint` sets `wal_autocheckpoint` on the store's connection; it is called between
   * two transactions of that connection.
   */
  constructor(options: { path: string; busyTimeoutMs: number; setAutoCheckpoint: (pages: number) => void }) {
    this.#path = options.path;
    this.#busyTimeoutMs = options.busyTimeoutMs;
    this.#setAutoCheckpoint = options.setAutoCheckpoint;
  }

  /** Checkpoints the worker finished. */
  get checkpoints(): number {
    return this.#checkpoints;
  }

  /**
   * Takes note of a durable commit of the store's connection (call it between transactions): the
   * WAL file is `walBytes` long, `operations` have committed since the store opened. Asks the
   * worker for a checkpoint when enough did since the last one and none runs.
   */
  noteCommit(input: { walBytes: number; operations: number }): void {
    if (this.#isBroken || this.#isRunning || (this.#worker === null && input.walBytes < START_AT_WAL_BYTES)) return;
    if (input.operations - this.#operationsAtLastCheckpoint < CHECKPOINT_EVERY_OPERATIONS) return;
    this.#operationsAtLastCheckpoint = input.operations;
    const worker = this.#start();
    if (!worker) return;
    this.#isRunning = true;
    worker.postMessage('checkpoint');
  }

  /** Stops the worker (after the checkpoint it runs, if any) and closes its connection. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = null;
    this.#isBroken = true;
    if (!worker) return;
    // Held until it exited: an unreferenced worker would let the process exit with close() pending.
    worker.ref();
    worker.postMessage('close');
    await this.#exited;
  }

  #start(): Worker | null {
    if (this.#worker) return this.#worker;
    try {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { driver, path: this.#path, busyTimeoutMs: this.#busyTimeoutMs },
        // It allocates next to nothing; small heaps keep a store's thread to a few MB of memory.
        resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
      });
      // Never what keeps a process alive: its connection closes with the process like any other.
      worker.unref();
      this.#exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.on('message', (reply: { error: string | null }) => {
        this.#isRunning = false;
        if (reply.error === null) this.#checkpoints++;
      });
      worker.on('error', () => {
        this.#isBroken = true;
        this.#isRunning = false;
        this.#setAutoCheckpoint(DEFAULT_AUTO_CHECKPOINT_PAGES);
      });
      this.#worker = worker;
      this.#setAutoCheckpoint(WORKER_AUTO_CHECKPOINT_PAGES);
      return worker;
    } catch {
      this.#isBroken = true;
      return null;
    }
  }
}
