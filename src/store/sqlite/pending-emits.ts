/**
 * The SQLite store's outbox of emitted events (`Store.listPendingEmits` / `deletePendingEmits`):
 * rows written in the savepoint of the transition that emitted them, deleted once published —
 * and the store's secret (`Store.getStoreSecret`), the other row of issue 12's migration.
 */
import type { EmittedEvent, PendingEmit } from '../../core/store.js';
import type { SqliteConnection } from './sqlite-connection.js';

interface PendingEmitRow {
  event_id: string;
  run_id: string;
  event: string;
  payload: string;
  recorded_at: number;
}

/** Adds a transition's emitted events to the outbox; an event id already there keeps its first row. */
export function insertPendingEmits(conn: SqliteConnection, runId: string, emits: readonly EmittedEvent[], at: number): void {
  for (const emit of emits) {
    conn.run('INSERT OR IGNORE INTO flowrun_pending_emits (event_id, run_id, event, payload, recorded_at) VALUES (?, ?, ?, ?, ?)', [
      emit.eventId,
      runId,
      emit.event,
      JSON.stringify(emit.payload ?? null),
      at,
    ]);
  }
}

/** The oldest emitted events recorded at or before `recordedBefore`, read over the (recorded_at, event_id) index. */
export function listPendingEmits(conn: SqliteConnection, input: { recordedBefore: number; limit: number }): PendingEmit[] {
  const rows = conn.all<PendingEmitRow>('SELECT * FROM flowrun_pending_emits WHERE recorded_at <= ? ORDER BY recorded_at, event_id LIMIT ?', [
    input.recordedBefore,
    Math.max(0, Math.floor(input.limit)),
  ]);
  return rows.map((row) => ({ eventId: row.event_id, runId: row.run_id, event: row.event, payload: JSON.parse(row.payload) as unknown, recordedAt: row.recorded_at }));
}

/** Removes published events from the outbox. */
export function deletePendingEmits(conn: SqliteConnection, eventIds: readonly string[]): void {
  for (const id of eventIds) conn.run('DELETE FROM flowrun_pending_emits WHERE event_id = ?', [id]);
}

/**
 * The store's secret, created by the first caller: INSERT OR IGNORE then SELECT in one savepoint,
 * under SQLite's write lock, so every process reads the bytes of whichever inserted first.
 */
export function storeSecret(conn: SqliteConnection, fresh: Uint8Array): Uint8Array {
  conn.run(`INSERT OR IGNORE INTO flowrun_secrets (name, value) VALUES ('run-ids', ?)`, [Buffer.from(fresh)]);
  const row = conn.get<{ value: Buffer }>(`SELECT value FROM flowrun_secrets WHERE name = 'run-ids'`)!;
  return new Uint8Array(row.value);
}
