/**
 * The PostgreSQL store: the scale-out backend. Many API servers and workers on many machines
 * share one database; runs are claimed with `FOR UPDATE SKIP LOCKED` under leases with fencing
 * tokens, transitions from concurrently running runs share commits (group commit), and every
 * change is announced with NOTIFY so other processes need not wait for their next poll.
 * Its semantics are the memory store's, method by method; the schema is in migrations.ts.
 */
import { FlowError, NotFoundError } from '../../core/errors.js';
import { CommitObservers, type CommitObserver } from '../../core/commit-observer.js';
import { cloneJson } from '../../core/json.js';
import type { FlowDefinition, FlowVersionRecord } from '../../core/model.js';
import { creationRecordedAt, type Item, type LogEntry, type NewRun, type RunEvent, type RunEventBody, type RunRecord } from '../../core/run.js';
import type { ClaimSkip, ClaimedRun, FlowSummary, PendingEmit, RecordedRun, RunFilter, RunPage, RunTree, Store, StoreCapabilities, Transition, TransientChange } from '../../core/store.js';
import { withAdvisoryLock } from './advisory-lock.js';
import * as trees from './run-trees.js';
import { countLimit, encodeRunMarker, runListing } from '../run-marker.js';
import * as flows from './flow-versions.js';
import { buildCountRunsQuery, buildListRunsQuery } from './list-runs-query.js';
import { NotificationListener } from './notification-listener.js';
import type { RunNotificationListener } from './run-notification.js';
import { PgConnection } from './pg-connection.js';
import { PgPrincipalStore } from './pg-principal-store.js';
import type { PrincipalStore } from '../../core/principal-store.js';
import type { ScheduleStore } from '../../core/schedule-store.js';
import { PgScheduleStore } from './pg-schedule-store.js';
import { createRootRuns } from './create-root-runs.js';
import { readRunEvents, readRunItems, readRunLogs } from './run-reads.js';
import { deleteEndedRunsBefore } from './run-retention.js';
import { RUN_COLUMNS, jsonParam, qualifiedRunColumns, readableRunFromRow, runFromRow, slotsColumn, type RunRow } from './run-rows.js';
import { TransientNotifier } from './transient-notifier.js';
import { NOTIFY_CHANNEL, TRANSIENT_CHANNEL, eventKinds, eventRowsFrom, notifyRuns, preparedQuery, wakeRuns } from './run-writes.js';
import { TransitionBatcher } from './transition-batcher.js';
import type { GroupCommitStats } from './group-commit-stats.js';
import type { PostgresStoreOptions } from './postgres-store-options.js';

export type { PostgresStoreOptions } from './postgres-store-options.js';

const MAX_BATCH = 64;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * A {@link Store} in PostgreSQL.
 *
 * Guarantees: every method is one transaction, so a crash leaves either all of an operation or
 * none of it. A write whose connection drops rejects with STORE_ERROR (it may or may not have
 * committed; the engine retries, and a repeated transition is recognised as already recorded);
 * reads are retried on a dropped connection; deadlocks and serialization failures are retried
 * inside the store. Fencing holds across processes: a transition commits only if its lease
 * owner, fencing token and expected version still match the row at commit time.
 */
export class PostgresStore implements Store {
  readonly name = 'postgres';
  readonly capabilities: StoreCapabilities = { isShared: true, isDurable: true, hasNotifications: true, writesSmallStatesWhole: true };
  /** The schema this store lives in. */
  readonly schema: string;
  readonly principals: PrincipalStore;
  readonly schedules: ScheduleStore;
  readonly #db: PgConnection;
  readonly #batcher: TransitionBatcher;
  readonly #commitObservers = new CommitObservers();
  readonly #listener: NotificationListener;
  readonly #transients: TransientNotifier;
  #closed = false;

