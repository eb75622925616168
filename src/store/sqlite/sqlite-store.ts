/**
 * The SQLite store: one database file in WAL mode, the embedded default. Several processes may
 * open the same file; SQLite's write lock serializes their writes, leases and fencing tokens
 * decide which of them executes a run. Writes go through group commit (group-commit-queue.ts).
 */
import { FlowError } from '../../core/errors.js';
import { CommitObservers, type CommitObserver } from '../../core/commit-observer.js';
import type { FlowDefinition, FlowVersionRecord } from '../../core/model.js';
import type { Item, LogEntry, NewRun, RunEvent, RunEventBody, RunRecord } from '../../core/run.js';
import type { ClaimSkip, ClaimedRun, FlowSummary, PendingEmit, RecordedRun, RunFilter, RunPage, RunTree, Store, StoreCapabilities, StoreChange, Transition, TransientChange } from '../../core/store.js';
import * as trees from './run-trees.js';
import * as flows from './flow-versions.js';
import { GroupCommitQueue, type WriteOperation } from './group-commit-queue.js';
import type { GroupCommitStats } from './group-commit-stats.js';
import { CommittedReadCache, CommittedState } from './committed-reads.js';
import { openSqliteDatabase } from './open-sqlite-database.js';
import { readableRunFromRow, runFromRow, type RunRow } from './run-rows.js';
import * as reads from './run-reads.js';
import { countLimit } from '../run-marker.js';
import * as writes from './run-writes.js';
import * as outbox from './pending-emits.js';
import { SqliteConnection } from './sqlite-connection.js';
import { SqlitePrincipalStore } from './sqlite-principal-store.js';
import type { PrincipalStore } from '../../core/principal-store.js';
import { SqliteScheduleStore } from './sqlite-schedule-store.js';
import type { ScheduleStore } from '../../core/schedule-store.js';
import { LiveChannel } from './live-channel.js';
import { WalSync } from './wal-sync.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { resolve } from 'node:path';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file; created with its directory's permissions when missing. */
  path: string;
  /** FULL (default): a resolved write survives power loss. NORMAL: survives a process crash, may lose the last commits on power loss; ~10x the commit rate. */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long SQLite blocks waiting for another process's write lock before reporting SQLITE_BUSY. Default 5000. */
  busyTimeoutMs?: number;
  /** Extra attempts after SQLITE_BUSY, with exponential backoff, before a write fails with STORE_ERROR. Default 3. */
  busyRetries?: number;
  /** First backoff after SQLITE_BUSY; doubles per attempt. Default 50. */
  busyBackoffMs?: number;
  /** Most write operations committed in one transaction. Default 256. */
  maxBatch?: number;
  /** How often `subscribe` looks for other processes' commits. Default 20 ms. */
  changePollMs?: number;
  /** Receives operational warnings (the side channel of transient changes is unavailable). Default console.warn. */
  onWarning?: (message: string) => void;
}

/**
 * A {@link Store} in one SQLite file.
 *
 * The file opens (and migrates) on first use, not on construction, so building the store is
 * synchronous and loading the native driver waits until a store is actually used. Every write is
 * one savepoint inside a shared transaction; its promise resolves only after that transaction
 * committed (with synchronous=FULL, after the WAL was fsynced — inside COMMIT, or in libuv's thread
 * pool while the event loop goes on when the disk is slow or the loop has other work:
 * commit-sync-policy.ts), so a crash never loses a write whose promise resolved and never shows
 * part of one. Reads through this store never see a write before it is durable; another process
 * reading the file may, for the duration of one off-loop fsync (what a process crash never loses;
 * a power cut in that window loses it together with every later commit, the WAL being replayed as
 * a prefix). A retried duplicate of the last transition
 * is a no-op; a write from a process whose lease was taken over fails with LEASE_LOST. A run read
 * again while nothing was committed since (by this store or any other connection) comes from
 * memory, parsed afresh (committed-reads.ts).
 */
