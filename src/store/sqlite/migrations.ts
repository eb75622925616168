/**
 * The SQLite schema of flowrun as numbered migrations, and the code that applies them.
 *
 * Schema decisions (version 1):
 * - Every table is prefixed `flowrun_`, so flowrun can share a file with an application's own
 *   tables (a `runs` table of theirs is never touched) and `flowrun_schema` is unambiguous.
 * - `flowrun_runs` keeps as real columns everything `listRuns`, claiming, fencing and
 *   optimistic concurrency read or filter on; the fields fixed at creation (input, principals,
 *   roles, depth, deadline, …) live in one JSON column `fixed`, and `state`, `output`,
 *   `run_error`, `tags` are JSON columns written only when they change. `end_sort` is a generated
 *   column (`end_time`, or Number.MAX_SAFE_INTEGER while the run has not ended) so ordering by
 *   end time is index-backed and sorts unended runs last ascending, exactly like the memory store.
 * - Every listing order has an index ending in `run_id` (the keyset tie-breaker): start time,
 *   end time, and start time under each equality filter (flow, status, parent, root). Tags are
 *   matched through `flowrun_run_tags(tag, run_id)`. The label substring filter cannot use an
 *   index: it is checked on the rows of whichever index range the other filters select.
 * - Claiming reads a partial index over ACTIVE runs only, ordered by `ready_at`, so its cost
 *   does not grow with the number of ended runs.
 * - `flowrun_run_events` is WITHOUT ROWID with primary key (run_id, seq): a run's events are
 *   clustered and read back in order by a range scan; `kind` is a column so the `kinds` filter
 *   and the log listing do not parse bodies they skip.
 * - `flowrun_run_items.position` is the table's rowid: it grows with every new item and an upsert
 *   keeps it, which is exactly "creation order".
 * - No foreign keys: the store deletes a run's events, items and tags itself, in the same
 *   transaction, and skips a lookup per inserted event on the hottest write path.
 *
 * Version 2 adds principals (sqlite-principal-store.ts): `flowrun_principals`,
 * `flowrun_group_members` and `flowrun_act_as_grants`, indexed both ways.
 *
 * Version 3 adds `flowrun_api_tokens` (hashes of API tokens, sqlite-principal-store.ts).
 *
 * Version 4 adds `flowrun_event_grants` (who may publish or subscribe to which event names). A
 * run's `triggeredBy` needs no column: it is one of the fields fixed at creation (`fixed`).
 * Version 6 adds `flowrun_run_trees(tree_id, run_count, canceled)`: the count of runs in each run
 * tree that started any, checked by the transaction that creates one (`maxRunsPerTree`), and the
 * mark of a canceled tree (run-trees.ts). A run's `treeId` lives in `fixed`; rows written before
 * have none and read as their `root_run_id`.
 * Version 8 adds `flowrun_runs.waiting_event`: the event an INACTIVE run waits for at an event
 * WAIT, written by the transition that records its state (store/waiting-event.ts) and filled here
 * for runs already waiting, under a partial index, so publishing an event reads its waiters only
 * (`listEventWaiters`); and a partial index over INACTIVE runs with a `ready_at`, so the claim of
 * due WAIT timers reads the due ones only. Version 7 belongs to another branch (numbers may skip).
 *
 * Version 7 stores a run's state as a header in `state` plus slots in `flowrun_run_slots` (one
 * JSON value per key: a step's output, a var, a frame's item — core/state-slots.ts), so a
 * transition writes what it changed, not the whole state; `state_slots` says which form a row
 * holds (rows from before keep theirs whole until their next transition). The input gets its own
 * column, written once: live runs have theirs moved out of `fixed`, which a transition parses;
 * ended runs keep it there and are read as before.
 * Version 12 moves the input into `flowrun_run_inputs` (run-inputs.ts), written once at creation:
 * SQLite rewrites a whole row on every UPDATE, so `flowrun_runs.input` (NULL from then on) was
 * written again — a large input's overflow pages with it — by every transition.
 * Version 9 makes the parent index partial (`WHERE parent_run_id IS NOT NULL`): root runs, most
 * starts, write no entry into it; every query that reads it names a parent.
 *
 * Version 13 (issue 15, the dashboard) lists the runs waiting for an approval through the
 * waiting-event index (`waiting_event = '#approval'`, store/waiting-event.ts), filled here for runs
 * already waiting, and gives flow versions a `source` column (the `.flow` text they came from).
 *
 * Version 15 (issue 13) changes what a new run's row holds, not the tables: a small input in
 * `flowrun_runs.input` (no `flowrun_run_inputs` row), and `fixed` without the fields at their
 * usual value (run-rows.ts, `storedFixed`). Rows written before read as they did.
 *
 * A migration never alters or drops a table it did not create.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { FlowError } from '../../core/errors.js';

/** One schema change: applied once, in order, inside the opening transaction. */
export interface SqliteMigration {
  version: number;
  description: string;
  statements: readonly string[];
}