  /** Validates the options; connects and migrates only on first use. Throws INVALID_INPUT naming the bad option. */
  constructor(options: PostgresStoreOptions) {
    if (typeof options.connectionString !== 'string' || options.connectionString === '') {
      throw new FlowError('INVALID_INPUT', 'PostgresStore: connectionString must be a non-empty string', { details: { field: 'connectionString' } });
    }
    const schema = options.schema ?? 'public';
    if (!SCHEMA_NAME.test(schema)) {
      throw new FlowError('INVALID_INPUT', `PostgresStore: schema must be a letter or _ then letters, digits or _ (at most 63), got ${JSON.stringify(schema)}`, { details: { field: 'schema' } });
    }
    const poolSize = options.poolSize ?? 10;
    if (!Number.isInteger(poolSize) || poolSize < 1) {
      throw new FlowError('INVALID_INPUT', `PostgresStore: poolSize must be a positive integer, got ${JSON.stringify(poolSize)}`, { details: { field: 'poolSize' } });
    }
    const warn = options.onWarning ?? ((message: string) => console.warn(message));
    this.schema = schema;
    this.#db = new PgConnection({ connectionString: options.connectionString, schema, poolSize, warn });
    this.#batcher = new TransitionBatcher({
      acquire: () => this.#db.acquire(),
      toError: (error) => this.#db.toError(error),
      maxBatch: MAX_BATCH,
      maxConcurrentBatches: Math.max(1, Math.floor(poolSize / 2)),
      retries: 4,
      observers: this.#commitObservers,
    });
    this.principals = new PgPrincipalStore(this.#db, () => this.#open());
    this.schedules = new PgScheduleStore(this.#db, () => this.#open());
    this.#transients = new TransientNotifier((payloads) => this.#db.statement((sql) => sql.query(`SELECT pg_notify('${TRANSIENT_CHANNEL}', p) FROM unnest($1::text[]) AS p`, [payloads])).then(() => undefined));
    this.#listener = new NotificationListener({ connect: () => this.#db.connectDedicated(), channel: NOTIFY_CHANNEL, transientChannel: TRANSIENT_CHANNEL, warn });
  }

  runExclusive(name: string, work: () => Promise<void>): Promise<boolean> {
    this.#open();
    return withAdvisoryLock(() => this.#db.connectDedicated(), `flowrun:${this.schema}:${name}`, work);
  }

  /** Group-commit counters: `commits` counts shared transactions, `transitions` the transitions in them. */
  get stats(): GroupCommitStats {
    return this.#batcher.stats;
  }

  observeCommits(observer: CommitObserver): () => void {
    return this.#commitObservers.add(observer);
  }

  /**
   * Stores a new immutable version, or returns the latest when the definition is the same
   * (canonical JSON). Processes deploying one flow at once are serialized on the flow's row:
   * versions are consecutive, and identical concurrent deploys make one version.
   */
  async saveFlowVersion(input: { definition: FlowDefinition; deployedBy: string; at: number }): Promise<FlowVersionRecord> {
    this.#open();
    return this.#db.transaction((client) => flows.saveFlowVersion(client, input));
  }

  async publishFlowVersion(input: { flowId: string; version: number }): Promise<FlowVersionRecord> {
    this.#open();
    return this.#db.statement((sql) => flows.publishFlowVersion(sql, input));
  }

  async getFlowVersion(flowId: string, version: number | 'LATEST_PUBLISHED' | 'LATEST'): Promise<FlowVersionRecord | null> {
    this.#open();
    return this.#db.read((sql) => flows.getFlowVersion(sql, flowId, version));
  }

  async listFlows(): Promise<FlowSummary[]> {
    this.#open();
    return this.#db.read((sql) => flows.listFlows(sql));
  }

  /**
   * Creates a run and its first events (seq 1…n) in one statement, and announces it with NOTIFY
   * on commit. With `lease` the creator holds it at once (fencing token 1). Throws ConflictError
   * when the id exists — also when a retry finds its own earlier attempt committed. A run joining
   * an existing tree is counted into it by that statement (CANCELED / LIMIT_EXCEEDED refuse it).
   */
  async createRun(input: { run: NewRun; events?: RunEventBody[]; lease?: { owner: string; expiresAt: number }; maxRunsPerTree?: number }): Promise<ClaimedRun | { run: RunRecord; lease: null }> {
    this.#open();
    const events = input.events ?? [];
    const lease = input.lease ?? null;
    const runId = input.run.runId;
    // Group-committed with the transitions of the moment (CONFLICT when the id is taken).
    await this.#batcher.submitCreation({ run: input.run, events, lease, ...(input.maxRunsPerTree === undefined ? {} : { maxRunsPerTree: input.maxRunsPerTree }) });
    // The row holds exactly these values; building the record here saves reading it back.
    // Fields set on the copy, not spread with it: V8 adds fields to a spread copy far more slowly,
    // and the engine copies this record again (run-rows.ts in the SQLite store does the same).
    const { input: given, state, ...fields } = input.run;
    const run = cloneJson(fields) as RunRecord;
    run.input = given;
    run.state = state;
    run.output ??= null;
    run.runError ??= null;
    run.endTime ??= null;
    run.updatedAt = creationRecordedAt(input.run);
    run.version = 0;
    run.lastSeq = events.length;
    run.leaseOwner = lease?.owner ?? null;
    run.leaseExpiresAt = lease?.expiresAt ?? null;
    run.fencingToken = lease ? 1 : 0;
    return lease ? { run, lease: { runId, owner: lease.owner, fencingToken: 1, expiresAt: lease.expiresAt } } : { run, lease: null };
  }

  /** 500 runs a statement (create-root-runs.ts); a run with a state in slots, or a statement that failed, through the transition batcher. */
  createRuns(input: { runs: { run: NewRun; events: RunEventBody[] }[] }): Promise<('created' | 'exists')[]> {
    this.#open();
    return createRootRuns({ runs: input.runs, statement: (fn) => this.#db.statement(fn), createOne: ({ run, events }) => this.#batcher.submitCreation({ run, events, lease: null }) });
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    this.#open();
    const found = await this.#db.read((sql) => sql.query<RunRow>(`SELECT ${RUN_COLUMNS}, ${slotsColumn('runs')} FROM runs WHERE run_id = $1::text`, [runId]));
    const row = found.rows[0];
    return row ? readableRunFromRow(row) : null;
  }

  async countRuns(filter: RunFilter, options: { max?: number } = {}): Promise<number> {
    this.#open();
    const query = buildCountRunsQuery(filter, countLimit(options.max));
    const found = await this.#db.read((sql) => sql.query<{ n: string }>(query.text, query.values));
    return Number(found.rows[0]?.n ?? 0);
  }

  async listRuns(filter: RunFilter): Promise<RunPage> {
    this.#open();
    const { orderBy, dir, order, limit, after } = runListing(filter);
    // One row past the page tells whether there is a next page.
    const query = buildListRunsQuery({ filter, orderBy, dir, after, fetch: Math.floor(limit) + 1 });
    const found = await this.#db.read((sql) => sql.query<RunRow>(query.text, query.values));
    // A row whose data cannot be read is listed marked (`dataError`), never failing the page.
    const page = found.rows.slice(0, limit).map(readableRunFromRow);
    const hasNextPage = found.rows.length > limit;
    const last = page.at(-1);
    const keyOf = (run: RunRecord): number => (orderBy === 'endTime' ? (run.endTime ?? Number.MAX_SAFE_INTEGER) : run.startTime);
    return { runs: page, hasNextPage, marker: hasNextPage && last ? encodeRunMarker({ key: keyOf(last), runId: last.runId, order }) : null };
  }

  /**
   * The runs waiting for `event` after run id `after`: a range of the partial index over
   * `waiting_event` (migration 10), which holds only runs waiting for an event.
   */
  async listEventWaiters(input: { event: string; after?: string; limit: number }): Promise<RunRecord[]> {
    this.#open();
    const limit = Math.floor(input.limit);
    if (!(limit > 0)) return [];
    const found = await this.#db.read((sql) =>
      preparedQuery<RunRow>(
        sql,
        `SELECT ${RUN_COLUMNS}, ${slotsColumn('runs')} FROM runs WHERE waiting_event = $1::text AND run_id > $2::text AND status = 'INACTIVE' ORDER BY run_id LIMIT $3::bigint`,
        [input.event, input.after ?? '', limit],
      ),
    );
    return found.rows.map(readableRunFromRow);
  }

  /**
   * Claims up to `limit` ready ACTIVE runs whose lease is free or expired, oldest ready first.
   * SKIP LOCKED makes concurrent claimers (in any process) take disjoint sets without waiting on
   * each other; each claim increments the run's fencing token. A claim whose reply is lost
   * leaves the run leased until the lease expires, then it is claimable again.
   */
  async claimRuns(input: { owner: string; limit: number; now: number; leaseExpiresAt: number; status?: 'ACTIVE' | 'INACTIVE'; skip?: ClaimSkip }): Promise<ClaimedRun[]> {
    this.#open();
    const limit = Number.isFinite(input.limit) ? Math.ceil(input.limit) : null;
    if (limit !== null && limit <= 0) return [];
    // INACTIVE: due suspensions (WAIT timers), a separate, rarer claim; the ACTIVE one keeps its partial index.
    const status = input.status === 'INACTIVE' ? 'INACTIVE' : 'ACTIVE';
    const claimed = await this.#db.statement((sql) =>
      sql.query<RunRow>(
        `WITH picked AS (
           SELECT run_id FROM runs
            WHERE status = '${status}' AND ready_at <= $1::float8 AND (lease_owner IS NULL OR COALESCE(lease_expires_at, 0) <= $1::float8)
              AND COALESCE(tree_id, root_run_id) <> ALL($5::text[]) AND run_owner <> ALL($6::text[])
            ORDER BY ready_at, run_id
            LIMIT $2::bigint
              FOR NO KEY UPDATE SKIP LOCKED)
         UPDATE runs r SET lease_owner = $3::text, lease_expires_at = $4::float8, fencing_token = r.fencing_token + 1
           FROM picked WHERE r.run_id = picked.run_id
         RETURNING ${qualifiedRunColumns('r')}, ${slotsColumn('r')}`,
        [input.now, limit, input.owner, input.leaseExpiresAt, input.skip?.treeIds ?? [], input.skip?.runOwners ?? []],
      ),
    );
    return claimed.rows.map((row) => this.#claimed(row));
  }

  /**
   * Claims one run if it is claimable now; null otherwise. A plain conditional UPDATE: if another
   * transaction holds the row it waits for it and re-checks, so of concurrent claimers exactly
   * one wins, and a run that is only briefly locked (a label update) is still claimed.
   */
  async claimRun(input: { runId: string; owner: string; now: number; leaseExpiresAt: number; status?: 'ACTIVE' | 'INACTIVE' }): Promise<ClaimedRun | null> {
    this.#open();
    // An INACTIVE run is claimed by whoever resumes it (an approval, an event), whatever its ready_at.
    const ready = input.status === 'INACTIVE' ? `status = 'INACTIVE'` : `status = 'ACTIVE' AND ready_at <= $3::float8`;
    const claimed = await this.#db.statement((sql) =>
      sql.query<RunRow>(
        `UPDATE runs SET lease_owner = $2::text, lease_expires_at = $4::float8, fencing_token = fencing_token + 1
          WHERE run_id = $1::text AND ${ready} AND (lease_owner IS NULL OR COALESCE(lease_expires_at, 0) <= $3::float8)
          RETURNING ${RUN_COLUMNS}, ${slotsColumn('runs')}`,
        [input.runId, input.owner, input.now, input.leaseExpiresAt],
      ),
    );
    const row = claimed.rows[0];
    return row ? this.#claimed(row) : null;
  }

  /** Extends the leases `owner` still holds on live runs, in one statement; returns those ids in the order asked. */
  async renewLeases(input: { owner: string; runIds: string[]; expiresAt: number }): Promise<string[]> {
    this.#open();
    if (input.runIds.length === 0) return [];
    const renewed = await this.#db.statement((sql) =>
      sql.query<{ run_id: string }>(
        // Rows are locked in run-id order (the order batches apply transitions in too), so a
        // renewal never deadlocks with a group commit; rows locked by one are skipped, not waited
        // for — the commit in flight proves the lease is alive, and the next beat renews it.
        `WITH mine AS (
           SELECT run_id FROM runs WHERE run_id = ANY($1::text[]) AND lease_owner = $2::text AND status IN ('ACTIVE', 'INACTIVE')
           ORDER BY run_id FOR NO KEY UPDATE SKIP LOCKED
         ), renewed AS (
           UPDATE runs SET lease_expires_at = $3::float8 FROM mine WHERE runs.run_id = mine.run_id RETURNING runs.run_id
         )
         SELECT run_id FROM renewed
         UNION ALL
         SELECT run_id FROM runs WHERE run_id = ANY($1::text[]) AND lease_owner = $2::text AND status IN ('ACTIVE', 'INACTIVE')
           AND run_id NOT IN (SELECT run_id FROM mine)`,
        [input.runIds, input.owner, input.expiresAt],
      ),
    );
    const held = new Set(renewed.rows.map((row) => row.run_id));
    return input.runIds.filter((runId) => held.has(runId));
  }

  /**
   * Records a transition atomically, batched with the other transitions submitted in the same
   * turn of the event loop into one commit (see TransitionBatcher). Resolves after that commit.
   * Throws ConflictError LEASE_LOST when the lease is not held with that token, the run ended or
   * its version moved on; NotFoundError RUN_NOT_FOUND for an unknown run; ConflictError CONFLICT
   * when a run it creates exists. A repeat of the last recorded transition returns the run.
   */
  recordTransition(transition: Transition): Promise<RecordedRun> {
    try {
      this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    // A run's end goes out after the transient changes published before it, so a watcher that
    // stops at the end has heard them (NOTIFYs reach listeners in commit order).
    const status = transition.patch.status;
    if ((status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELED') && !this.#transients.isIdle) return this.#transients.idle().then(() => this.#batcher.submit(transition));
    // Without any waiting, it is submitted in this very turn and shares its group commit; not
    // async, so no wrapper promises (four a write) around the batcher's.
    return this.#batcher.submit(transition);
  }

  /**
   * Ends a live run as CANCELED with its events, drops its lease (so its executor's next
   * transition fails with LEASE_LOST, in whatever process it runs) and wakes `wakeRuns`, in one
   * transaction. Returns null when the run had already ended; NotFoundError RUN_NOT_FOUND when unknown.
   */
  async cancelRun(input: { runId: string; at: number; events: RunEventBody[]; runError: { code: string; description: string }; wakeRuns?: string[] }): Promise<RunRecord | null> {
    this.#open();
    return this.#db.transaction(async (client) => {
      const canceled = await client.query<RunRow>(
        `WITH u AS (
           UPDATE runs SET status = 'CANCELED', run_error = $2::json, end_time = $3::float8, updated_at = $3::float8, ready_at = NULL, waiting_event = NULL,
                  lease_owner = NULL, lease_expires_at = NULL, version = version + 1, last_seq = last_seq + $4::integer
            WHERE run_id = $1::text AND status IN ('ACTIVE', 'INACTIVE')
            RETURNING ${RUN_COLUMNS}
         ), ev AS (
           INSERT INTO run_events (run_id, seq, kind, time, body)
           SELECT u.run_id, u.last_seq - $4::integer + e.ord, e.kind, $3::float8, e.body
             FROM u, ${eventRowsFrom('$5', '$6')}
         )
         SELECT u.*, ${slotsColumn('u')} FROM u`,
        [input.runId, jsonParam({ ...input.runError }), input.at, input.events.length, JSON.stringify(input.events), eventKinds(input.events)],
      );
      const row = canceled.rows[0];
      if (!row) {
        const exists = await client.query('SELECT 1 FROM runs WHERE run_id = $1::text', [input.runId]);
        if (exists.rowCount === 0) throw new NotFoundError('RUN_NOT_FOUND', `run "${input.runId}" does not exist`, { runId: input.runId });
        return null;
      }
      const touched = new Map([[row.run_id, row.last_seq]]);
      await wakeRuns(client, input.wakeRuns ?? [], input.at, touched);
      await notifyRuns(client, touched);
      return runFromRow(row);
    });
  }

  /** Marks a run tree canceled (see run-trees.ts); from its commit on, creations into the tree raise in their own statement. */
  async markTreeCanceled(input: { treeId: string; at: number }): Promise<RunTree> {
    this.#open();
    return this.#db.statement((sql) => trees.markTreeCanceled(sql, input.treeId));
  }

  async getRunTree(treeId: string): Promise<RunTree | null> {
    this.#open();
    return this.#db.read((sql) => trees.getRunTree(sql, treeId));
  }

  /** Changes label and tags (no version change, like the memory store) and announces it; NotFoundError RUN_NOT_FOUND when unknown. */
  async updateRun(input: { runId: string; at: number; label?: string | null; tags?: string[] }): Promise<RunRecord> {
    this.#open();
    const updated = await this.#db.statement((sql) =>
      sql.query<RunRow>(
        `UPDATE runs SET label = CASE WHEN $2::boolean THEN $3::text ELSE label END,
                         tags = CASE WHEN $4::boolean THEN $5::text[] ELSE tags END,
                         updated_at = $6::float8
          WHERE run_id = $1::text
          RETURNING ${RUN_COLUMNS}, ${slotsColumn('runs')}, pg_notify('${NOTIFY_CHANNEL}', run_id || ':' || last_seq)`,
        [input.runId, input.label !== undefined, input.label ?? null, input.tags !== undefined, input.tags ?? [], input.at],
      ),
    );
    const row = updated.rows[0];
    if (!row) throw new NotFoundError('RUN_NOT_FOUND', `run "${input.runId}" does not exist`, { runId: input.runId });
    return runFromRow(row);
  }

  async getRunEvents(runId: string, options: { afterSeq?: number; limit?: number; kinds?: RunEvent['kind'][] } = {}): Promise<RunEvent[]> {
    this.#open();
    return this.#db.read((sql) => readRunEvents(sql, runId, options));
  }

  async getRunLogs(runId: string, options: { limit?: number; offset?: number } = {}): Promise<{ entries: LogEntry[]; total: number }> {
    this.#open();
    return this.#db.read((sql) => readRunLogs(sql, runId, options));
  }

  async getRunItems(runId: string): Promise<Item[]> {
    this.#open();
    return this.#db.read((sql) => readRunItems(sql, runId));
  }

  async listPendingEmits(input: { recordedBefore: number; limit: number }): Promise<PendingEmit[]> {
    this.#open();
    const limit = Math.max(0, Math.floor(input.limit));
    const found = await this.#db.read((sql) =>
      sql.query<{ event_id: string; run_id: string; event: string; payload: unknown; recorded_at: number }>(
        `SELECT event_id, run_id, event, payload, recorded_at FROM pending_emits WHERE recorded_at <= $1::float8 ORDER BY recorded_at, event_id LIMIT $2::bigint`,
        [input.recordedBefore, limit],
      ),
    );
    return found.rows.map((row) => ({ eventId: row.event_id, runId: row.run_id, event: row.event, payload: row.payload, recordedAt: row.recorded_at }));
  }

  async deletePendingEmits(eventIds: string[]): Promise<void> {
    this.#open();
    if (eventIds.length === 0) return;
    await this.#db.statement((sql) => sql.query('DELETE FROM pending_emits WHERE event_id = ANY($1::text[])', [eventIds]));
  }

  /** The secret row, inserted if missing, then read in a second statement, which sees whichever insert won. */
  async getStoreSecret(): Promise<Uint8Array> {
    this.#open();
    const fresh = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32)));
    await this.#db.statement((sql) => sql.query(`INSERT INTO secrets (name, value) VALUES ('run-ids', $1::bytea) ON CONFLICT (name) DO NOTHING`, [fresh]));
    const found = await this.#db.read((sql) => sql.query<{ value: Buffer }>(`SELECT value FROM secrets WHERE name = 'run-ids'`));
    return new Uint8Array(found.rows[0]!.value);
  }

  /**
   * Deletes up to `limit` ended runs that ended before `endedBefore`, oldest first, with their
   * events and items, in one statement. Rows another transaction holds are skipped, so several
   * processes may run retention at once; a crash deletes a whole batch or nothing.
   */
  async deleteEndedRuns(input: { endedBefore: number; limit: number }): Promise<number> {
    this.#open();
    const limit = Number.isFinite(input.limit) ? Math.ceil(input.limit) : null;
    if (limit !== null && limit <= 0) return 0;
    return this.#db.statement((sql) => deleteEndedRunsBefore(sql, input.endedBefore, limit));
  }

  /**
   * Calls `listener` with `{runId, lastSeq}` whenever a run of this database is created, records
   * a transition, is woken, canceled or updated, in any process. Resolves once listening, with a
   * function that unsubscribes. A hint only: while the LISTEN connection is down (it reconnects
   * by itself) notifications are lost, so watchers must also poll.
   * Not (yet) part of the Store interface.
   */
  async subscribe(listener: RunNotificationListener): Promise<() => Promise<void>> {
    this.#open();
    return this.#listener.add(listener);
  }

  /**
   * Sends a transient item change or output snapshot to every subscriber of this database with
   * NOTIFY, in the order published, cut into parts when larger than a payload
   * (transient-notifier.ts): best effort, never stored (a change sent while the database is away
   * is dropped — transient means exactly that).
   */
  async publishTransient(change: TransientChange): Promise<void> {
    this.#open();
    await this.#transients.publish(change);
  }

  /** Runs `SELECT 1` on a pooled connection (connecting and migrating first if needed), never retried; STORE_ERROR while the database is away. */
  async ping(): Promise<void> {
    this.#open();
    await this.#db.statement((sql) => sql.query('SELECT 1'));
  }

  /** Waits for queued transitions to commit, then closes the LISTEN connection and the pool. Later calls reject with STORE_ERROR. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#batcher.idle();
    await this.#transients.idle();
    await this.#listener.close();
    await this.#db.close();
  }

  #open(): void {
    if (this.#closed) throw new FlowError('STORE_ERROR', `the ${this.name} store is closed`);
  }

  #claimed(row: RunRow): ClaimedRun {
    const run = runFromRow(row);
    return { run, lease: { runId: run.runId, owner: run.leaseOwner!, fencingToken: run.fencingToken, expiresAt: run.leaseExpiresAt! } };
  }
}
