/**
 * `--store` for every CLI command: which stores to open. The composition root's one place that
 * turns a string into a Store.
 *
 *   (none)               .flowrun/ in the current folder (SQLite file .flowrun/flowrun.db)
 *   sqlite:PATH          a folder (flowrun.db inside) or a file ending in .db/.sqlite
 *   postgres://…         PostgreSQL; `?schema=NAME` picks a schema (default public)
 *   memory               in this process only
 */
import { FlowError } from '../core/errors.js';
import type { Store } from '../core/store.js';
import { createMemoryStores } from '../store/memory/memory-store.js';
import { createFilesystemStores, createSqliteStore } from '../store/sqlite/create-filesystem-stores.js';
import { createPostgresStores } from '../store/postgres/create-postgres-stores.js';

/** The store a CLI command uses when none is given. */
export const DEFAULT_STORE_SPEC = 'sqlite:.flowrun';

/** Opens the stores a `--store` value names; throws INVALID_INPUT for a value it cannot read. */
export function openStoreSpec(spec: string = DEFAULT_STORE_SPEC): Store {
  if (spec === 'memory') return createMemoryStores();
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw new FlowError('INVALID_INPUT', '--store sqlite: needs a path, e.g. sqlite:.flowrun or sqlite:/var/lib/flowrun/flowrun.db');
    return /\.(db|sqlite3?)$/.test(path) ? createSqliteStore({ path }) : createFilesystemStores({ rootDir: path });
  }
  if (spec.startsWith('postgres://') || spec.startsWith('postgresql://')) {
    const url = new URL(spec);
    const schema = url.searchParams.get('schema') ?? undefined;
    url.searchParams.delete('schema');
    return createPostgresStores({ connectionString: url.toString(), ...(schema ? { schema } : {}) });
  }
  throw new FlowError('INVALID_INPUT', `--store "${spec}" is not a store: use sqlite:PATH, postgres://…, or memory`);
}
