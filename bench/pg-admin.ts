/**
 * PostgreSQL administration for the benchmarks: fresh databases for each measurement, server
 * counters (commits, WAL flushes) and settings. Every scenario on PostgreSQL goes through here,
 * flowrun's and DBOS's alike, so both start from the same kind of empty database.
 *
 * The admin URL comes from FLOWRUN_BENCH_PG_URL, else FLOWRUN_TEST_PG_URL, else the local
 * development role (postgres://flowrun:flowrun@127.0.0.1:5432/flowrun_test); the role needs CREATEDB.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** The URL of the maintenance database the benchmarks create their databases from. */
export function adminUrl(): string {
  return process.env.FLOWRUN_BENCH_PG_URL ?? process.env.FLOWRUN_TEST_PG_URL ?? 'postgres://flowrun:flowrun@127.0.0.1:5432/flowrun_test';
}

/** `url` with another database name. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Server-wide and per-database counters read before and after a measured phase. */
export interface ServerStats {
  xact_commit: number;
  tup_inserted: number;
  tup_updated: number;
  wal_records: number;
  wal_bytes: number;
  wal_sync: number;
  /**
   * CPU (user + system, µs) of this database's other backends so far, from /proc (the server runs
   * on this machine; 0 when /proc cannot be read). A backend that ends between two reads takes its
   * time with it, so deltas hold while the clients keep their connections (a measured phase).
   */
  backend_cpu_us: number;
}

/** CPU µs used by process `pid` so far, or 0 when /proc does not have it. */
function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name, in clock ticks (100 Hz on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
  } catch {
    return 0;
  }
}

/** An admin connection to one benchmark database. */
export class PgAdmin {
  readonly #client: pg.Client;
  readonly url: string;

  private constructor(client: pg.Client, url: string) {
    this.#client = client;
    this.url = url;
  }

  /**
   * Drops and re-creates database `name` (ending other sessions on it), checkpoints, and returns
   * an admin connection to it. WARNING: whatever was in `name` is gone.
   */
  static async freshDatabase(name: string): Promise<PgAdmin> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
    const maintenance = new pg.Client({ connectionString: adminUrl() });
    await maintenance.connect();
    try {
      // Not WITH (FORCE): that refuses when an autovacuum worker (a superuser backend) is in the
      // database. End this role's own leftover sessions, then let DROP DATABASE wait out autovacuum.
      for (let attempt = 1; ; attempt++) {
        await maintenance.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = current_user AND pid <> pg_backend_pid()', [name]);
        try {
          await maintenance.query(`DROP DATABASE IF EXISTS ${name}`);
          break;
        } catch (error) {
          if (attempt >= 10 || (error as { code?: string }).code !== '55006') throw error; // 55006: object in use
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
      await maintenance.query(`CREATE DATABASE ${name}`);
    } finally {
      await maintenance.end();
    }
    const url = withDatabase(adminUrl(), name);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new PgAdmin(client, url);
  }

  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    return this.#client.query<R>(text, values);
  }

  /** Commits of this database and the cluster's WAL counters (pg_stat_wal is cluster-wide). */
  async stats(): Promise<ServerStats> {
    await this.#client.query('SELECT pg_stat_clear_snapshot()');
    const d = (
      await this.#client.query(
        `SELECT xact_commit::bigint AS xact_commit, tup_inserted::bigint AS tup_inserted, tup_updated::bigint AS tup_updated
           FROM pg_stat_database WHERE datname = current_database()`,
      )
    ).rows[0] as Record<string, string>;
    const w = (await this.#client.query(`SELECT wal_records::bigint AS wal_records, wal_bytes::bigint AS wal_bytes, wal_sync::bigint AS wal_sync FROM pg_stat_wal`))
      .rows[0] as Record<string, string>;
    const pids = (await this.#client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows;
    const n = (x: string | undefined): number => Number(x ?? 0);
    return {
      backend_cpu_us: pids.reduce((sum, { pid }) => sum + processCpuUs(pid), 0),
      xact_commit: n(d.xact_commit),
      tup_inserted: n(d.tup_inserted),
      tup_updated: n(d.tup_updated),
      wal_records: n(w.wal_records),
      wal_bytes: n(w.wal_bytes),
      wal_sync: n(w.wal_sync),
    };
  }

  /** Server version and the settings that bear on commit cost. */
  async describe(): Promise<{ version: string; settings: Record<string, string> }> {
    const version = (await this.#client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
    const rows = (
      await this.#client.query<{ name: string; setting: string }>(
        `SELECT name, setting FROM pg_settings WHERE name IN ('fsync','synchronous_commit','wal_sync_method','full_page_writes','shared_buffers','max_connections')`,
      )
    ).rows;
    return { version, settings: Object.fromEntries(rows.map((r) => [r.name, r.setting])) };
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}

/** b − a, per counter. */
export function statsDelta(a: ServerStats, b: ServerStats): ServerStats {
  return {
    xact_commit: b.xact_commit - a.xact_commit,
    tup_inserted: b.tup_inserted - a.tup_inserted,
    tup_updated: b.tup_updated - a.tup_updated,
    wal_records: b.wal_records - a.wal_records,
    wal_bytes: b.wal_bytes - a.wal_bytes,
    wal_sync: b.wal_sync - a.wal_sync,
    backend_cpu_us: b.backend_cpu_us - a.backend_cpu_us,
  };
}