export class SqliteStore implements Store {
  readonly name = 'sqlite';
  readonly capabilities: StoreCapabilities = { isShared: true, isDurable: true, hasNotifications: false, writesSmallStatesWhole: true };
  readonly path: string;
  readonly principals: PrincipalStore;
  readonly schedules: ScheduleStore;
  readonly #options: Required<Omit<SqliteStoreOptions, 'path' | 'changePollMs' | 'onWarning'>>;
  readonly #queue: GroupCommitQueue;
  readonly #commitObservers = new CommitObservers();
  /** With synchronous FULL on a file: fsyncs the WAL off the event loop when the queue asks. */
  readonly #walSync: WalSync | null;
  readonly #changePollMs: number;
  #connection: Promise<SqliteConnection> | null = null;
  /** Moves on every write of this store that changed rows: a run row read before a write is not served after it. */
  readonly #committed = new CommittedState();
  /** Run rows by id (a fresh record is parsed from the row on every read). */
  readonly #runRows = new CommittedReadCache<RunRow | null>({ maxEntries: 10_000, maxBytes: 16 * 1024 * 1024, sizeOf: rowSize });
  /** Cached rows that {@link readableRunFromRow} found readable. */
  readonly #readableRows = new WeakSet<RunRow>();
  /** The connection once open: reads then start without waiting on a settled promise. */
  #open: SqliteConnection | null = null;
  /** Checkpoints the WAL from a worker thread once the file is open (wal-checkpointer.ts); none in memory. */
  #checkpointer: WalCheckpointer | null = null;
  /** Transient changes to and from other processes over this file (live-channel.ts); none in memory. */
  readonly #live: LiveChannel | null;
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    if (typeof options.path !== 'string' || options.path === '') throw new FlowError('INVALID_INPUT', 'SqliteStore needs a file path (options.path)');
    this.path = options.path;
    this.#options = {
      synchronous: options.synchronous ?? 'FULL',
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      busyRetries: options.busyRetries ?? 3,
      busyBackoffMs: options.busyBackoffMs ?? 50,
      maxBatch: Math.max(1, options.maxBatch ?? 256),
    };
    this.#changePollMs = Math.max(5, options.changePollMs ?? 20);
    const inMemory = this.path === ':memory:' || this.path.startsWith('file:');
    this.#live = inMemory ? null : new LiveChannel({ databasePath: resolve(this.path), warn: options.onWarning ?? ((message) => console.warn(message)) });
    this.principals = new SqlitePrincipalStore({ write: (operation) => this.#write(operation), read: (query) => this.#read(query), readCommitted: (query) => this.#read(query, false) });
    this.schedules = new SqliteScheduleStore({ write: (operation) => this.#write(operation), read: (query) => this.#read(query) });
    const walSync = this.#options.synchronous === 'FULL' ? WalSync.forDatabase(this.path) : null;
    this.#walSync = walSync;
    this.#queue = new GroupCommitQueue({
      ...(walSync ? { offLoopSync: { sync: () => walSync.sync(), setCommitSyncs: (c: SqliteConnection, commitSyncs: boolean) => void c.run(commitSyncs ? 'PRAGMA synchronous = FULL' : 'PRAGMA synchronous = NORMAL') } } : {}),
      connection: () => this.#connect(),
      path: this.path,
      maxBatch: this.#options.maxBatch,
      busyRetries: this.#options.busyRetries,
      busyBackoffMs: this.#options.busyBackoffMs,
      observers: this.#commitObservers,
      committed: () => this.#checkpointer?.committed(),
    });
  }

  observeCommits(observer: CommitObserver): () => void {
    return this.#commitObservers.add(observer);
  }

  /** Commit counters: `commits` well below `operations` means group commit is sharing transactions. */
  get stats(): GroupCommitStats {
    return this.#queue.stats;
  }

  async saveFlowVersion(input: { definition: FlowDefinition; deployedBy: string; at: number }): Promise<FlowVersionRecord> {
    return this.#write((c) => flows.saveFlowVersion(c, input));
  }

  async publishFlowVersion(input: { flowId: string; version: number }): Promise<FlowVersionRecord> {
    return this.#write((c) => flows.publishFlowVersion(c, input));
  }

  /**
   * Reads what is committed now (and durable), not after the writes queued before it: a start
   * resolves its flow's selector here every second, and must not wait behind another run tree's
   * backlog of queued writes (a fork bomb's). A deploy answers only once its write settled, so
   * every version a caller was told of is seen.
   */
  async getFlowVersion(flowId: string, version: number | 'LATEST_PUBLISHED' | 'LATEST'): Promise<FlowVersionRecord | null> {
    return this.#read((c) => flows.getFlowVersion(c, flowId, version), false);
  }

  async listFlows(): Promise<FlowSummary[]> {
    return this.#read((c) => flows.listFlows(c));
  }

  /** All in one write (one savepoint, one commit): the group commit's per-write savepoints are most of a small run's creation. */
  createRuns(input: { runs: { run: NewRun; events: RunEventBody[] }[] }): Promise<('created' | 'exists')[]> {
    if (input.runs.length === 0) return Promise.resolve([]);
    return this.#write((c) => writes.createRootRuns(c, input.runs));
  }

  async createRun(input: { run: NewRun; events?: RunEventBody[]; lease?: { owner: string; expiresAt: number }; maxRunsPerTree?: number }): Promise<ClaimedRun | { run: RunRecord; lease: null }> {
    return this.#write((c) => writes.createRun(c, input), input.run.treeId);
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    return this.#read((c) => {
      const row = this.#runRows.read(this.#committed.generation(c), runId, () => writes.readRunRow(c, runId) ?? null);
      if (row === null) return null;
      // A cached row found readable once parses the same way again: its shape (and the depth of
      // its input and output, a walk of the whole value) is not checked on every read.
      if (this.#readableRows.has(row)) return runFromRow(row);
      const run = readableRunFromRow(row);
      if (!run.dataError) this.#readableRows.add(row);
      return run;
    });
  }

  /**
   * Moves on every write of this store (counted as it runs, before it commits) and every commit
   * another connection makes to the file (committed-reads.ts). Reads without waiting for queued writes.
   */
  async readGeneration(): Promise<number> {
    return this.#read((c) => this.#committed.generation(c), false);
  }

  /** The generation without a turn through a promise, when nothing is being made durable (a read then waits for that). */
  readGenerationNow(): number | undefined {
    const connection = this.#open;
    if (this.#closed || connection === null || this.#queue.syncing) return undefined;
    try {
      return this.#committed.generation(connection);
    } catch {
      return undefined; // readGeneration reports it
    }
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    return this.#read((c) => reads.listRuns(c, filter));
  }

  async countRuns(filter: RunFilter, options: { max?: number } = {}): Promise<number> {
    return this.#read((c) => reads.countRuns(c, filter, countLimit(options.max)));
  }

  async listEventWaiters(input: { event: string; after?: string; limit: number }): Promise<RunRecord[]> {
    return this.#read((c) => reads.listEventWaiters(c, input));
  }

  async claimRuns(input: { owner: string; limit: number; now: number; leaseExpiresAt: number; status?: 'ACTIVE' | 'INACTIVE'; skip?: ClaimSkip }): Promise<ClaimedRun[]> {
    return this.#write((c) => writes.claimRuns(c, input));
  }

  async claimRun(input: { runId: string; owner: string; now: number; leaseExpiresAt: number; status?: 'ACTIVE' | 'INACTIVE' }): Promise<ClaimedRun | null> {
    return this.#write((c) => writes.claimRun(c, input));
  }

  async renewLeases(input: { owner: string; runIds: string[]; expiresAt: number }): Promise<string[]> {
    return this.#write((c) => writes.renewLeases(c, input));
  }

  // Not async, nor is #write: the queue's promise is returned as it is (two async wrappers add four promises to every write).
  recordTransition(transition: Transition): Promise<RecordedRun> {
    return this.#write((c) => writes.recordTransition(c, transition), transition.treeId);
  }

  async cancelRun(input: { runId: string; at: number; events: RunEventBody[]; runError: { code: string; description: string }; wakeRuns?: string[] }): Promise<RunRecord | null> {
    return this.#write((c) => writes.cancelRun(c, input));
  }

  async markTreeCanceled(input: { treeId: string; at: number }): Promise<RunTree> {
    return this.#write((c) => trees.markTreeCanceled(c, input));
  }

  async getRunTree(treeId: string): Promise<RunTree | null> {
    return this.#read((c) => trees.getRunTree(c, treeId));
  }

  async updateRun(input: { runId: string; at: number; label?: string | null; tags?: string[] }): Promise<RunRecord> {
    return this.#write((c) => writes.updateRun(c, input));
  }

  async getRunEvents(runId: string, options: { afterSeq?: number; limit?: number; kinds?: RunEvent['kind'][] } = {}): Promise<RunEvent[]> {
    return this.#read((c) => reads.getRunEvents(c, runId, options));
  }

  async getRunLogs(runId: string, options: { limit?: number; offset?: number } = {}): Promise<{ entries: LogEntry[]; total: number }> {
    return this.#read((c) => reads.getRunLogs(c, runId, options));
  }

  async getRunItems(runId: string): Promise<Item[]> {
    return this.#read((c) => reads.getRunItems(c, runId));
  }

  async listPendingEmits(input: { recordedBefore: number; limit: number }): Promise<PendingEmit[]> {
    return this.#read((c) => outbox.listPendingEmits(c, input));
  }

  async deletePendingEmits(eventIds: string[]): Promise<void> {
    if (eventIds.length === 0) return;
    await this.#write((c) => outbox.deletePendingEmits(c, eventIds));
  }

  async getStoreSecret(): Promise<Uint8Array> {
    const fresh = globalThis.crypto.getRandomValues(new Uint8Array(32));
    return this.#write((c) => outbox.storeSecret(c, fresh));
  }

  async deleteEndedRuns(input: { endedBefore: number; limit: number }): Promise<number> {
    return this.#write((c) => writes.deleteEndedRuns(c, input));
  }

  /**
   * Notifies `listener` when another connection (another process) committed to the file, by
   * polling `PRAGMA data_version` every `changePollMs` — a read of a counter, no I/O. SQLite cannot
   * say which run changed, so the change names run `*`. Commits of this store itself are not
   * reported: the engine that made them publishes them already. Transient changes other
   * processes publish arrive through the side channel beside the file (live-channel.ts), from
   * the moment this resolves.
   */
  async subscribe(listener: (change: StoreChange) => void): Promise<() => Promise<void>> {
    this.#ensureOpen();
    const connection = await this.#connect();
    const stopLive = await this.#live?.listen((transient) => listener({ runId: transient.runId, lastSeq: transient.afterSeq, transient }));
    let last = connection.dataVersion();
    const timer = setInterval(() => {
      if (this.#closed) return;
      try {
        const now = connection.dataVersion();
        if (now !== last) {
          last = now;
          listener({ runId: '*', lastSeq: 0 });
        }
      } catch {
        // The file went away or is closing: watchers still poll the store itself.
      }
    }, this.#changePollMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await stopLive?.();
    };
  }

  /**
   * Sends a transient item change or output snapshot to the subscribers of other processes over
   * this file through the side channel beside it (live-channel.ts): at once, best effort, never
   * stored; nothing reaches a process that was not subscribed when it was sent.
   */
  async publishTransient(change: TransientChange): Promise<void> {
    this.#live?.publish(change);
  }

  /** Reads the schema version from the file (opening it if needed), without waiting for queued writes; STORE_ERROR when it cannot. */
  async ping(): Promise<void> {
    await this.#read((c) => c.db.prepare('SELECT version FROM flowrun_schema').get(), false);
  }

  /** Lets queued writes commit, then closes the file; later calls fail with STORE_ERROR. Closing twice is harmless. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#live?.close();
    await this.#queue.whenIdle();
    this.#walSync?.close();
    // Before the store's connection: closing the file's last connection checkpoints it whole.
    await this.#checkpointer?.close();
    this.#checkpointer = null;
    const opening = this.#connection;
    this.#connection = null;
    this.#open = null;
    if (!opening) return;
    try {
      (await opening).db.close();
    } catch {
      // It never opened: there is nothing to close.
    }
  }

  #ensureOpen(): void {
    if (this.#closed) throw new FlowError('STORE_ERROR', `the ${this.name} store at "${this.path}" is closed`);
  }

  #connect(): Promise<SqliteConnection> {
    this.#connection ??= openSqliteDatabase({ path: this.path, synchronous: this.#options.synchronous, busyTimeoutMs: this.#options.busyTimeoutMs }).then(
      (db) => {
        const connection = new SqliteConnection(db);
        this.#checkpointer = WalCheckpointer.forConnection(connection, this.path, this.#options.synchronous);
        return (this.#open = connection);
      },
      (error: unknown) => {
        // Forget the failure so a later call tries again (the file may have been fixed meanwhile).
        this.#connection = null;
        throw error;
      },
    );
    return this.#connection;
  }

  #write<T>(operation: WriteOperation<T>, lane?: string): Promise<T> {
    try {
      this.#ensureOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#queue.enqueue(
      (connection) => {
        // Noted before the write's promise resolves, in the same synchronous turn as the write.
        try {
          return operation(connection);
        } finally {
          this.#committed.noteWrite(connection);
        }
      },
      lane === undefined ? {} : { lane },
    );
  }

  /**
   * Runs a read on the connection. By default it first waits for the writes queued before it (a
   * store reads its own writes in call order); with `afterQueuedWrites` false it reads what is
   * committed now and durable: it waits for a running off-loop fsync of the WAL (never for queued
   * writes), so it sees every write whose promise resolved and none that could still be lost.
   */
  async #read<T>(query: (connection: SqliteConnection) => T, afterQueuedWrites = true): Promise<T> {
    this.#ensureOpen();
    if (afterQueuedWrites) await this.#queue.afterQueuedWrites();
    else {
      const syncing = this.#queue.syncing;
      if (syncing) await syncing;
    }
    const connection = this.#open ?? (await this.#connect());
    try {
      return query(connection);
    } catch (error) {
      if (error instanceof FlowError) throw error;
      throw new FlowError('STORE_ERROR', `SQLite database "${this.path}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

/** About the bytes a cached run row holds: its JSON columns and slots. */
function rowSize(row: RunRow | null): number {
  if (row === null) return 50;
  let slots = 0;
  for (const slot of row.slots ?? []) slots += 50 + slot.key.length + slot.body.length;
  return 200 + slots + row.state.length + row.fixed.length + (row.input?.length ?? 0) + row.tags.length + (row.output?.length ?? 0) + (row.run_error?.length ?? 0);
}
