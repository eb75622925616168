/**
 * The factory of the PostgreSQL store, the one a composition root (CLI, server, user code) calls.
 */
import { PostgresStore } from './postgres-store.js';

/** Options of {@link createPostgresStores}. */
export interface CreatePostgresStoresOptions {
  /** `postgres://user:password@host:port/database`; never echoed in errors. */
  connectionString: string;
  /** The schema holding flowrun's tables (created if missing). Default `public`. */
  schema?: string;
  /** Most pooled connections (default 10). */
  poolSize?: number;
}

/**
 * Creates a PostgreSQL store. Returns at once: it connects and migrates the schema on first use,
 * and loads the `pg` driver only then, so importing flowrun never requires it. Several processes
 * may create stores over the same database and schema at the same time: the migration runs once
 * under an advisory lock. Throws INVALID_INPUT for bad options; connection problems (server
 * down, wrong password, schema newer than this flowrun) surface as STORE_ERROR from the first
 * operation, and the next operation tries again.
 *
 * @example
 * const stores = createPostgresStores({ connectionString: process.env.DATABASE_URL!, schema: 'flowrun' });
 * const engine = createEngine({ stores });
 */
export function createPostgresStores(options: CreatePostgresStoresOptions): PostgresStore {
  return new PostgresStore(options);
}
