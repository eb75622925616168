/**
 * The options of the PostgreSQL store (postgres-store.ts), apart so that file stays about the store.
 */

/** Options of `PostgresStore`. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`; never echoed in errors. */
  connectionString: string;
  /** The schema holding flowrun's tables (created if missing). Default `public`. */
  schema?: string;
  /** Most pooled connections (default 10); LISTEN uses one more. */
  poolSize?: number;
  /** Receives operational warnings (a missing trigram index, a lost LISTEN connection). Default console.warn. */
  onWarning?: (message: string) => void;
}
