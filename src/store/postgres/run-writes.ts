/**
 * The SQL statements that write runs and that both the store's own methods and group-committed
 * transitions use: inserting a run with its first events, waking runs, and announcing changes
 * with NOTIFY. Each runs on the connection it is given, inside the caller's transaction if any.
 */
import type { PoolClient, QueryResult, QueryResultRow } from 'pg';
import type { NewRun, RunEventBody } from '../../core/run.js';
import { RUN_COLUMNS, newRunPlaceholders, newRunValues, slotUpsertSql, slotsArgument } from './run-rows.js';
import { jsonOfItems } from '../../core/sealed-text.js';

/** Anything that runs a query: a pooled client (in or out of a transaction) or the pool. */
export type Sql = Pick<PoolClient, 'query'>;

/** Statement texts prepared under a name, so each connection parses and plans them once. */
const preparedNames = new Map<string, string>();

/** Past this many distinct texts (a bug, or shapes nobody foresaw) new texts run unprepared. */
const MAX_PREPARED = 256;

/**
 * Runs `text` as a named prepared statement: the connection parses and plans it on first use and
 * then only binds and executes it, which is most of a short statement's server CPU. For texts
 * that differ only in their parameters, i.e. the store's own statements, never user text.
 */
export function preparedQuery<R extends QueryResultRow>(sql: Sql, text: string, values: unknown[]): Promise<QueryResult<R>> {
  let name = preparedNames.get(text);
  if (name === undefined && preparedNames.size < MAX_PREPARED) {
    name = `flowrun_${preparedNames.size + 1}`;
    preparedNames.set(text, name);
  }
  return name === undefined ? sql.query<R>(text, values) : sql.query<R>({ name, text, values });
}

/** The LISTEN/NOTIFY channel; payloads are `<runId>:<lastSeq>`. */
export const NOTIFY_CHANNEL = 'flowrun_events';

/** The channel of transient item changes and output snapshots (transient-notifier.ts), live only: never stored. */
export const TRANSIENT_CHANNEL = 'flowrun_transient';

/** The PRIMARY KEY constraint of `runs`: a unique violation on it means "run id taken". */
export const RUNS_PKEY = 'runs_pkey';

/**
 * A FROM item yielding `(body, kind, ord)` for events passed as a JSON array (`bodies`) and a
 * parallel text[] of their kinds (`kinds`), both SQL parameter references. The kind travels
 * apart because extracting it with `->>` makes PostgreSQL de-escape every string of the event,
 * and one `\u0000` in a log line or an item would then fail the whole transition.
 */
export function eventRowsFrom(bodies: string, kinds: string): string {
  return `ROWS FROM (json_array_elements(${bodies}::json), unnest(${kinds}::text[])) WITH ORDINALITY AS e(body, kind, ord)`;
}

/** The kinds of `events`, in order: the parameter paired with their bodies in {@link eventRowsFrom}. */
export function eventKinds(events: RunEventBody[]): string[] {
  return events.map((event) => event.kind);
}

/** Changed runs and their new `lastSeq`, to announce after commit. */
export type TouchedRuns = Map<string, number>;

/**
 * Inserts a run and its first events (seq 1…n, at time `at`) in one statement, so neither is
 * visible without the other. With `notify`, the same statement queues the NOTIFY, which
 * PostgreSQL delivers only if and when the statement's transaction commits.
 * Throws the driver's unique violation on {@link RUNS_PKEY} when the id is taken. A run joining
 * an existing tree (`treeId !== runId`) is counted into it by the same statement, after the
 * insert (a taken id is reported first): `flowrun_count_tree_runs` raises for a canceled or full
 * tree (`maxRunsPerTree`), which undoes the statement.
 */
