/**
 * The store's way to the database: a pg Pool created on first use (the `pg` module is loaded
 * with a dynamic import, so importing flowrun never loads it), the schema migrated before the
 * first query, `search_path` set on every pooled connection, and the three ways the store runs
 * SQL — reads (retried on a dropped connection), single-statement writes and transactions
 * (retried on deadlock and serialization failure, never on a lost connection).
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Client, Pool, PoolClient } from 'pg';
import { FlowError } from '../../core/errors.js';
import { migrate, quoteIdentifier } from './migrations.js';
import { isConnectionError, isRetryableTransactionError, toStoreError, type PostgresTarget } from './pg-errors.js';
import type { Sql } from './run-writes.js';

type PgModule = typeof import('pg');

/** Options of a {@link PgConnection}. */
export interface PgConnectionOptions {
  connectionString: string;
  schema: string;
  poolSize: number;
  warn: (message: string) => void;
}

/** Attempts of an idempotent read when the connection drops under it. */
const READ_ATTEMPTS = 3;
/** Extra attempts of a write transaction after a deadlock or serialization failure. */
const WRITE_RETRIES = 4;
/** How long to wait for a connection (new, or free in the pool) before failing. */
const CONNECT_TIMEOUT_MS = 15_000;

/** Marks an error thrown while getting a connection, so it is reported as "cannot connect". */
class ConnectFailure extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/**
 * A lazily opened, migrated connection pool for one schema.
 *
 * Guarantees: the first operation connects and migrates; if that fails (server down, wrong
 * password, schema too new) the operation rejects with STORE_ERROR and the next one tries
 * again. Errors never contain the password.
 */
export class PgConnection {
  readonly #options: PgConnectionOptions;
  #target: PostgresTarget;
  #pg: PgModule | null = null;
  #pool: Pool | null = null;
  #ready: Promise<Pool> | null = null;
  #closed = false;

  constructor(options: PgConnectionOptions) {
    this.#options = options;
    this.#target = targetFromUrl(options.connectionString);
  }

