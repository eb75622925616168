/**
 * The PostgreSQL schema of flowrun and its versioned migrations.
 *
 * Schema (version 1), all in the store's schema (`search_path` is set per connection):
 *
 * - `flowrun_schema(version, description, applied_at)` — one row per applied migration.
 * - `flows(flow_id, seq, latest_version, published_version, title, updated_at)` — one row per
 *   flow; `seq` keeps first-deploy order for `listFlows`. Locked `FOR UPDATE` while deploying,
 *   so concurrent deploys of one flow number their versions without gaps or duplicates.
 * - `flow_versions(flow_id, version, definition json, deployed_by, deployed_at)` — immutable.
 * - `runs` — one row per run. Everything `listRuns` filters or orders on and everything a lease
 *   or a claim checks is a real column; the rest of the record is `json`. Not `jsonb`: jsonb
 *   reorders object keys and refuses strings holding `\u0000`, so a module output with a NUL in
 *   it would make every transition of its run fail; `json` keeps the text exactly, like the
 *   memory store keeps the value, and nothing queries inside it. Same for event and item bodies.
 *   `end_sort` = `COALESCE(end_time, MAX_SAFE_INTEGER)` is the ordering key for endTime,
 *   the same rule as the memory store, so one index serves keyset pages in both directions.
 * - `run_events(run_id, seq, kind, time, body json)` PK (run_id, seq) — the per-run event log;
 *   `body` is the event body as the engine gave it. Log entries are the `kind = 'log'` rows.
 * - `run_items(run_id, item_id, first_version, first_ord, body json)` — the latest state of
 *   each persisted item; (first_version, first_ord) is where it first appeared = creation order.
 *
 * Times are epoch milliseconds in the domain `epoch_ms` (double precision): exactly a JS number,
 * so fractional times from a test clock or a fractional `timeoutMs` round-trip like in the
 * memory store instead of failing an integer cast.
 *
 * Version 2 adds principals (pg-principal-store.ts): `principals(id, kind, display_name,
 * created_at)`, `group_members(group_id, member_id)` and `act_as_grants(service_account_id,
 * principal_id)`, the last two with foreign keys ON DELETE CASCADE (written rarely, never on the run path).
 *
 * Version 3 adds `api_tokens(token_id, principal_id, token_hash UNIQUE, created_at, expires_at,
 * revoked_at, description)`: hashes of API tokens, deleted with their principal (ON DELETE CASCADE).
 *
 * Version 5 adds `event_grants(principal_id, event_right, pattern)` (who may publish or subscribe
 * to which event names; ON DELETE CASCADE) and `runs.triggered_by` (the publisher of the event
 * that started a run), and recreates `flowrun_record_transitions` so runs it creates carry it.
 * Version 13 adds `principals.is_administrator` (system administrators, issue 14) and
 * `runs_flow_status_start_idx` (flowId + status listings and totals).
 * Version 7 adds run trees (run-trees.ts): `runs.tree_id` (null on older rows, read as
 * `root_run_id`), `run_trees(tree_id, run_count, canceled)` and `flowrun_count_tree_runs`.
 * Version 10 adds `runs.waiting_event`: the event an INACTIVE run waits for at an event WAIT,
 * written by the statement that records its state (store/waiting-event.ts) and filled for runs
 * already waiting, under a partial index, so publishing an event reads its waiters only
 * (`listEventWaiters`); and `runs_due_idx` over INACTIVE runs with a `ready_at`, so the claim of due
 * WAIT timers reads the due ones only. Version 9 belongs to another branch (numbers may skip).
 * Version 12 replaces `flowrun_record_transitions` by a cheaper text with the same effects.
 * Version 16 lets it write a small state whole in `runs.state` (`state_slots` false, no slot
 * rows), the form rows written before slots (version 9) already had, and sets `runs`' fillfactor
 * to 75 so a step's transition can be a HOT update.
 * Version 17 (issue 15, the dashboard) lists the runs waiting for an approval through the
 * waiting-event index (`waiting_event = '#approval'`, store/waiting-event.ts), filled for runs
 * already waiting, and gives flow versions a `source` column (the `.flow` text they came from).
 *
 * There are no foreign keys from events/items to runs on purpose: every transition inserts
 * events, and an FK check per row would take a KEY SHARE lock on the run for nothing the store
 * does not already guarantee (only ended runs are deleted, and they receive no more events).
 * `deleteEndedRuns` deletes the three tables in one statement instead.
 */
