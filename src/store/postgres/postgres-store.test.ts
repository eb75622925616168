/**
 * The shared store suite against PostgreSQL, each test in a fresh schema that is dropped after.
 * Skipped, saying why, when FLOWRUN_TEST_PG_URL is unset; CI sets it.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';
import { runStoreConformance } from '../store.conformance.js';
import { PostgresStore } from './postgres-store.js';

const url = process.env.FLOWRUN_TEST_PG_URL;
const schemas: string[] = [];
const schemaOf = new WeakMap<object, string>();

runStoreConformance({
  name: 'postgres',
  skip: url ? false : 'FLOWRUN_TEST_PG_URL is not set (CI sets it to a PostgreSQL 15 database)',
  createStore: async () => {
    const schema = `flowrun_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    const store = new PostgresStore({ connectionString: url!, schema, poolSize: 4 });
    schemaOf.set(store, schema);
    return store;
  },
  openAnother: (store) => new PostgresStore({ connectionString: url!, schema: schemaOf.get(store)!, poolSize: 2 }),
  // PostgreSQL refuses JSON that does not parse, so the damage is JSON of the wrong shape, written behind the store's back.
  corruptRun: async (store, runId) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(`UPDATE "${schemaOf.get(store)!}".runs SET state = '"damaged"'::json, monitors = '7'::json WHERE run_id = $1`, [runId]);
    } finally {
      await client.end();
    }
  },
});

afterAll(async () => {
  if (!url || schemas.length === 0) return;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
});
