import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll } from 'vitest';
import { runStoreConformance } from '../store.conformance.js';
import { createSqliteStore } from './create-filesystem-stores.js';

const dir = mkdtempSync(join(tmpdir(), 'flowrun-sqlite-conformance-'));
let files = 0;
const paths = new WeakMap<object, string>();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreConformance({
  name: 'sqlite',
  createStore: async () => {
    const path = join(dir, `store-${++files}.db`);
    const store = createSqliteStore({ path });
    paths.set(store, path);
    return store;
  },
  openAnother: (store) => createSqliteStore({ path: paths.get(store)! }),
  // Another connection writes JSON that does not parse, as a damaged file or another program would.
  corruptRun: async (store, runId) => {
    const db = new Database(paths.get(store)!);
    try {
      db.prepare(`UPDATE flowrun_runs SET state = '{"frames": [', fixed = 'not json' WHERE run_id = ?`).run(runId);
    } finally {
      db.close();
    }
  },
});
