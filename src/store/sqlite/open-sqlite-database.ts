/**
 * Opens a flowrun SQLite file: loads the native driver on demand, checks the schema version
 * before writing anything, sets the connection's PRAGMAs and migrates.
 */
import { chmodSync, closeSync, openSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import { FlowError } from '../../core/errors.js';
import { migrate, readSchemaVersion, schemaTooNewError, SQLITE_SCHEMA_VERSION } from './migrations.js';

/** How a connection is opened. */
export interface OpenSqliteOptions {
  path: string;
  /** FULL (default) fsyncs the WAL on every commit: a committed transition survives power loss. NORMAL may lose the last commits on power loss (never on a process crash) and is ~10x faster. */
  synchronous: 'FULL' | 'NORMAL';
  /** How long SQLite itself waits for another connection's write lock before SQLITE_BUSY. */
  busyTimeoutMs: number;
}

/**
 * Opens and migrates the database at `options.path`, creating the file when it is missing.
 * The file and its `-wal` / `-shm` companions are made 0600 (owner only) whatever the umask,
 * existing ones included: they hold every run's input and output.
 *
 * Guarantees: a file that is not SQLite, or whose schema is newer than this code, is refused
 * with STORE_ERROR naming the file and is not written (the version is read before the
 * connection switches to WAL, which would rewrite the header). Migration is one transaction, so
 * a crash during it leaves the previous schema; several processes may open the file at once.
 */
export async function openSqliteDatabase(options: OpenSqliteOptions): Promise<BetterSqlite3.Database> {
  // Loaded here, not at the top of the module: `import 'flowrun'` must not load a native
  // module that an application using only the memory or PostgreSQL store never needs.
  let Database: typeof BetterSqlite3;
  try {
    Database = (await import('better-sqlite3')).default;
  } catch (error) {
    throw new FlowError('STORE_ERROR', `cannot load better-sqlite3 for the SQLite store at "${options.path}": ${messageOf(error)}`, { cause: error });
  }
  let db: BetterSqlite3.Database | undefined;
  try {
    restrictToOwner(options.path);
    db = new Database(options.path);
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`);
    const found = readSchemaVersion(db);
    if (found > SQLITE_SCHEMA_VERSION) throw schemaTooNewError(found, options.path);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (typeof mode !== 'string' || mode.toLowerCase() !== 'wal') {
      throw new FlowError('STORE_ERROR', `SQLite database "${options.path}" cannot use WAL journaling (got ${String(mode)})`);
    }
    db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    // The store deletes a run's rows itself in one transaction; see migrations.ts.
    db.pragma('foreign_keys = OFF');
    // Every write runs in a savepoint (group-commit-queue.ts), and SQLite copies each page a
    // savepoint changes into a statement journal first — by default a temporary file, two system
    // calls per page. In memory, a run's INSERT in a savepoint costs ~1.7× less (bench/sqlite-statements.ts); temporary
    // sort tables of large listings live there too, which bounded page sizes keep small.
    db.pragma('temp_store = MEMORY');
    // Only a schema that needs work takes the write lock: opening a current file never waits
    // for (or blocks) another process's writes.
    if (found < SQLITE_SCHEMA_VERSION) migrate(db, options.path);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof FlowError) throw error;
    throw new FlowError('STORE_ERROR', `cannot open SQLite database "${options.path}": ${messageOf(error)}`, { cause: error, details: { path: options.path } });
  }
}

/**
 * Creates the database file 0600 if it is missing and tightens it and its companions to 0600.
 * SQLite creates `-wal` and `-shm` with the database file's mode (os_unix.c, findCreateFileMode),
 * so a 0600 database gets 0600 companions; leftovers of an older, looser file are tightened here.
 */
function restrictToOwner(path: string): void {
  if (path === ':memory:' || path.startsWith('file:')) return;
  // Only a missing file is opened: closing a descriptor of the database drops every POSIX lock this
  // process holds on it, those of another store already open on the same file included.
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