import { FlowError } from '../../core/errors.js';
import { RECORD_FUNCTION_SQL } from './record-function.js';
import { RUN_TREES_SQL } from './run-trees.js';
import type { PoolClient } from 'pg';
import { fillApprovalWaiters, fillWaitingEvents } from './migration-fills.js';


/** pg_advisory_xact_lock(classid, objid) namespace of flowrun: the bytes of "flow". */
const LOCK_CLASS = 0x666c6f77;
/** Single-key advisory lock serializing CREATE EXTENSION across schemas of one database. */
const EXTENSION_LOCK_KEY = '7380396448165490225'; // the bytes of "flowrun1" as a signed 64-bit integer

interface Migration {
  version: number;
  description: string;
  statements: string[];
  /** Runs after the statements, in the same transaction: a change SQL alone cannot make. */
  fill?: (client: PoolClient) => Promise<void>;
}

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'flows, runs, run_events, run_items',
    statements: [
      `CREATE DOMAIN epoch_ms AS double precision`,
      `CREATE TABLE flows (
        flow_id           text PRIMARY KEY,
        seq               bigint GENERATED ALWAYS AS IDENTITY,
        latest_version    integer NOT NULL,
        published_version integer,
        title             text,
        updated_at        epoch_ms NOT NULL
      )`,
      `CREATE TABLE flow_versions (
        flow_id     text NOT NULL REFERENCES flows (flow_id) ON DELETE CASCADE,
        version     integer NOT NULL,
        definition  json NOT NULL,
        deployed_by text NOT NULL,
        deployed_at epoch_ms NOT NULL,
        PRIMARY KEY (flow_id, version)
      )`,
      // run ids compare byte-wise (COLLATE "C") so ORDER BY run_id and keyset markers agree with
      // the memory store's string comparison whatever the database's default collation is.
      `CREATE TABLE runs (
        run_id              text COLLATE "C" PRIMARY KEY,
        flow_id             text NOT NULL,
        flow_version        integer NOT NULL,
        action_name         text NOT NULL,
        status              text NOT NULL CHECK (status IN ('ACTIVE', 'INACTIVE', 'SUCCEEDED', 'FAILED', 'CANCELED')),
        label               text,
        tags                text[] NOT NULL DEFAULT '{}',
        input               json,
        output              json,
        run_error           json,
        created_by          text NOT NULL,
        run_owner           text NOT NULL,
        run_as              text,
        source              text NOT NULL,
        session_id          text,
        parent_run_id       text COLLATE "C",
        root_run_id         text COLLATE "C" NOT NULL,
        detached            boolean NOT NULL,
        depth               integer NOT NULL,
        monitors            json NOT NULL,
        managers            json NOT NULL,
        start_time          epoch_ms NOT NULL,
        end_time            epoch_ms,
        end_sort            double precision GENERATED ALWAYS AS (COALESCE(end_time, 9007199254740991)) STORED,
        updated_at          epoch_ms NOT NULL,
        timeout_ms          double precision,
        deadline            epoch_ms,
        version             integer NOT NULL,
        last_seq            integer NOT NULL,
        ready_at            epoch_ms,
        lease_owner         text,
        lease_expires_at    epoch_ms,
        fencing_token       bigint NOT NULL,
        last_transition_key text,
        state               json NOT NULL
      )`,
      `CREATE INDEX runs_start_idx ON runs (start_time, run_id)`,
      `CREATE INDEX runs_end_idx ON runs (end_sort, run_id)`,
      `CREATE INDEX runs_flow_start_idx ON runs (flow_id, start_time, run_id)`,
      `CREATE INDEX runs_status_start_idx ON runs (status, start_time, run_id)`,
      // Children and run trees are listed in start order too: the order columns ride along.
      `CREATE INDEX runs_parent_idx ON runs (parent_run_id, start_time, run_id) WHERE parent_run_id IS NOT NULL`,
      `CREATE INDEX runs_root_idx ON runs (root_run_id, start_time, run_id)`,
      `CREATE INDEX runs_tags_idx ON runs USING gin (tags)`,
      // Claims scan only ACTIVE runs by readiness; ended and suspended runs stay out of this index.
      `CREATE INDEX runs_claimable_idx ON runs (ready_at, run_id) WHERE status = 'ACTIVE'`,
      `CREATE TABLE run_events (
        run_id text COLLATE "C" NOT NULL,
        seq    integer NOT NULL,
        kind   text NOT NULL,
        time   epoch_ms NOT NULL,
        body   json NOT NULL,
        PRIMARY KEY (run_id, seq)
      )`,
      // getRunLogs counts and pages a run's log entries without reading its other events.
      `CREATE INDEX run_events_logs_idx ON run_events (run_id, seq) WHERE kind = 'log'`,
      `CREATE TABLE run_items (
        run_id        text COLLATE "C" NOT NULL,
        item_id       text NOT NULL,
        first_version integer NOT NULL,
        first_ord     integer NOT NULL,
        body          json NOT NULL,
        PRIMARY KEY (run_id, item_id)
      )`,
    ],
  },
  {
    // Principals (issue 4). Ids are one namespace across kinds and compare byte-wise, so
    // listPrincipals pages in the memory store's order. Memberships and grants are indexed both
    // ways: resolving a principal reads its groups and its grants by index range.
    version: 2,
    description: 'principals, group_members, act_as_grants',
    statements: [
      `CREATE TABLE principals (
        id           text COLLATE "C" PRIMARY KEY,
        kind         text NOT NULL CHECK (kind IN ('user', 'group', 'serviceAccount')),
        display_name text,
        created_at   epoch_ms NOT NULL
      )`,
      `CREATE INDEX principals_kind_idx ON principals (kind, id)`,
      `CREATE TABLE group_members (
        group_id  text COLLATE "C" NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        member_id text COLLATE "C" NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, member_id)
      )`,
      `CREATE INDEX group_members_member_idx ON group_members (member_id, group_id)`,
      `CREATE TABLE act_as_grants (
        service_account_id text COLLATE "C" NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        principal_id       text COLLATE "C" NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        PRIMARY KEY (service_account_id, principal_id)
      )`,
      `CREATE INDEX act_as_grants_principal_idx ON act_as_grants (principal_id, service_account_id)`,
    ],
  },
  {
    // API tokens (issue 6): only the SHA-256 of a token is kept, unique, so authenticating a
    // request is one index lookup. Tokens go with their principal (ON DELETE CASCADE).
    version: 3,
    description: 'api_tokens',
    statements: [
      `CREATE TABLE api_tokens (
        token_id     text COLLATE "C" PRIMARY KEY,
        principal_id text COLLATE "C" NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        token_hash   text COLLATE "C" NOT NULL,
        created_at   epoch_ms NOT NULL,
        expires_at   epoch_ms,
        revoked_at   epoch_ms,
        description  text,
        CONSTRAINT api_tokens_hash_key UNIQUE (token_hash)
      )`,
      `CREATE INDEX api_tokens_principal_idx ON api_tokens (principal_id, created_at, token_id)`,
    ],
  },
  {
    // Group commit in one round trip (issue 3): see record-function.ts.
    version: 4,
    description: 'flowrun_record_transitions',
    statements: [RECORD_FUNCTION_SQL],
  },
  {
    // Events follow the permission model (issue 12). The function's column list names every
    // run column, so it is created again with the new one.
    version: 5,
    description: 'event_grants, runs.triggered_by',
    statements: [
      `CREATE TABLE event_grants (
        principal_id text COLLATE "C" NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
        event_right  text COLLATE "C" NOT NULL CHECK (event_right IN ('publish', 'subscribe')),
        pattern      text COLLATE "C" NOT NULL,
        PRIMARY KEY (principal_id, event_right, pattern)
      )`,
      `ALTER TABLE runs ADD COLUMN triggered_by text`,
      `DROP FUNCTION flowrun_record_transitions(json)`,
      RECORD_FUNCTION_SQL,
    ],
  },
  {
    // Issue 12: the store's secret (run ids no user can compute; the row is written by the first
    // getStoreSecret, so an upgraded store gets one too) and the outbox of emitted events, written
    // by the same statement as the transition that emitted them (so the record function is
    // replaced) and swept by recorded time until published.
    version: 6,
    description: 'secrets, pending_emits',
    statements: [
      `CREATE TABLE secrets (
        name  text COLLATE "C" PRIMARY KEY,
        value bytea NOT NULL
      )`,
      `CREATE TABLE pending_emits (
        event_id    text COLLATE "C" PRIMARY KEY,
        run_id      text COLLATE "C" NOT NULL,
        event       text NOT NULL,
        payload     json NOT NULL,
        recorded_at epoch_ms NOT NULL
      )`,
      `CREATE INDEX pending_emits_recorded_idx ON pending_emits (recorded_at, event_id)`,
      RECORD_FUNCTION_SQL,
    ],
  },
  {
    // Run trees (issue 12): see run-trees.ts. The batch function is replaced whole by its
    // current text, which counts created runs; migration 4 installs that same text on a new
    // database (plpgsql resolves tables when it runs, not when it is created).
    version: 7,
    description: 'run_trees, runs.tree_id, flowrun_count_tree_runs',
    statements: [`ALTER TABLE runs ADD COLUMN tree_id text COLLATE "C"`, ...RUN_TREES_SQL, `DROP FUNCTION flowrun_record_transitions(json)`, RECORD_FUNCTION_SQL],
  },
  {
    // A new run joining an existing tree (an EMIT's event started it) is counted into that tree:
    // the batch function is replaced by its current text (same signature).
    version: 8,
    description: 'flowrun_record_transitions counts event-started runs into their tree',
    statements: [RECORD_FUNCTION_SQL],
  },
  {
    // State as slots (issue 13): a run's `state` holds a small header and `run_state_slots` one
    // JSON value per key (a step's output, a var, a frame's item — core/state-slots.ts), so a
    // transition writes what it changed. `state_slots` says which form a row holds: rows from
    // before keep their state whole until their next transition writes it as slots. Keys compare
    // byte-wise, so a frame's keys (`f<i>:…`) are one index range. `ord` keeps the order slots
    // were first written in. The batch function is replaced by its current text (same signature).
    version: 9,
    description: 'run_state_slots, runs.state_slots',
    statements: [
      `ALTER TABLE runs ADD COLUMN state_slots boolean NOT NULL DEFAULT false`,
      `CREATE TABLE run_state_slots (
        run_id text COLLATE "C" NOT NULL,
        key    text COLLATE "C" NOT NULL,
        ord    bigint NOT NULL,
        body   json NOT NULL,
        PRIMARY KEY (run_id, key)
      )`,
      RECORD_FUNCTION_SQL,
    ],
  },
  {
    // Issue 13: events find their waiters, and the poller its due timers, through an index. The
    // batch function is replaced by its current text, which writes the column with the state.
    version: 10,
    description: 'runs.waiting_event, runs_waiting_event_idx, runs_due_idx',
    statements: [
      `ALTER TABLE runs ADD COLUMN waiting_event text COLLATE "C"`,
      `CREATE INDEX runs_waiting_event_idx ON runs (waiting_event, run_id) WHERE waiting_event IS NOT NULL`,
      `CREATE INDEX runs_due_idx ON runs (ready_at, run_id) WHERE status = 'INACTIVE' AND ready_at IS NOT NULL`,
      RECORD_FUNCTION_SQL,
    ],
    fill: fillWaitingEvents,
  },
  {
    // The batch function reads what it tests (presence, lengths, kinds, the tree) from the jsonb it
    // parsed once, not with json operators that parse a transition's whole text (its state) again
    // for every test: same effects, less CPU per transition. Replaced by its current text.
    version: 12,
    description: 'flowrun_record_transitions tests the parsed jsonb',
    statements: [RECORD_FUNCTION_SQL],
  },
  {
    // Issue 14: system administrators (a mark on principals), and runs by (flow, status) for a
    // listing's total and pages with both filters. Versions 9-12 belong to other branches;
    // numbers may skip (MIGRATION_VERSIONS).
    version: 13,
    description: 'principals.is_administrator, runs_flow_status_start_idx',
    statements: [
      `ALTER TABLE principals ADD COLUMN is_administrator boolean NOT NULL DEFAULT false`,
      `CREATE INDEX runs_flow_status_start_idx ON runs (flow_id, status, start_time, run_id)`,
    ],
  },
  {
    // A small state is written whole in the run row (core/state-slots.ts, InlineState): the batch
    // function takes such a transition (`in`) and new runs without slots. Rows already stored keep
    // their form until their next write. Pages of `runs` keep a quarter free (new pages only): a
    // transition that changes no indexed column (a step of a running run) can then write the new
    // row version beside the old one (a HOT update) instead of adding an entry to each of the
    // table's thirteen indexes. Versions 14-15 belong to other branches.
    version: 16,
    description: 'flowrun_record_transitions writes small states whole in the run row; runs fillfactor 75',
    statements: [RECORD_FUNCTION_SQL, `ALTER TABLE runs SET (fillfactor = 75)`],
  },
  {
    // Issue 15: see the header comment. Versions 14-16 belong to the release before.
    version: 17,
    description: 'approvals in runs.waiting_event, flow_versions.source',
    statements: [`ALTER TABLE flow_versions ADD COLUMN source json`],
    fill: fillApprovalWaiters,
  },
  {
    // Issue 17: schedules, each record whole in `body`; the partial due index holds only
    // schedules that will fire, so a poll's claim reads due rows only.
    // IF NOT EXISTS: a store set back to an older version by hand (as the upgrade tests do) still migrates.
    version: 18,
    description: 'schedules',
    statements: [
      `CREATE TABLE IF NOT EXISTS schedules (
        schedule_id text COLLATE "C" PRIMARY KEY,
        flow_id text NOT NULL,
        next_fire_at double precision,
        claim_owner text,
        claim_until double precision NOT NULL DEFAULT 0,
        version integer NOT NULL,
        body text NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS schedules_due_idx ON schedules (next_fire_at, schedule_id) WHERE next_fire_at IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS schedules_flow_idx ON schedules (flow_id, schedule_id)`,
    ],
  },
  {
    // Issue 18 (traces): a run's W3C trace context, read with the run and never by a query; NULL
    // on runs recorded before (they are executed untraced by parent, in a trace of their own).
    // The record function inserts new runs' rows column by column, so it is made again with it.
    version: 19,
    description: 'runs.trace_context',
    statements: [`ALTER TABLE runs ADD COLUMN trace_context json`, RECORD_FUNCTION_SQL],
  },
];