  /** Runs an idempotent read on a pooled connection; a dropped connection is retried with backoff. */
  async read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#withClient(fn);
      } catch (error) {
        const transient = isConnectionError(error instanceof ConnectFailure ? error.original : error);
        if (!transient || attempt >= READ_ATTEMPTS || this.#closed) throw this.toError(error);
        await delay(50 * 4 ** (attempt - 1));
      }
    }
  }

  /** Runs one autocommitted statement (atomic by itself); retried only on deadlock. */
  statement<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.#write(fn, false);
  }

  /** Runs `fn` inside BEGIN … COMMIT; the whole function is retried on deadlock or serialization failure. */
  transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return this.#write(fn, true);
  }

  /** Checks out a pooled connection of the migrated schema; the caller must release it. Rejects with STORE_ERROR. */
  async acquire(): Promise<PoolClient> {
    try {
      return await this.#checkout();
    } catch (error) {
      throw this.toError(error);
    }
  }

  /** Opens a dedicated (unpooled) connection, for LISTEN. Rejects with STORE_ERROR. */
  async connectDedicated(): Promise<Client> {
    if (this.#closed) throw closedError();
    let client: Client | null = null;
    try {
      const pg = await this.#loadDriver();
      client = new pg.Client({ connectionString: this.#options.connectionString, application_name: this.#applicationName(), connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
      client.on('error', () => undefined); // until the LISTEN side adds its own handler after connecting
      await client.connect();
      return client;
    } catch (error) {
      await client?.end().catch(() => undefined);
      throw this.toError(new ConnectFailure(error));
    }
  }

  /** Turns anything an operation threw into the FlowError its caller receives. */
  toError(error: unknown): FlowError {
    if (error instanceof ConnectFailure) return toStoreError(error.original, this.#target, 'connect');
    return toStoreError(error, this.#target);
  }

  /** Closes the pool once running operations returned it their connections. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#ready?.catch(() => undefined);
    const pool = this.#pool;
    this.#pool = null;
    await pool?.end();
  }

  async #write<T>(fn: (client: PoolClient) => Promise<T>, inTransaction: boolean): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.#checkout();
      } catch (error) {
        throw this.toError(error);
      }
      try {
        if (inTransaction) await client.query('BEGIN');
        const result = await fn(client);
        if (inTransaction) await client.query('COMMIT');
        client.release();
        return result;
      } catch (error) {
        let broken = isConnectionError(error);
        if (inTransaction && !broken) await client.query('ROLLBACK').catch(() => (broken = true));
        // A connection that failed mid-operation is destroyed, never handed to the next caller.
        client.release(broken ? asError(error) : undefined);
        // A write whose connection dropped may or may not have committed: report it and let the
        // engine retry (transitions recognise their own repeat), rather than guess here.
        if (isRetryableTransactionError(error) && attempt < WRITE_RETRIES && !this.#closed) {
          await delay(10 * 2 ** attempt + Math.random() * 10);
          continue;
        }
        throw this.toError(error);
      }
    }
  }

  async #withClient<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    const client = await this.#checkout();
    try {
      const result = await fn(client);
      client.release();
      return result;
    } catch (error) {
      client.release(isConnectionError(error) ? asError(error) : undefined);
      throw error;
    }
  }

  /** A pooled client; throws ConnectFailure when none can be had, FlowError when closed or migration refused. */
  async #checkout(): Promise<PoolClient> {
    const pool = await this.#openOnce();
    try {
      return await pool.connect();
    } catch (error) {
      throw new ConnectFailure(error);
    }
  }

  #openOnce(): Promise<Pool> {
    if (this.#closed) return Promise.reject(closedError());
    // Only success is remembered: after a failed start (server down) the next call starts again.
    this.#ready ??= this.#open().catch((error: unknown) => {
      this.#ready = null;
      throw error;
    });
    return this.#ready;
  }

  async #open(): Promise<Pool> {
    const pg = await this.#loadDriver();
    if (!this.#pool) {
      const types = new pg.TypeOverrides();
      // bigint columns (fencing_token, count(*)) hold small integers: numbers, as the API speaks.
      types.setTypeParser(20, (text: string) => Number(text));
      const pool = new pg.Pool({
        connectionString: this.#options.connectionString,
        max: this.#options.poolSize,
        types,
        application_name: this.#applicationName(),
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        idleTimeoutMillis: 30_000,
      });
      const searchPath = quoteIdentifier(this.#options.schema);
      // Queued on the new client before whatever query it was checked out for, so it runs first.
      pool.on('connect', (client) => {
        // A connection that drops while checked out emits 'error' on its client; its query
        // rejects (and becomes a STORE_ERROR) anyway, and without a listener the event would crash
        // the process.
        client.on('error', () => undefined);
        client.query(`SET search_path TO ${searchPath}`).catch(() => undefined);
      });
      // An idle connection that dies (server restart) is dropped by the pool; the next
      // checkout makes a new one. Without this handler the 'error' event would crash the process.
      pool.on('error', () => undefined);
      this.#pool = pool;
    }
    const pool = this.#pool;
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new ConnectFailure(error);
    }
    try {
      await migrate(client, { schema: this.#options.schema, warn: this.#options.warn });
      client.release();
    } catch (error) {
      client.release(isConnectionError(error) ? asError(error) : undefined);
      throw error;
    }
    return pool;
  }

  async #loadDriver(): Promise<PgModule> {
    if (!this.#pg) {
      this.#pg = await importDriver();
      // Resolve host, port, user and database exactly as the driver will (URL, PG* variables,
      // defaults), so error messages name the real target. Constructing a Client does no I/O.
      const probe = new this.#pg.Client({ connectionString: this.#options.connectionString });
      this.#target = {
        host: probe.host,
        port: probe.port,
        user: probe.user ?? '(default user)',
        database: probe.database ?? probe.user ?? '(default database)',
        password: typeof probe.password === 'string' && probe.password !== '' ? probe.password : this.#target.password,
      };
    }
    return this.#pg;
  }

  #applicationName(): string {
    // Names the schema so an operator can tell the stores' sessions apart in pg_stat_activity.
    return `flowrun:${this.#options.schema}`.slice(0, 63);
  }
}

function closedError(): FlowError {
  return new FlowError('STORE_ERROR', 'the postgres store is closed');
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A first guess at the target from a URL, used until the driver is loaded (and if it cannot be). */
function targetFromUrl(connectionString: string): PostgresTarget {
  try {
    const url = new URL(connectionString);
    const user = decodeURIComponent(url.username) || '(default user)';
    return {
      host: url.hostname || 'localhost',
      port: Number(url.port) || 5432,
      user,
      database: decodeURIComponent(url.pathname.slice(1)) || user,
      password: url.password ? decodeURIComponent(url.password) : null,
    };
  } catch {
    return { host: '(unparsed)', port: 5432, user: '(unparsed)', database: '(unparsed)', password: null };
  }
}

/**
 * Loads `pg`, an optional peer dependency: only PostgreSQL users install it, so its absence is
 * a set-up step to name, not a crash.
 */
async function importDriver(): Promise<PgModule> {
  try {
    return await import('pg');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes("'pg'")) {
      throw new FlowError('STORE_ERROR', 'the PostgreSQL store needs the `pg` package, which is not installed: run `npm install pg` in your app', { cause: error });
    }
    throw error;
  }
}
