/**
 * One open SQLite connection with its prepared statements cached by SQL text, so the hot
 * statements of a transition are compiled once per connection rather than once per call.
 */
import type BetterSqlite3 from 'better-sqlite3';

const MAX_CACHED_STATEMENTS = 500;

/** Positional or named bind parameters. */
export type SqlParams = readonly unknown[] | object;

/**
 * The statements of a group commit's transaction, prepared once per connection: `db.exec` compiles
 * its SQL text again on every call (a savepoint and its release around each write). What a CPU
 * profile shows under `exec` is mostly the COMMIT waiting for its fsync, which this does not change.
 */
export interface TransactionControl {
  begin: BetterSqlite3.Statement;
  commit: BetterSqlite3.Statement;
  rollback: BetterSqlite3.Statement;
  savepoint: BetterSqlite3.Statement;
  release: BetterSqlite3.Statement;
  rollbackToSavepoint: BetterSqlite3.Statement;
}

/** A connection and its statement cache; every method runs synchronously on the calling thread. */
export class SqliteConnection {
  readonly db: BetterSqlite3.Database;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();
  #control: TransactionControl | null = null;
  #dataVersion = -1;
  #dataVersionFresh = false;
  #dataVersionAt = 0;
  /** `PRAGMA data_version` answering the number alone: checked on every cached read, so no row object or statement lookup. */
  #dataVersionStatement: BetterSqlite3.Statement<[], number> | null = null;
  /** `SELECT total_changes()` answering the number alone: asked after every write. */
  #totalChangesStatement: BetterSqlite3.Statement<[], number> | null = null;

  constructor(db: BetterSqlite3.Database) {
    this.db = db;
  }

  /** BEGIN IMMEDIATE, COMMIT, ROLLBACK and the savepoint `flowrun_op` as prepared statements (prepared on first use). */
  get control(): TransactionControl {
    this.#control ??= {
      begin: this.db.prepare('BEGIN IMMEDIATE'),
      commit: this.db.prepare('COMMIT'),
      rollback: this.db.prepare('ROLLBACK'),
      savepoint: this.db.prepare('SAVEPOINT flowrun_op'),
      release: this.db.prepare('RELEASE flowrun_op'),
      rollbackToSavepoint: this.db.prepare('ROLLBACK TO flowrun_op'),
    };
    return this.#control;
  }

  /** The first row, or undefined. */
  get<T>(sql: string, params: SqlParams = []): T | undefined {
    return this.#bind(this.#prepare(sql), params, 'get') as T | undefined;
  }

  /** Every row. */
  all<T>(sql: string, params: SqlParams = []): T[] {
    return this.#bind(this.#prepare(sql), params, 'all') as T[];
  }

  /** Runs a statement that returns no rows; the number of rows it changed. */
  run(sql: string, params: SqlParams = []): number {
    return (this.#bind(this.#prepare(sql), params, 'run') as BetterSqlite3.RunResult).changes;
  }

  /** `total_changes()`: rows this connection inserted, updated or deleted since it opened (one statement, ~1 µs). */
  totalChanges(): number {
    this.#totalChangesStatement ??= this.db.prepare<[], number>('SELECT total_changes()').pluck();
    return this.#totalChangesStatement.get()!;
  }

  /**
   * `PRAGMA data_version`: moves when another connection commits. One statement (~3 µs, it takes
   * the WAL read lock) serves every caller until the current turn's ticks and microtasks have run:
   * whatever asks within it began before the turn did (a request is read from its socket at the
   * start of the I/O callback that handles it), so a commit that finished before any of them
   * began is seen by all of them. Another process commits outside this turn by definition; another
   * store of this process commits from its own group-commit callback (setImmediate), never inside
   * this turn. A later turn reads the counter again, and so does a turn that has gone on for over
   * a millisecond (code polling in a loop that never yields still sees other processes' commits).
   */
  dataVersion(): number {
    const now = performance.now();
    if (!this.#dataVersionFresh || now - this.#dataVersionAt > 1) {
      this.#dataVersionStatement ??= this.db.prepare<[], number>('PRAGMA data_version').pluck();
      this.#dataVersion = this.#dataVersionStatement.get()!;
      this.#dataVersionAt = now;
      if (!this.#dataVersionFresh) {
        this.#dataVersionFresh = true;
        process.nextTick(() => {
          this.#dataVersionFresh = false;
        });
      }
    }
    return this.#dataVersion;
  }

  /** Runs several reads on one snapshot, so a concurrent commit by another process cannot fall between them. */
  snapshot<T>(read: () => T): T {
    return this.db.transaction(read).deferred();
  }

  #prepare(sql: string): BetterSqlite3.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      // Listing builds its SQL from the filters given (a tag count is unbounded): keep the
      // cache bounded by dropping the oldest statement.
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) this.#statements.delete(this.#statements.keys().next().value!);
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #bind(statement: BetterSqlite3.Statement, params: SqlParams, method: 'get' | 'all' | 'run'): unknown {
    return Array.isArray(params) ? statement[method](...(params as unknown[])) : statement[method](params);
  }
}
