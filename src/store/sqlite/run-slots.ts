/**
 * Writes a run's state slots (core/state-slots.ts) to `flowrun_run_slots`, inside the write that
 * records the transition (or creates the run), so they commit or roll back with it.
 */
import { prefixEnd, type StateChanges } from '../../core/state-slots.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** Slots one transition may write before their order (`ord`) runs into the next version's: order only, never data. */
const SLOTS_PER_VERSION = 1 << 20;

/**
 * Applies `changes` to the slots of `runId`: deletes first (every slot, for a whole write), then
 * upserts the puts — a slot put again keeps its place (`ord`), a new one goes after every other
 * (its version's range). `version` is the run's version after the write.
 */
export function writeSlots(conn: SqliteConnection, runId: string, version: number, changes: StateChanges): void {
  if (changes.replace) conn.run('DELETE FROM flowrun_run_slots WHERE run_id = ?', [runId]);
  for (const prefix of changes.deletePrefixes) conn.run('DELETE FROM flowrun_run_slots WHERE run_id = ? AND key >= ? AND key < ?', [runId, prefix, prefixEnd(prefix)]);
  for (const key of changes.delete) conn.run('DELETE FROM flowrun_run_slots WHERE run_id = ? AND key = ?', [runId, key]);
  const base = version * SLOTS_PER_VERSION;
  // A SET writes its value as a var and as the step's output: the same object, turned into JSON once.
  const bodies = new Map<unknown, string>();
  changes.put.forEach(({ key, value }, i) => {
    let body = typeof value === 'object' && value !== null ? bodies.get(value) : undefined;
    if (body === undefined) {
      body = JSON.stringify(value) ?? 'null';
      if (typeof value === 'object' && value !== null) bodies.set(value, body);
    }
    conn.run('INSERT INTO flowrun_run_slots (run_id, key, ord, body) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET body = excluded.body', [runId, key, base + i, body]);
  });
}
