/**
 * One open SQLite connection with its prepared statements cached by SQL text, so the hot
 * statements of a transition are compiled once per connection rather than once per call.
 */
import type BetterSqlite3 from 'better-sqlite3';

const MAX_CACHED_STATEMENTS = 500;

/** Positional or named bind parameters. */
export type SqlParams = readonly unknown[] | object;

/** A connection and its statement cache; every method runs synchronously on the calling thread. */
export class SqliteConnection {
  readonly db: BetterSqlite3.Database;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(db: BetterSqlite3.Database) {
    this.db = db;
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
