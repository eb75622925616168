/**
 * Principals in PostgreSQL: `principals`, `group_members` and `act_as_grants` (migration 2).
 * Memberships and grants reference their principals with ON DELETE CASCADE: they are written
 * rarely, so the foreign keys cost nothing on the run path, and a member added while its group
 * is being deleted in another process either commits first and is deleted with it, or fails.
 * Kind checks lock the principals they read (FOR SHARE) in the transaction that inserts.
 * API tokens (`api_tokens`, migration 3) keep only the token's hash, unique, and cascade too;
 * so do event grants (`event_grants`, migration 5).
 */
import type { PoolClient } from 'pg';
import { ConflictError } from '../../core/errors.js';
import {
  type EventGrant,
  type EventRight,
  principalNotFound,
  tokenConflict,
  type ApiTokenRecord,
  type NewApiToken,
  principalPageSize,
  wrongPrincipalKind,
  type PrincipalFilter,
  type PrincipalKind,
  type PrincipalRecord,
  type PrincipalStore,
  type ResolvedPrincipal,
} from '../../core/principal-store.js';
import { API_TOKEN_COLUMNS, apiTokenFromRow, type ApiTokenRow } from '../api-token-rows.js';
import { isUniqueViolation } from './pg-errors.js';
import type { Sql } from './run-writes.js';

interface PrincipalRow {
  id: string;
  kind: PrincipalKind;
  display_name: string | null;
  is_administrator: boolean;
  created_at: number;
}

const PRINCIPAL_COLUMNS = 'id, kind, display_name, is_administrator, created_at';
const fromRow = (row: PrincipalRow): PrincipalRecord => ({ id: row.id, kind: row.kind, displayName: row.display_name, isAdministrator: row.is_administrator, createdAt: row.created_at });

/** How the principal store reaches the database: the PostgresStore's connection. */
export interface PgAccess {
  read<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  statement<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
}

/** A {@link PrincipalStore} in the schema of a PostgresStore. */
export class PgPrincipalStore implements PrincipalStore {
  readonly #db: PgAccess;
  /** Ids waiting for the next batch of {@link resolvePrincipal}, with their callers. */
  readonly #lookups = new Map<string, { resolve: (value: ResolvedPrincipal | null) => void; reject: (error: unknown) => void }[]>();
  #resolving = false;

  /** `db` reaches the migrated schema; `assertOpen` throws once the store was closed. */
  constructor(db: PgAccess, assertOpen: () => void) {
    const guard = <F extends (...args: never[]) => unknown>(fn: F): F => ((...args: Parameters<F>) => (assertOpen(), fn(...args))) as F;
    this.#db = { read: guard(db.read.bind(db)), statement: guard(db.statement.bind(db)), transaction: guard(db.transaction.bind(db)) };
  }