/** The schema version this code writes and reads: the last migration's. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** The versions of the migrations, in order (numbers may skip: branches reserve theirs). */
export const MIGRATION_VERSIONS: readonly number[] = MIGRATIONS.map((migration) => migration.version);

/** Options of {@link migrate}. */
export interface MigrateOptions {
  schema: string;
  /** Receives operational warnings (no trigram index). */
  warn: (message: string) => void;
  /** Stops at this version instead of {@link SCHEMA_VERSION}: tests of upgrades build the older schema with it. */
  targetVersion?: number;
}

/**
 * Brings the store's schema to {@link SCHEMA_VERSION} on `client` (whose search_path is the
 * schema). Runs in one transaction under `pg_advisory_xact_lock`, so of several processes
 * starting at once exactly one applies each migration and the others wait, then find it done.
 * A crash mid-migration rolls the whole step back; the next start applies it again.
 * A database whose schema is newer than this code is refused with STORE_ERROR and nothing is
 * written to it.
 */
export async function migrate(client: PoolClient, options: MigrateOptions): Promise<void> {
  const quoted = quoteIdentifier(options.schema);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_CLASS, options.schema]);
    // CREATE SCHEMA IF NOT EXISTS checks the database-level CREATE privilege before it checks
    // existence, so ask first: a role that owns an existing schema needs nothing more.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [options.schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quoted}`);
    // The connection's search_path named the schema before it existed; pin it for this transaction.
    await client.query(`SELECT set_config('search_path', $1, true)`, [quoted]);
    await client.query(`CREATE TABLE IF NOT EXISTS ${quoted}.flowrun_schema (
      version     integer PRIMARY KEY,
      description text NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now()
    )`);
    const found = await client.query<{ version: number }>(`SELECT COALESCE(max(version), 0)::integer AS version FROM ${quoted}.flowrun_schema`);
    const current = found.rows[0]?.version ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new FlowError('STORE_ERROR', `database schema version ${current} is newer than this flowrun (${SCHEMA_VERSION}); upgrade flowrun`, {
        details: { schema: options.schema, databaseVersion: current, codeVersion: SCHEMA_VERSION },
      });
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current || migration.version > (options.targetVersion ?? SCHEMA_VERSION)) continue;
      for (const statement of migration.statements) await client.query(statement);
      await migration.fill?.(client);
      if (migration.version === 1) await createLabelIndex(client, options);
      await client.query(`INSERT INTO ${quoted}.flowrun_schema (version, description) VALUES ($1, $2)`, [migration.version, migration.description]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Backs the label substring filter with a pg_trgm GIN index. pg_trgm is a trusted extension
 * (PostgreSQL 13+), so a database owner may create it; without the privilege the store works
 * the same, only label filters scan the rows that the other filters leave.
 */
async function createLabelIndex(client: PoolClient, options: MigrateOptions): Promise<void> {
  let extensionSchema = await findTrigramSchema(client);
  if (extensionSchema === null) {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [EXTENSION_LOCK_KEY]);
    extensionSchema = await findTrigramSchema(client);
  }
  // The extension lives in one schema for the whole database; `public` rather than the store's
  // schema, so dropping one store's schema cannot take other stores' indexes with it.
  for (const target of extensionSchema === null ? ['public', options.schema] : []) {
    await client.query('SAVEPOINT flowrun_trgm');
    try {
      await client.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA ${quoteIdentifier(target)}`);
      await client.query('RELEASE SAVEPOINT flowrun_trgm');
      extensionSchema = await findTrigramSchema(client);
      break;
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT flowrun_trgm; RELEASE SAVEPOINT flowrun_trgm');
      options.warn(`flowrun: cannot create extension pg_trgm in schema "${target}" (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  if (extensionSchema === null) {
    options.warn(`flowrun: pg_trgm is unavailable, so schema "${options.schema}" has no trigram index; listRuns label filters will scan`);
    return;
  }
  await client.query(`CREATE INDEX runs_label_trgm_idx ON runs USING gin (label ${quoteIdentifier(extensionSchema)}.gin_trgm_ops)`);
}

async function findTrigramSchema(client: PoolClient): Promise<string | null> {
  const found = await client.query<{ nspname: string }>(
    `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`,
  );
  return found.rows[0]?.nspname ?? null;
}

/** Quotes an SQL identifier ("a""b"). Schema names are validated before they get here; this is the second fence. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