/** The migrations of the flowrun SQLite schema, oldest first; never edit a released one, add a new one. */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    description: 'flows, runs, run events, items and tags',
    statements: [
      `CREATE TABLE flowrun_flows (
        flow_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        definition TEXT NOT NULL,
        deployed_by TEXT NOT NULL,
        deployed_at INTEGER NOT NULL,
        published INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (flow_id, version)
      )`,
      `CREATE UNIQUE INDEX flowrun_flows_published ON flowrun_flows (flow_id) WHERE published = 1`,
      `CREATE TABLE flowrun_runs (
        run_id TEXT NOT NULL PRIMARY KEY,
        flow_id TEXT NOT NULL,
        status TEXT NOT NULL,
        label TEXT,
        start_time INTEGER NOT NULL,
        end_time INTEGER,
        end_sort INTEGER GENERATED ALWAYS AS (coalesce(end_time, 9007199254740991)) VIRTUAL,
        parent_run_id TEXT,
        root_run_id TEXT NOT NULL,
        ready_at INTEGER,
        lease_owner TEXT,
        lease_expires_at INTEGER,
        fencing_token INTEGER NOT NULL,
        version INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_transition_key TEXT,
        tags TEXT NOT NULL,
        output TEXT,
        run_error TEXT,
        state TEXT NOT NULL,
        fixed TEXT NOT NULL
      )`,
      `CREATE INDEX flowrun_runs_start ON flowrun_runs (start_time, run_id)`,
      `CREATE INDEX flowrun_runs_end ON flowrun_runs (end_sort, run_id)`,
      `CREATE INDEX flowrun_runs_flow_start ON flowrun_runs (flow_id, start_time, run_id)`,
      `CREATE INDEX flowrun_runs_status_start ON flowrun_runs (status, start_time, run_id)`,
      `CREATE INDEX flowrun_runs_parent_start ON flowrun_runs (parent_run_id, start_time, run_id)`,
      `CREATE INDEX flowrun_runs_root_start ON flowrun_runs (root_run_id, start_time, run_id)`,
      `CREATE INDEX flowrun_runs_claimable ON flowrun_runs (ready_at) WHERE status = 'ACTIVE'`,
      `CREATE TABLE flowrun_run_tags (
        run_id TEXT NOT NULL,
        tag TEXT NOT NULL,
        PRIMARY KEY (run_id, tag)
      ) WITHOUT ROWID`,
      `CREATE INDEX flowrun_run_tags_tag ON flowrun_run_tags (tag, run_id)`,
      `CREATE TABLE flowrun_run_events (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        time INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
      ) WITHOUT ROWID`,
      `CREATE TABLE flowrun_run_items (
        position INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        item_id TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (run_id, item_id)
      )`,
    ],
  },
  {
    // Principals (issue 4): ids are one namespace across kinds; memberships and grants are
    // indexed both ways, so resolving a principal's groups and act-as grants reads index ranges.
    version: 2,
    description: 'principals, group members, act-as grants',
    statements: [
      `CREATE TABLE flowrun_principals (
        id TEXT NOT NULL PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('user', 'group', 'serviceAccount')),
        display_name TEXT,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID`,
      `CREATE INDEX flowrun_principals_kind ON flowrun_principals (kind, id)`,
      `CREATE TABLE flowrun_group_members (
        group_id TEXT NOT NULL,
        member_id TEXT NOT NULL,
        PRIMARY KEY (group_id, member_id)
      ) WITHOUT ROWID`,
      `CREATE INDEX flowrun_group_members_member ON flowrun_group_members (member_id, group_id)`,
      `CREATE TABLE flowrun_act_as_grants (
        service_account_id TEXT NOT NULL,
        principal_id TEXT NOT NULL,
        PRIMARY KEY (service_account_id, principal_id)
      ) WITHOUT ROWID`,
      `CREATE INDEX flowrun_act_as_grants_principal ON flowrun_act_as_grants (principal_id, service_account_id)`,
    ],
  },
  {
    // API tokens (issue 6): only the SHA-256 of a token is kept, unique, so authenticating a
    // request is one index lookup; listing a principal's tokens reads its index range.
    version: 3,
    description: 'API tokens',
    statements: [
      `CREATE TABLE flowrun_api_tokens (
        token_id TEXT NOT NULL PRIMARY KEY,
        principal_id TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER,
        description TEXT
      )`,
      `CREATE INDEX flowrun_api_tokens_principal ON flowrun_api_tokens (principal_id, created_at, token_id)`,
    ],
  },
  {
    // Event grants (issue 12): a check reads the grants of a principal and its groups, one
    // primary-key range each.
    version: 4,
    description: 'event grants',
    statements: [
      `CREATE TABLE flowrun_event_grants (
        principal_id TEXT NOT NULL,
        event_right TEXT NOT NULL CHECK (event_right IN ('publish', 'subscribe')),
        pattern TEXT NOT NULL,
        PRIMARY KEY (principal_id, event_right, pattern)
      ) WITHOUT ROWID`,
    ],
  },
  {
    // Issue 12: the store's secret (run ids no user can compute; the row is written by the first
    // getStoreSecret, so an upgraded store gets one too) and the outbox of emitted events, written
    // with the transition that emitted them and swept by recorded time until published.
    version: 5,
    description: 'store secret, emitted-event outbox',
    statements: [
      `CREATE TABLE flowrun_secrets (
        name TEXT NOT NULL PRIMARY KEY,
        value BLOB NOT NULL
      ) WITHOUT ROWID`,
      `CREATE TABLE flowrun_pending_emits (
        event_id TEXT NOT NULL PRIMARY KEY,
        run_id TEXT NOT NULL,
        event TEXT NOT NULL,
        payload TEXT NOT NULL,
        recorded_at INTEGER NOT NULL
      ) WITHOUT ROWID`,
      `CREATE INDEX flowrun_pending_emits_recorded ON flowrun_pending_emits (recorded_at, event_id)`,
    ],
  },
  {
    // Run trees (issue 12): one row per tree that created a run or was canceled.
    version: 6,
    description: 'run trees',
    statements: [
      `CREATE TABLE flowrun_run_trees (
        tree_id TEXT NOT NULL PRIMARY KEY,
        run_count INTEGER NOT NULL,
        canceled INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID`,
    ],
  },
  {
    // State as slots (issue 13): see the header comment. A run's slots are clustered by its id
    // and read in `ord` order (the order they were first written).
    version: 7,
    description: 'run state slots, runs.input',
    statements: [
      `ALTER TABLE flowrun_runs ADD COLUMN state_slots INTEGER NOT NULL DEFAULT 0`,
      `ALTER TABLE flowrun_runs ADD COLUMN input TEXT`,
      `CREATE TABLE flowrun_run_slots (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        ord INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID`,
      `UPDATE flowrun_runs SET input = fixed -> '$.input', fixed = json_remove(fixed, '$.input')
        WHERE status IN ('ACTIVE', 'INACTIVE') AND json_type(fixed, '$.input') IS NOT NULL`,
    ],
  },
  {
    // Issue 13: events find their waiters, and the poller its due timers, through an index. The
    // fill follows awaitedEvent() (store/waiting-event.ts) in SQL; a state that is not valid JSON
    // (a damaged row, which reads as unreadable) waits for nothing rather than failing the upgrade.
    version: 8,
    description: 'runs.waiting_event, waiting-event and due-timer indexes',
    statements: [
      `ALTER TABLE flowrun_runs ADD COLUMN waiting_event TEXT`,
      `UPDATE flowrun_runs SET waiting_event = CASE
          WHEN NOT json_valid(state) THEN NULL
          WHEN json_extract(state, '$.suspension.kind') = 'event' AND json_type(state, '$.suspension.decision') IS NULL
            AND json_type(state, '$.suspension.event') = 'text' THEN json_extract(state, '$.suspension.event')
        END
        WHERE status = 'INACTIVE'`,
      `CREATE INDEX flowrun_runs_waiting_event ON flowrun_runs (waiting_event, run_id) WHERE waiting_event IS NOT NULL`,
      `CREATE INDEX flowrun_runs_due ON flowrun_runs (ready_at) WHERE status = 'INACTIVE' AND ready_at IS NOT NULL`,
    ],
  },
  {
    // Issue 13: every query that reads the parent index names a parent (`parent_run_id = ?`,
    // EXPLAIN QUERY PLAN over the store's statements), so root runs — most starts — need no entry
    // in it: one B-tree write less per start. PostgreSQL's index was partial from the start.
    // Versions 7 and 8 belong to other changes of the same release.
    version: 9,
    description: 'parent index without root runs',
    statements: [
      `DROP INDEX flowrun_runs_parent_start`,
      `CREATE INDEX flowrun_runs_parent_start ON flowrun_runs (parent_run_id, start_time, run_id) WHERE parent_run_id IS NOT NULL`,
    ],
  },
  {
    // Issue 14: system administrators (a mark on principals), and an index on (flow, status) so
    // a listing's total and pages with both filters are one index range (without it, counting
    // flowId + status read every run of the flow: 0.2-0.6 s at 1,000,000 runs). Versions 7-10
    // belong to other branches.
    version: 11,
    description: 'principals.is_administrator, runs by flow and status',
    statements: [
      `ALTER TABLE flowrun_principals ADD COLUMN is_administrator INTEGER NOT NULL DEFAULT 0`,
      `CREATE INDEX flowrun_runs_flow_status_start ON flowrun_runs (flow_id, status, start_time, run_id)`,
    ],
  },
  {
    // Issue 13: the input out of the run row, written once (run-inputs.ts): SQLite rewrites a
    // whole row on every UPDATE, so an input in the row was written again by every transition.
    // Live and ended rows alike move theirs; the column stays (a migration drops nothing it did
    // not create), NULL from here on. Versions 10 and 11 belong to other changes of the release.
    version: 12,
    description: 'run inputs in their own table',
    statements: [
      `CREATE TABLE flowrun_run_inputs (
        run_id TEXT NOT NULL PRIMARY KEY,
        input TEXT NOT NULL
      )`,
      `INSERT INTO flowrun_run_inputs (run_id, input) SELECT run_id, input FROM flowrun_runs WHERE input IS NOT NULL`,
      `UPDATE flowrun_runs SET input = NULL WHERE input IS NOT NULL`,
    ],
  },
  {
    // Issue 15: the dashboard's approvals read their runs through the waiting-event index; the
    // fill follows awaitedEvent() (store/waiting-event.ts) for a state stored whole or as slots
    // (`x:suspension`). A state that is not valid JSON waits for nothing. Flow versions keep the
    // `.flow` source they were compiled from (JSON `{fileName?, text}`), NULL for the others.
    // Version 12 is the last of the release before.
    version: 13,
    description: 'approvals in runs.waiting_event, flowrun_flows.source',
    statements: [
      `UPDATE flowrun_runs SET waiting_event = '#approval'
        WHERE status = 'INACTIVE' AND waiting_event IS NULL AND (
          (state_slots = 0 AND json_valid(state) AND json_extract(state, '$.suspension.kind') = 'approval' AND json_type(state, '$.suspension.decision') IS NULL)
          OR (state_slots = 1 AND EXISTS (SELECT 1 FROM flowrun_run_slots s WHERE s.run_id = flowrun_runs.run_id AND s.key = 'x:suspension'
            AND json_valid(s.body) AND json_extract(s.body, '$.kind') = 'approval' AND json_type(s.body, '$.decision') IS NULL)))`,
      `ALTER TABLE flowrun_flows ADD COLUMN source TEXT`,
    ],
  },
  {
    // Issue 17: schedules, each record whole in `body`; the due index holds only schedules that
    // will fire (paused and completed ones have no next_fire_at), so a poll reads due rows only.
    // IF NOT EXISTS: a store set back to an older version by hand (as the upgrade tests do) still migrates.
    version: 14,
    description: 'schedules',
    statements: [
      `CREATE TABLE IF NOT EXISTS flowrun_schedules (
        schedule_id TEXT NOT NULL PRIMARY KEY,
        flow_id TEXT NOT NULL,
        next_fire_at INTEGER,
        claim_owner TEXT,
        claim_until INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL,
        body TEXT NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS flowrun_schedules_due ON flowrun_schedules (next_fire_at, schedule_id) WHERE next_fire_at IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS flowrun_schedules_flow ON flowrun_schedules (flow_id, schedule_id)`,
    ],
  },
  {
    // Issue 13: a new run's row holds a small input itself and leaves the usual values of its fixed
    // fields out of `fixed` (run-rows.ts). Nothing to change in the file: the version says that
    // older code, which reads every field from `fixed`, must refuse it.
    version: 15,
    description: 'small inputs in the run row, usual fixed fields left out',
    statements: [],
  },
];

