/**
 * `Store.createRuns` in PostgreSQL: a burst of runs that each start their own tree (fired
 * schedules) inserted by one statement — the rows from one JSON array, their first events from
 * parallel arrays, one NOTIFY each — instead of one function step per run. A taken id is skipped
 * by `ON CONFLICT DO NOTHING` and answered `'exists'`; the statement is atomic on its own, so a
 * crash leaves all of the runs it inserted or none.
 */
import type { NewRun, RunEventBody } from '../../core/run.js';
import type { Sql } from './run-writes.js';
import { NOTIFY_CHANNEL, eventKinds, preparedQuery } from './run-writes.js';
import { INSERT_COLUMNS, newRunArgument } from './record-function.js';
import { createdOrExists } from '../create-runs-one-by-one.js';

/** The statement: `$1` the rows; `$2`…`$6` the events' bodies (a JSON array), kinds, run ids, seqs and times, in parallel. */
const CREATE_ROOT_RUNS_SQL = `WITH r AS (
    INSERT INTO runs (${INSERT_COLUMNS}) SELECT ${INSERT_COLUMNS} FROM json_populate_recordset(NULL::runs, $1::json)
    ON CONFLICT (run_id) DO NOTHING RETURNING run_id, last_seq
  ), ev AS (
    INSERT INTO run_events (run_id, seq, kind, time, body)
    SELECT e.run_id, e.seq, e.kind, e.time, e.body
    FROM ROWS FROM (json_array_elements($2::json), unnest($3::text[]), unnest($4::text[]), unnest($5::int[]), unnest($6::float8[])) AS e(body, kind, run_id, seq, time)
    JOIN r ON r.run_id = e.run_id
  )
  SELECT run_id, pg_notify('${NOTIFY_CHANNEL}', run_id || ':' || last_seq) FROM r`;

/** Runs per statement: a larger call is written in several, each atomic on its own. */
const RUNS_PER_STATEMENT = 500;

/**
 * Creates `runs` (each its own tree's root, unleased) with their first events at their start
 * times, as `Store.createRuns` promises: those whose state is whole in the row by
 * {@link CREATE_ROOT_RUNS_SQL}, through `statement`, {@link RUNS_PER_STATEMENT} at a time; a run
 * whose state is written as slots, or whose statement failed, through `createOne` (the store's
 * single creation, which writes any value the store takes). Resolves with
 * each one's outcome in input order, `'exists'` for an id already taken (or given twice); rejects
 * with the first failure once every write settled, some runs possibly created.
 */
export async function createRootRuns(input: {
  runs: { run: NewRun; events: RunEventBody[] }[];
  statement: <T>(fn: (sql: Sql) => Promise<T>) => Promise<T>;
  createOne: (entry: { run: NewRun; events: RunEventBody[] }) => Promise<unknown>;
}): Promise<('created' | 'exists')[]> {
  const outcomes: ('created' | 'exists')[] = [];
  const writes: Promise<unknown>[] = [];
  const one = (index: number): Promise<void> => createdOrExists(input.createOne(input.runs[index]!)).then((outcome) => void (outcomes[index] = outcome));
  let chunk: { index: number; row: unknown; entry: { run: NewRun; events: RunEventBody[] } }[] = [];
  const flush = (): void => {
    const rows = chunk;
    chunk = [];
    writes.push(
      input.statement((sql) => insertChunk(sql, rows)).then(
        (created) => rows.forEach((r, i) => (outcomes[r.index] = created[i]!)),
        // The statement wrote nothing (a value its JSON cannot carry, such as \u0000 in an input; a
        // dropped connection, after which a run it wrote answers 'exists'): each run alone.
        () => Promise.all(rows.map((r) => one(r.index))),
      ),
    );
  };
  for (const [index, entry] of input.runs.entries()) {
    const argument = newRunArgument(entry.run, entry.events, null, entry.run.startTime);
    if ('sl' in argument) writes.push(one(index));
    else chunk.push({ index, row: argument.row, entry });
    if (chunk.length >= RUNS_PER_STATEMENT) flush();
  }
  if (chunk.length > 0) flush();
  const settled = await Promise.allSettled(writes);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes;
}

/** Inserts one chunk in one statement; each row's outcome, in order. */
async function insertChunk(sql: Sql, chunk: { row: unknown; entry: { run: NewRun; events: RunEventBody[] } }[]): Promise<('created' | 'exists')[]> {
  const bodies: RunEventBody[] = [];
  const kinds: string[] = [];
  const runIds: string[] = [];
  const seqs: number[] = [];
  const times: number[] = [];
  for (const { entry: { run, events } } of chunk) {
    bodies.push(...events);
    kinds.push(...eventKinds(events));
    for (let seq = 1; seq <= events.length; seq++) {
      runIds.push(run.runId);
      seqs.push(seq);
      times.push(run.startTime);
    }
  }
  const inserted = await preparedQuery<{ run_id: string }>(sql, CREATE_ROOT_RUNS_SQL, [JSON.stringify(chunk.map((c) => c.row)), JSON.stringify(bodies), kinds, runIds, seqs, times]);
  const created = new Set(inserted.rows.map((row) => row.run_id));
  // An id given twice: the first is the one inserted.
  return chunk.map(({ entry }) => (created.delete(entry.run.runId) ? 'created' : 'exists'));
}