  async createPrincipal(input: { id: string; kind: PrincipalKind; displayName?: string | null; at: number }): Promise<PrincipalRecord> {
    await this.#db.statement(async (sql) => {
      try {
        await sql.query('INSERT INTO principals (id, kind, display_name, created_at) VALUES ($1::text, $2::text, $3::text, $4::float8)', [
          input.id,
          input.kind,
          input.displayName ?? null,
          input.at,
        ]);
      } catch (error) {
        if (isUniqueViolation(error, 'principals_pkey')) throw new ConflictError(`principal "${input.id}" already exists`, { details: { principalId: input.id } });
        throw error;
      }
    });
    return { id: input.id, kind: input.kind, displayName: input.displayName ?? null, isAdministrator: false, createdAt: input.at };
  }

  async getPrincipal(id: string): Promise<PrincipalRecord | null> {
    const found = await this.#db.read((sql) => sql.query<PrincipalRow>(`SELECT ${PRINCIPAL_COLUMNS} FROM principals WHERE id = $1::text`, [id]));
    const row = found.rows[0];
    return row ? fromRow(row) : null;
  }

  /** One statement: fields left out keep their value (the mark is migration 13's column). */
  async updatePrincipal(input: { id: string; displayName?: string | null; isAdministrator?: boolean }): Promise<PrincipalRecord> {
    const found = await this.#db.statement((sql) =>
      sql.query<PrincipalRow>(
        `UPDATE principals SET display_name = CASE WHEN $2::boolean THEN $3::text ELSE display_name END,
                               is_administrator = COALESCE($4::boolean, is_administrator)
          WHERE id = $1::text RETURNING ${PRINCIPAL_COLUMNS}`,
        [input.id, input.displayName !== undefined, input.displayName ?? null, input.isAdministrator ?? null],
      ),
    );
    const row = found.rows[0];
    if (!row) throw principalNotFound(input.id);
    return fromRow(row);
  }

  async listPrincipals(filter: PrincipalFilter = {}): Promise<PrincipalRecord[]> {
    const found = await this.#db.read((sql) =>
      sql.query<PrincipalRow>(
        `SELECT ${PRINCIPAL_COLUMNS} FROM principals
          WHERE ($1::text IS NULL OR kind = $1::text) AND ($2::text IS NULL OR id > $2::text) ORDER BY id LIMIT $3::integer`,
        [filter.kind ?? null, filter.afterId ?? null, principalPageSize(filter.limit)],
      ),
    );
    return found.rows.map(fromRow);
  }

  async deletePrincipal(id: string): Promise<boolean> {
    // Memberships and grants go with it (ON DELETE CASCADE), in the same statement.
    const deleted = await this.#db.statement((sql) => sql.query('DELETE FROM principals WHERE id = $1::text', [id]));
    return (deleted.rowCount ?? 0) > 0;
  }

  async addGroupMember(input: { groupId: string; memberId: string }): Promise<void> {
    await this.#db.transaction(async (client) => {
      await expectKind(client, input.groupId, 'groupId', (kind) => kind === 'group', 'a group');
      await expectKind(client, input.memberId, 'memberId', (kind) => kind !== 'group', 'a user or a service account');
      await client.query('INSERT INTO group_members (group_id, member_id) VALUES ($1::text, $2::text) ON CONFLICT DO NOTHING', [input.groupId, input.memberId]);
    });
  }

  async removeGroupMember(input: { groupId: string; memberId: string }): Promise<boolean> {
    const deleted = await this.#db.statement((sql) => sql.query('DELETE FROM group_members WHERE group_id = $1::text AND member_id = $2::text', [input.groupId, input.memberId]));
    return (deleted.rowCount ?? 0) > 0;
  }

  async listGroupMembers(groupId: string): Promise<string[]> {
    return this.#db.read(async (sql) => {
      const found = await sql.query<{ kind: PrincipalKind | null; member_id: string | null }>(
        `SELECT p.kind, m.member_id FROM principals p LEFT JOIN group_members m ON m.group_id = p.id WHERE p.id = $1::text ORDER BY m.member_id`,
        [groupId],
      );
      checkKind(found.rows[0]?.kind ?? null, groupId, 'groupId', (kind) => kind === 'group', 'a group');
      return found.rows.flatMap((row) => (row.member_id === null ? [] : [row.member_id]));
    });
  }

  async grantActAs(input: { serviceAccountId: string; principalId: string }): Promise<void> {
    await this.#db.transaction(async (client) => {
      await expectKind(client, input.serviceAccountId, 'serviceAccountId', (kind) => kind === 'serviceAccount', 'a service account');
      await expectKind(client, input.principalId, 'principalId', () => true, 'a principal');
      await client.query('INSERT INTO act_as_grants (service_account_id, principal_id) VALUES ($1::text, $2::text) ON CONFLICT DO NOTHING', [
        input.serviceAccountId,
        input.principalId,
      ]);
    });
  }

  async revokeActAs(input: { serviceAccountId: string; principalId: string }): Promise<boolean> {
    const deleted = await this.#db.statement((sql) =>
      sql.query('DELETE FROM act_as_grants WHERE service_account_id = $1::text AND principal_id = $2::text', [input.serviceAccountId, input.principalId]),
    );
    return (deleted.rowCount ?? 0) > 0;
  }

  async listActAsGrants(serviceAccountId: string): Promise<string[]> {
    return this.#db.read(async (sql) => {
      const found = await sql.query<{ kind: PrincipalKind | null; principal_id: string | null }>(
        `SELECT p.kind, g.principal_id FROM principals p LEFT JOIN act_as_grants g ON g.service_account_id = p.id WHERE p.id = $1::text ORDER BY g.principal_id`,
        [serviceAccountId],
      );
      checkKind(found.rows[0]?.kind ?? null, serviceAccountId, 'serviceAccountId', (kind) => kind === 'serviceAccount', 'a service account');
      return found.rows.flatMap((row) => (row.principal_id === null ? [] : [row.principal_id]));
    });
  }

  async grantEvents(input: EventGrant): Promise<void> {
    await this.#db.transaction(async (client) => {
      await expectKind(client, input.principalId, 'principalId', () => true, 'a principal');
      await client.query('INSERT INTO event_grants (principal_id, event_right, pattern) VALUES ($1::text, $2::text, $3::text) ON CONFLICT DO NOTHING', [
        input.principalId,
        input.right,
        input.pattern,
      ]);
    });
  }

  async revokeEvents(input: EventGrant): Promise<boolean> {
    const deleted = await this.#db.statement((sql) =>
      sql.query('DELETE FROM event_grants WHERE principal_id = $1::text AND event_right = $2::text AND pattern = $3::text', [input.principalId, input.right, input.pattern]),
    );
    return (deleted.rowCount ?? 0) > 0;
  }

  async listEventGrants(filter: { principalIds?: readonly string[] } = {}): Promise<EventGrant[]> {
    const ids = filter.principalIds === undefined ? null : [...filter.principalIds];
    const found = await this.#db.read((sql) =>
      sql.query<{ principal_id: string; event_right: EventRight; pattern: string }>(
        'SELECT principal_id, event_right, pattern FROM event_grants WHERE ($1::text[] IS NULL OR principal_id = ANY($1::text[])) ORDER BY principal_id, event_right, pattern',
        [ids],
      ),
    );
    return found.rows.map((r) => ({ principalId: r.principal_id, right: r.event_right, pattern: r.pattern }));
  }

  async createToken(input: NewApiToken): Promise<ApiTokenRecord> {
    const record: ApiTokenRecord = {
      tokenId: input.tokenId,
      principalId: input.principalId,
      tokenHash: input.tokenHash,
      createdAt: input.at,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      description: input.description ?? null,
    };
    await this.#db.transaction(async (client) => {
      // The lock keeps the principal from being deleted (or its id reused) before the insert commits.
      await expectKind(client, input.principalId, 'principalId', (kind) => kind !== 'group', 'a user or a service account');
      try {
        await client.query(
          `INSERT INTO api_tokens (${API_TOKEN_COLUMNS}) VALUES ($1::text, $2::text, $3::text, $4::float8, $5::float8, NULL, $6::text)`,
          [record.tokenId, record.principalId, record.tokenHash, record.createdAt, record.expiresAt, record.description],
        );
      } catch (error) {
        if (isUniqueViolation(error, 'api_tokens_pkey') || isUniqueViolation(error, 'api_tokens_hash_key')) throw tokenConflict(input.tokenId);
        throw error;
      }
    });
    return record;
  }

  async findTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null> {
    const found = await this.#db.read((sql) => sql.query<ApiTokenRow>(`SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1::text`, [tokenHash]));
    const row = found.rows[0];
    return row ? apiTokenFromRow(row) : null;
  }

  async listTokens(filter: { principalId?: string } = {}): Promise<ApiTokenRecord[]> {
    const found = await this.#db.read((sql) =>
      sql.query<ApiTokenRow>(`SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE ($1::text IS NULL OR principal_id = $1::text) ORDER BY created_at, token_id`, [
        filter.principalId ?? null,
      ]),
    );
    return found.rows.map(apiTokenFromRow);
  }

  async revokeToken(input: { tokenId: string; at: number }): Promise<boolean> {
    const updated = await this.#db.statement((sql) =>
      sql.query('UPDATE api_tokens SET revoked_at = $2::float8 WHERE token_id = $1::text AND revoked_at IS NULL', [input.tokenId, input.at]),
    );
    return (updated.rowCount ?? 0) > 0;
  }

  /**
   * Resolves principals in batches: while one lookup is in flight, the ids asked for meanwhile
   * are collected and read with the next statement (one per batch, so each principal with its
   * groups and grants comes from one snapshot). Starts by many users at once cost one round trip
   * per batch instead of one per start; a lone lookup waits for nothing.
   */
  resolvePrincipal(id: string): Promise<ResolvedPrincipal | null> {
    return new Promise((resolve, reject) => {
      const waiting = this.#lookups.get(id);
      if (waiting) waiting.push({ resolve, reject });
      else this.#lookups.set(id, [{ resolve, reject }]);
      if (!this.#resolving) void this.#resolveBatches();
    });
  }

  async #resolveBatches(): Promise<void> {
    this.#resolving = true;
    try {
      while (this.#lookups.size > 0) {
        const batch = new Map(this.#lookups);
        this.#lookups.clear();
        try {
          const found = await this.#db.read((sql) =>
            sql.query<{ id: string; kind: PrincipalKind; groups: string[]; act_as: string[]; is_administrator: boolean }>({ name: 'flowrun_resolve_principals', text: RESOLVE_PRINCIPALS, values: [[...batch.keys()]] }),
          );
          const byId = new Map(found.rows.map((row) => [row.id, row]));
          for (const [id, waiters] of batch) {
            const row = byId.get(id);
            for (const waiter of waiters) waiter.resolve(row ? { id, kind: row.kind, groups: [...row.groups], actAs: [...row.act_as], isAdministrator: row.is_administrator } : null);
          }
        } catch (error) {
          for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
        }
      }
    } finally {
      this.#resolving = false;
    }
  }
}