/** The schema version this code writes: the last migration's. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.at(-1)?.version ?? 0;

/**
 * Reads the schema version of an open database without writing anything: 0 for a database
 * flowrun never migrated (empty, or holding only foreign tables).
 */
export function readSchemaVersion(db: BetterSqlite3.Database): number {
  const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'flowrun_schema'`).get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT version FROM flowrun_schema WHERE id = 1').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/** The refusal for a file written by a newer flowrun; raised before anything is written to it. */
export function schemaTooNewError(found: number, path: string): FlowError {
  return new FlowError('STORE_ERROR', `database schema version ${found} is newer than this flowrun (${SQLITE_SCHEMA_VERSION}); upgrade flowrun`, {
    details: { path, schemaVersion: found, supportedVersion: SQLITE_SCHEMA_VERSION },
  });
}

/**
 * Brings the schema up to {@link SQLITE_SCHEMA_VERSION} in one IMMEDIATE transaction: all the
 * missing migrations and the new version commit together or not at all, so a crash mid-way
 * leaves the previous version intact and the next open starts again. Processes opening the same
 * file at once serialize on the write lock; the later one re-reads the version inside its
 * transaction and finds nothing to do. A newer version found there is refused, unwritten.
 */
export function migrate(db: BetterSqlite3.Database, path: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const current = readSchemaVersion(db);
    if (current > SQLITE_SCHEMA_VERSION) throw schemaTooNewError(current, path);
    if (current < SQLITE_SCHEMA_VERSION) {
      db.exec('CREATE TABLE IF NOT EXISTS flowrun_schema (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)');
      for (const migration of SQLITE_MIGRATIONS) {
        if (migration.version <= current) continue;
        for (const statement of migration.statements) db.exec(statement);
      }
      db.prepare('INSERT INTO flowrun_schema (id, version) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version').run(SQLITE_SCHEMA_VERSION);
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}
