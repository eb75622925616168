// A fresh PostgreSQL schema per test, dropped afterwards. Tests that need PostgreSQL run when
// FLOWRUN_TEST_PG_URL is set (CI sets it) and are skipped, saying so, when it is not.
import pg from 'pg';

export const pgUrl = process.env.FLOWRUN_TEST_PG_URL;

/** " (skipped: …)" for a test name when PostgreSQL is not configured, else "". */
export const pgSkipNote = pgUrl ? '' : ' (skipped: FLOWRUN_TEST_PG_URL unset)';

/** A store spec on a new schema name, and the function that drops that schema. */
export function freshPgSchema(prefix: string): { spec: string; drop: () => Promise<void> } {
  const schema = `${prefix}_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const url = new URL(pgUrl!);
  url.searchParams.set('schema', schema);
  return {
    spec: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
