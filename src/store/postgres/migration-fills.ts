/**
 * What PostgreSQL migrations compute in JavaScript rather than SQL (migrations.ts `fill`): the
 * waiting-event column of runs already waiting (migrations 10 and 17), read by the rule the stores
 * write it with (store/waiting-event.ts). PostgreSQL's json operators fail on a state holding a
 * `\u0000` anywhere, which must not stop an upgrade nor leave such a run unfound.
 */
import type { PoolClient } from 'pg';
import type { RunState } from '../../core/run.js';
import { AWAITING_APPROVAL } from '../../core/store.js';
import { awaitedEvent } from '../waiting-event.js';

/**
 * Marks the runs already waiting for an approval (awaitedEvent), their suspension read whole or
 * from its slot (`x:suspension`). In JavaScript for the reason {@link fillWaitingEvents} gives;
 * pages of INACTIVE runs not yet marked whose state or suspension slot mentions an approval.
 */
export async function fillApprovalWaiters(client: PoolClient): Promise<void> {
  for (let after = ''; ; ) {
    const page = await client.query<{ run_id: string; state: string; suspension: string | null }>(
      `SELECT r.run_id, r.state::text AS state, s.body::text AS suspension FROM runs r
        LEFT JOIN run_state_slots s ON r.state_slots AND s.run_id = r.run_id AND s.key = 'x:suspension'
        WHERE r.status = 'INACTIVE' AND r.waiting_event IS NULL AND r.run_id > $1::text
          AND position('"approval"' IN coalesce(s.body::text, r.state::text)) > 0
        ORDER BY r.run_id LIMIT 1000`,
      [after],
    );
    const last = page.rows.at(-1);
    if (!last) return;
    const waiting = page.rows.flatMap((row) => {
      let event: string | null = null;
      try {
        const suspension = row.suspension !== null ? (JSON.parse(row.suspension) as RunState['suspension']) : (JSON.parse(row.state) as RunState).suspension;
        event = awaitedEvent(suspension);
      } catch {
        // Not JSON, or not an object: the run waits for nothing.
      }
      return event === AWAITING_APPROVAL ? [row.run_id] : [];
    });
    if (waiting.length > 0) await client.query(`UPDATE runs SET waiting_event = '#approval' WHERE run_id = ANY($1::text[])`, [waiting]);
    after = last.run_id;
  }
}

/**
 * Fills `waiting_event` for the runs already waiting, by the rule the stores write it with
 * (awaitedEvent). In JavaScript rather than SQL: PostgreSQL's json operators fail on a state
 * holding a `\u0000` anywhere, which must not stop an upgrade nor leave such a run unfound. Pages
 * of INACTIVE runs whose state mentions an event, by run id; a state that does not parse (a
 * damaged row, read as unreadable) waits for nothing.
 */
export async function fillWaitingEvents(client: PoolClient): Promise<void> {
  for (let after = ''; ; ) {
    const page = await client.query<{ run_id: string; state: string }>(
      `SELECT run_id, state::text AS state FROM runs
        WHERE status = 'INACTIVE' AND run_id > $1::text AND position('"event"' IN state::text) > 0 ORDER BY run_id LIMIT 1000`,
      [after],
    );
    const last = page.rows.at(-1);
    if (!last) return;
    const waiting = page.rows.flatMap((row) => {
      let event: string | null = null;
      try {
        event = awaitedEvent((JSON.parse(row.state) as RunState).suspension);
      } catch {
        // Not JSON, or not an object: the run waits for nothing.
      }
      return event === null ? [] : [{ runId: row.run_id, event }];
    });
    if (waiting.length > 0) {
      await client.query(`UPDATE runs SET waiting_event = w.event FROM unnest($1::text[], $2::text[]) AS w(run_id, event) WHERE runs.run_id = w.run_id`, [
        waiting.map((w) => w.runId),
        waiting.map((w) => w.event),
      ]);
    }
    after = last.run_id;
  }
}
