/**
 * Factories of the SQLite store: `createFilesystemStores({rootDir})` for the embedded default
 * (one file under a directory) and `createSqliteStore({path})` for an explicit file.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { FlowError } from '../../core/errors.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';

/** Options of {@link createFilesystemStores}. */
export interface FilesystemStoresOptions {
  /**
   * The directory holding the database; created (with parents) when missing. Directories it
   * creates are its owner's only (0700, whatever the umask); an existing one keeps its mode.
   */
  rootDir: string;
  /** Refuse to open when NODE_ENV is `production`: for stores meant for local development only. */
  developmentOnly?: boolean;
  /** The database file name inside `rootDir`. Default `flowrun.db`. */
  fileName?: string;
  /** FULL (default) survives power loss; NORMAL survives process crashes only, and commits faster. */
  synchronous?: 'FULL' | 'NORMAL';
}

/**
 * Creates the SQLite store at `<rootDir>/flowrun.db` and returns it at once; the file opens and
 * migrates on first use. Runs written through it survive process crashes (and, with the default
 * `synchronous: 'FULL'`, power loss); several processes may call this on the same `rootDir`.
 * Calling it twice gives two stores over the same file, which see each other's writes.
 * The directories it creates are 0700 and the database files 0600, whatever the umask: run
 * inputs and outputs are readable by the store's owner only.
 *
 * @throws FlowError STORE_ERROR when `developmentOnly` is set and NODE_ENV is `production`, or
 *   when the directory cannot be created.
 * @example
 * const stores = createFilesystemStores({ rootDir: '.flowrun' });
 * await runAction({ flow: 'orders/process', input, userId, stores });
 */
export function createFilesystemStores(options: FilesystemStoresOptions): SqliteStore {
  if (typeof options?.rootDir !== 'string' || options.rootDir === '') {
    throw new FlowError('INVALID_INPUT', 'createFilesystemStores needs a directory (options.rootDir)', { details: { field: 'rootDir' } });
  }
  // The one read of the environment in src/store: `developmentOnly` exists to stop a developer's
  // store from silently becoming a production database, and NODE_ENV is the signal every Node
  // deployment already sets. Taking it as a parameter instead would let the caller that forgot
  // to think about production pass the wrong value, which is the mistake this guards against.
  if (options.developmentOnly === true && process.env.NODE_ENV === 'production') {
    throw new FlowError(
      'STORE_ERROR',
      `refusing to open the development-only SQLite store under "${options.rootDir}" with NODE_ENV=production; configure a production store (PostgreSQL) or drop developmentOnly`,
    );
  }
  try {
    // `recursive` returns the first directory it created: that one and those under it down to
    // rootDir are ours to tighten (mkdir's mode is filtered by the umask). A folder that was
    // already there (a home, a project root) keeps the mode its owner gave it.
    const firstCreated = mkdirSync(options.rootDir, { recursive: true, mode: 0o700 });
    if (firstCreated !== undefined) for (const dir of createdDirs(firstCreated, options.rootDir)) chmodSync(dir, 0o700);
  } catch (error) {
    throw new FlowError('STORE_ERROR', `cannot create the store directory "${options.rootDir}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return new SqliteStore({ path: join(options.rootDir, options.fileName ?? 'flowrun.db'), ...(options.synchronous ? { synchronous: options.synchronous } : {}) });
}

/** The directories from `first` down to `last` (`first` is an ancestor of `last`, or itself). */
function createdDirs(first: string, last: string): string[] {
  const target = resolve(last);
  const dirs = [resolve(first)];
  const rest = relative(dirs[0]!, target);
  if (rest !== '') for (const part of rest.split(sep)) dirs.push(join(dirs[dirs.length - 1]!, part));
  return dirs;
}

/**
 * Creates a SQLite store over one file and returns it at once; the file (not its directory) is
 * created and migrated on first use. Same guarantees as {@link createFilesystemStores}.
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options);
}