export async function insertRun(
  sql: Sql,
  input: { run: NewRun; events: RunEventBody[]; at: number; updatedAt: number; lease: { owner: string; expiresAt: number } | null; notify: boolean; maxRunsPerTree?: number },
): Promise<void> {
  const { values, slots } = newRunValues(input.run, { updatedAt: input.updatedAt, lastSeq: input.events.length, lease: input.lease });
  const n = values.length;
  values.push(input.at, JSON.stringify(input.events), eventKinds(input.events), `${input.run.runId}:${input.events.length}`);
  let slotsCte = '';
  if (slots) {
    // The state's slots are written by the same statement, off the inserted row. Keys and values
    // apart (slotUpsertSql): a NUL in the input or a value cannot fail the statement.
    const slotArgument = slotsArgument(slots);
    values.push(JSON.stringify({ ...slotArgument, b: [] }), jsonOfItems(slotArgument.b));
    slotsCte = `, sp AS (${slotUpsertSql('r.run_id', '0', `$${values.length - 1}::json`, `$${values.length}::json`).replace('WITH ORDINALITY AS k(key, body, ord)', 'WITH ORDINALITY AS k(key, body, ord), r')})`;
  }
  const joinsTree = input.run.treeId !== input.run.runId;
  if (joinsTree) values.push(input.run.treeId, input.maxRunsPerTree ?? null);
  await sql.query(
    `WITH r AS (
       INSERT INTO runs (${RUN_COLUMNS}) VALUES ${newRunPlaceholders(1)} RETURNING run_id
     ), ev AS (
       INSERT INTO run_events (run_id, seq, kind, time, body)
       SELECT r.run_id, e.ord, e.kind, $${n + 1}::float8, e.body
       FROM r, ${eventRowsFrom(`$${n + 2}`, `$${n + 3}`)}
     )${slotsCte}${joinsTree ? `, tr AS (SELECT flowrun_count_tree_runs($${values.length - 1}::text, 1, $${values.length}::float8) AS n FROM r)` : ''}
     SELECT ${input.notify ? `pg_notify('${NOTIFY_CHANNEL}', $${n + 4}::text)` : `$${n + 4}::text`} FROM r${joinsTree ? ', tr' : ''}`,
    values,
  );
}

/**
 * Makes the given runs claimable now (`ready_at = at`) if they are still ACTIVE; ids that do not
 * exist or runs that ended are skipped, like the memory store. Adds the woken runs to `touched`.
 */
export async function wakeRuns(sql: Sql, runIds: string[], at: number, touched: TouchedRuns, lease?: { owner: string; expiresAt: number }): Promise<string[]> {
  if (runIds.length === 0) return [];
  // With a lease: a woken run nobody holds (or whose lease ran out) is leased to the waker.
  const woken = await sql.query<{ run_id: string; last_seq: number }>(
    lease
      ? `UPDATE runs SET ready_at = $2::float8,
           lease_owner = CASE WHEN lease_owner IS NULL OR lease_expires_at <= $2::float8 THEN $3::text ELSE lease_owner END,
           fencing_token = CASE WHEN lease_owner IS NULL OR lease_expires_at <= $2::float8 THEN fencing_token + 1 ELSE fencing_token END,
           lease_expires_at = CASE WHEN lease_owner IS NULL OR lease_expires_at <= $2::float8 THEN $4::float8 ELSE lease_expires_at END
         WHERE run_id = ANY($1::text[]) AND status = 'ACTIVE' RETURNING run_id, last_seq`
      : `UPDATE runs SET ready_at = $2::float8 WHERE run_id = ANY($1::text[]) AND status = 'ACTIVE' RETURNING run_id, last_seq`,
    lease ? [runIds, at, lease.owner, lease.expiresAt] : [runIds, at],
  );
  for (const row of woken.rows) touched.set(row.run_id, Math.max(touched.get(row.run_id) ?? 0, row.last_seq));
  return woken.rows.map((row) => row.run_id);
}

/**
 * Queues one NOTIFY per touched run. Inside a transaction PostgreSQL holds them until COMMIT and
 * drops them on ROLLBACK, so a listener never hears of a change that is not there.
 */
export async function notifyRuns(sql: Sql, touched: TouchedRuns): Promise<void> {
  if (touched.size === 0) return;
  const payloads = [...touched].map(([runId, lastSeq]) => `${runId}:${lastSeq}`);
  await sql.query(`SELECT pg_notify('${NOTIFY_CHANNEL}', p) FROM unnest($1::text[]) AS p`, [payloads]);
}