const RESOLVE_PRINCIPALS = `SELECT p.id, p.kind,
       (p.is_administrator OR EXISTS (SELECT 1 FROM group_members m JOIN principals g ON g.id = m.group_id
                                      WHERE m.member_id = p.id AND g.is_administrator)) AS is_administrator,
       ARRAY(SELECT m.group_id FROM group_members m WHERE m.member_id = p.id ORDER BY m.group_id) AS groups,
       ARRAY(SELECT g.service_account_id FROM act_as_grants g WHERE g.principal_id = p.id
             UNION SELECT g.service_account_id FROM group_members m JOIN act_as_grants g ON g.principal_id = m.group_id WHERE m.member_id = p.id
             ORDER BY 1) AS act_as
  FROM principals p WHERE p.id = ANY($1::text[])`;

async function expectKind(client: PoolClient, id: string, field: string, isKind: (kind: PrincipalKind) => boolean, expected: string): Promise<void> {
  const found = await client.query<{ kind: PrincipalKind }>('SELECT kind FROM principals WHERE id = $1::text FOR SHARE', [id]);
  checkKind(found.rows[0]?.kind ?? null, id, field, isKind, expected);
}

function checkKind(kind: PrincipalKind | null, id: string, field: string, isKind: (kind: PrincipalKind) => boolean, expected: string): void {
  if (kind === null) throw principalNotFound(id);
  if (!isKind(kind)) throw wrongPrincipalKind(field, id, kind, expected);
}
