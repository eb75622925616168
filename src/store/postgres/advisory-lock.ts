/**
 * Work that one process at a time may do (the retention sweep), under a PostgreSQL session-level
 * advisory lock taken on a connection of its own: no table, no migration. The lock is held while
 * the work runs and released after it — or by PostgreSQL itself when the process dies and its
 * connection drops — so a crash never leaves it taken.
 */
import type { Client } from 'pg';

/**
 * Runs `work` if the advisory lock named `key` (hashed by PostgreSQL into its 32-bit key space)
 * is free, holding it meanwhile; resolves true when it ran, false when another session holds it.
 * The lock's connection is separate from the pool, so `work` may use every pooled connection.
 */
export async function withAdvisoryLock(connect: () => Promise<Client>, key: string, work: () => Promise<void>): Promise<boolean> {
  const client = await connect();
  try {
    const taken = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [key]);
    if (!taken.rows[0]?.locked) return false;
    await work();
    return true;
  } finally {
    // Ending the session releases its advisory locks: no explicit unlock that could fail half-way.
    await client.end().catch(() => undefined);
  }
}
