import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runStoreConformance } from '../store.conformance.js';
import { createSqliteStore } from './create-filesystem-stores.js';

const dir = mkdtempSync(join(tmpdir(), 'flowrun-sqlite-conformance-'));
let files = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreConformance({ name: 'sqlite', createStore: async () => createSqliteStore({ path: join(dir, `store-${++files}.db`) }) });
