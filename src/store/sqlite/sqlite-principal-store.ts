/**
 * Principals in SQLite: `flowrun_principals`, `flowrun_group_members` and
 * `flowrun_act_as_grants` (migration 2), `flowrun_event_grants` (migration 4). Writes go through the store's group-commit queue, so a
 * check and the insert it guards (a group exists and is a group, then the member is added) are
 * one atomic savepoint; reads see every write queued before them.
 *
 * Resolved principals and API tokens are cached for the checks every request and start makes,
 * and the caches are exact, not timed (committed-reads.ts): they are dropped whenever this store
 * writes principals or tokens, and whenever `PRAGMA data_version` shows that another connection
 * (another process, or another store on the same file) committed anything since they were
 * filled. A revoked token or a changed group is thus seen by the next check in every process; a
 * process sharing the file with busy writers simply misses the caches more.
 */
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
import { CommittedReadCache, CommittedState } from './committed-reads.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** Principals kept resolved at most; past it the cache starts over. */
const MAX_CACHED = 10_000;

interface PrincipalRow {
  id: string;
  kind: PrincipalKind;
  display_name: string | null;
  is_administrator: number;
  created_at: number;
}

const PRINCIPAL_COLUMNS = 'id, kind, display_name, is_administrator, created_at';
const fromRow = (row: PrincipalRow): PrincipalRecord => ({ id: row.id, kind: row.kind, displayName: row.display_name, isAdministrator: row.is_administrator === 1, createdAt: row.created_at });

/** How the principal store reaches the database: the SqliteStore's queued writes and reads. */
export interface SqliteAccess {
  write<T>(operation: (connection: SqliteConnection) => T): Promise<T>;
  read<T>(query: (connection: SqliteConnection) => T): Promise<T>;
  /** A read of what is committed now, not waiting for queued writes (run transitions) to commit first. */
  readCommitted<T>(query: (connection: SqliteConnection) => T): Promise<T>;
}

/** A {@link PrincipalStore} in the SQLite file of a SqliteStore. */
export class SqlitePrincipalStore implements PrincipalStore {
  readonly #db: SqliteAccess;
  /** Moves on principal and token writes only: run transitions leave these caches alone. */
  readonly #committed = new CommittedState();
  readonly #resolved = new CommittedReadCache<ResolvedPrincipal | null>({ maxEntries: MAX_CACHED });
  readonly #tokens = new CommittedReadCache<ApiTokenRecord | null>({ maxEntries: MAX_CACHED });
  /** Rows, not records: every read hands out a record of its own. */
  readonly #records = new CommittedReadCache<PrincipalRow | null>({ maxEntries: MAX_CACHED });

  constructor(db: SqliteAccess) {
    this.#db = {
      ...db,
      write: (operation) =>
        db.write((c) => {
          try {
            return operation(c);
          } finally {
            this.#committed.noteWrite(c);
          }
        }),
    };
  }

  createPrincipal(input: { id: string; kind: PrincipalKind; displayName?: string | null; at: number }): Promise<PrincipalRecord> {
    return this.#db.write((c) => {
      if (c.get('SELECT 1 FROM flowrun_principals WHERE id = ?', [input.id]) !== undefined) {
        throw new ConflictError(`principal "${input.id}" already exists`, { details: { principalId: input.id } });
      }
      c.run('INSERT INTO flowrun_principals (id, kind, display_name, created_at) VALUES (?, ?, ?, ?)', [input.id, input.kind, input.displayName ?? null, input.at]);
      return { id: input.id, kind: input.kind, displayName: input.displayName ?? null, isAdministrator: false, createdAt: input.at };
    });
  }

  /**
   * Reads what is committed now, like {@link resolvePrincipal}: the display names of a run's
   * answer (`POST /runs`, `GET /runs/{id}`) must not wait for other runs' queued writes.
   */
  getPrincipal(id: string): Promise<PrincipalRecord | null> {
    return this.#db.readCommitted((c) => {
      const row = this.#records.read(this.#committed.generation(c), id, () => c.get<PrincipalRow>(`SELECT ${PRINCIPAL_COLUMNS} FROM flowrun_principals WHERE id = ?`, [id]) ?? null);
      return row ? fromRow(row) : null;
    });
  }

  /** The mark is migration 11's column; display names were there from migration 2. */
  updatePrincipal(input: { id: string; displayName?: string | null; isAdministrator?: boolean }): Promise<PrincipalRecord> {
    return this.#db.write((c) => {
      if (input.displayName !== undefined) c.run('UPDATE flowrun_principals SET display_name = ? WHERE id = ?', [input.displayName, input.id]);
      if (input.isAdministrator !== undefined) c.run('UPDATE flowrun_principals SET is_administrator = ? WHERE id = ?', [input.isAdministrator ? 1 : 0, input.id]);
      const row = c.get<PrincipalRow>(`SELECT ${PRINCIPAL_COLUMNS} FROM flowrun_principals WHERE id = ?`, [input.id]);
      if (!row) throw principalNotFound(input.id);
      return fromRow(row);
    });
  }

  listPrincipals(filter: PrincipalFilter = {}): Promise<PrincipalRecord[]> {
    return this.#db.read((c) =>
      c
        .all<PrincipalRow>(
          `SELECT ${PRINCIPAL_COLUMNS} FROM flowrun_principals
            WHERE (? IS NULL OR kind = ?) AND (? IS NULL OR id > ?) ORDER BY id LIMIT ?`,
          [filter.kind ?? null, filter.kind ?? null, filter.afterId ?? null, filter.afterId ?? null, principalPageSize(filter.limit)],
        )
        .map(fromRow),
    );
  }

  deletePrincipal(id: string): Promise<boolean> {
    return this.#db.write((c) => {
      if (c.run('DELETE FROM flowrun_principals WHERE id = ?', [id]) === 0) return false;
      c.run('DELETE FROM flowrun_group_members WHERE group_id = ? OR member_id = ?', [id, id]);
      c.run('DELETE FROM flowrun_act_as_grants WHERE service_account_id = ? OR principal_id = ?', [id, id]);
      c.run('DELETE FROM flowrun_event_grants WHERE principal_id = ?', [id]);
      c.run('DELETE FROM flowrun_api_tokens WHERE principal_id = ?', [id]);
      return true;
    });
  }

  addGroupMember(input: { groupId: string; memberId: string }): Promise<void> {
    return this.#db.write((c) => {
      expectKind(c, input.groupId, 'groupId', (kind) => kind === 'group', 'a group');
      expectKind(c, input.memberId, 'memberId', (kind) => kind !== 'group', 'a user or a service account');
      c.run('INSERT INTO flowrun_group_members (group_id, member_id) VALUES (?, ?) ON CONFLICT DO NOTHING', [input.groupId, input.memberId]);
    });
  }

  removeGroupMember(input: { groupId: string; memberId: string }): Promise<boolean> {
    return this.#db.write((c) => c.run('DELETE FROM flowrun_group_members WHERE group_id = ? AND member_id = ?', [input.groupId, input.memberId]) > 0);
  }

  listGroupMembers(groupId: string): Promise<string[]> {
    return this.#db.read((c) =>
      c.snapshot(() => {
        expectKind(c, groupId, 'groupId', (kind) => kind === 'group', 'a group');
        return c.all<{ member_id: string }>('SELECT member_id FROM flowrun_group_members WHERE group_id = ? ORDER BY member_id', [groupId]).map((r) => r.member_id);
      }),
    );
  }

  grantActAs(input: { serviceAccountId: string; principalId: string }): Promise<void> {
    return this.#db.write((c) => {
      expectKind(c, input.serviceAccountId, 'serviceAccountId', (kind) => kind === 'serviceAccount', 'a service account');
      expectKind(c, input.principalId, 'principalId', () => true, 'a principal');
      c.run('INSERT INTO flowrun_act_as_grants (service_account_id, principal_id) VALUES (?, ?) ON CONFLICT DO NOTHING', [input.serviceAccountId, input.principalId]);
    });
  }

  revokeActAs(input: { serviceAccountId: string; principalId: string }): Promise<boolean> {
    return this.#db.write((c) => c.run('DELETE FROM flowrun_act_as_grants WHERE service_account_id = ? AND principal_id = ?', [input.serviceAccountId, input.principalId]) > 0);
  }

  listActAsGrants(serviceAccountId: string): Promise<string[]> {
    return this.#db.read((c) =>
      c.snapshot(() => {
        expectKind(c, serviceAccountId, 'serviceAccountId', (kind) => kind === 'serviceAccount', 'a service account');
        return c
          .all<{ principal_id: string }>('SELECT principal_id FROM flowrun_act_as_grants WHERE service_account_id = ? ORDER BY principal_id', [serviceAccountId])
          .map((r) => r.principal_id);
      }),
    );
  }

  grantEvents(input: EventGrant): Promise<void> {
    return this.#db.write((c) => {
      expectKind(c, input.principalId, 'principalId', () => true, 'a principal');
      c.run('INSERT INTO flowrun_event_grants (principal_id, event_right, pattern) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [input.principalId, input.right, input.pattern]);
    });
  }

  revokeEvents(input: EventGrant): Promise<boolean> {
    return this.#db.write((c) => c.run('DELETE FROM flowrun_event_grants WHERE principal_id = ? AND event_right = ? AND pattern = ?', [input.principalId, input.right, input.pattern]) > 0);
  }

  /** Reads what is committed now, like {@link resolvePrincipal}: delivering an event must not wait for run writes. */
  listEventGrants(filter: { principalIds?: readonly string[] } = {}): Promise<EventGrant[]> {
    const ids = filter.principalIds;
    if (ids !== undefined && ids.length === 0) return Promise.resolve([]);
    return this.#db.readCommitted((c) =>
      c
        .all<{ principal_id: string; event_right: EventRight; pattern: string }>(
          `SELECT principal_id, event_right, pattern FROM flowrun_event_grants
            ${ids === undefined ? '' : `WHERE principal_id IN (${ids.map(() => '?').join(', ')})`} ORDER BY principal_id, event_right, pattern`,
          ids === undefined ? [] : [...ids],
        )
        .map((r) => ({ principalId: r.principal_id, right: r.event_right, pattern: r.pattern })),
    );
  }

  createToken(input: NewApiToken): Promise<ApiTokenRecord> {
    return this.#db.write((c) => {
      expectKind(c, input.principalId, 'principalId', (kind) => kind !== 'group', 'a user or a service account');
      if (c.get('SELECT 1 FROM flowrun_api_tokens WHERE token_id = ? OR token_hash = ?', [input.tokenId, input.tokenHash]) !== undefined) {
        throw tokenConflict(input.tokenId);
      }
      const record: ApiTokenRecord = {
        tokenId: input.tokenId,
        principalId: input.principalId,
        tokenHash: input.tokenHash,
        createdAt: input.at,
        expiresAt: input.expiresAt ?? null,
        revokedAt: null,
        description: input.description ?? null,
      };
      c.run(`INSERT INTO flowrun_api_tokens (${API_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, ?)`, [
        record.tokenId,
        record.principalId,
        record.tokenHash,
        record.createdAt,
        record.expiresAt,
        record.description,
      ]);
      return record;
    });
  }

  /** Reads what is committed now, like {@link resolvePrincipal}: authenticating a request must not wait for run writes. */
  findTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null> {
    return this.#db.readCommitted((c) => {
      const token = this.#tokens.read(this.#committed.generation(c), tokenHash, () => {
        const row = c.get<ApiTokenRow>(`SELECT ${API_TOKEN_COLUMNS} FROM flowrun_api_tokens WHERE token_hash = ?`, [tokenHash]);
        return row ? apiTokenFromRow(row) : null;
      });
      return token && { ...token };
    });
  }

  listTokens(filter: { principalId?: string } = {}): Promise<ApiTokenRecord[]> {
    return this.#db.read((c) =>
      c
        .all<ApiTokenRow>(`SELECT ${API_TOKEN_COLUMNS} FROM flowrun_api_tokens WHERE (? IS NULL OR principal_id = ?) ORDER BY created_at, token_id`, [
          filter.principalId ?? null,
          filter.principalId ?? null,
        ])
        .map(apiTokenFromRow),
    );
  }

  revokeToken(input: { tokenId: string; at: number }): Promise<boolean> {
    return this.#db.write((c) => c.run('UPDATE flowrun_api_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL', [input.at, input.tokenId]) > 0);
  }

  /**
   * Reads what is committed now, without waiting behind queued run writes: every principal change
   * whose call resolved is committed, and a permission check on the start path must not wait for
   * other runs' group commit.
   */
  resolvePrincipal(id: string): Promise<ResolvedPrincipal | null> {
    // One statement: one snapshot, no transaction round trip.
    return this.#db.readCommitted((c) => {
      const resolved = this.#resolved.read(this.#committed.generation(c), id, () => {
        const row = c.get<{ kind: PrincipalKind; groups: string; act_as: string; is_administrator: number }>(
          `SELECT p.kind,
                  (p.is_administrator = 1 OR EXISTS (SELECT 1 FROM flowrun_group_members m JOIN flowrun_principals g ON g.id = m.group_id
                                                     WHERE m.member_id = p.id AND g.is_administrator = 1)) AS is_administrator,
                  (SELECT json_group_array(group_id) FROM (SELECT group_id FROM flowrun_group_members WHERE member_id = ? ORDER BY group_id)) AS groups,
                  (SELECT json_group_array(service_account_id) FROM (
                     SELECT service_account_id FROM flowrun_act_as_grants WHERE principal_id = ?
                     UNION SELECT g.service_account_id FROM flowrun_group_members m JOIN flowrun_act_as_grants g ON g.principal_id = m.group_id WHERE m.member_id = ?
                     ORDER BY 1)) AS act_as
             FROM flowrun_principals p WHERE p.id = ?`,
          [id, id, id, id],
        );
        return row ? { id, kind: row.kind, groups: JSON.parse(row.groups) as string[], actAs: JSON.parse(row.act_as) as string[], isAdministrator: row.is_administrator === 1 } : null;
      });
      // Callers get their own arrays: the cached ones stay as read.
      return resolved && { ...resolved, groups: [...resolved.groups], actAs: [...resolved.actAs] };
    });
  }
}

function expectKind(c: SqliteConnection, id: string, field: string, isKind: (kind: PrincipalKind) => boolean, expected: string): void {
  const found = c.get<{ kind: PrincipalKind }>('SELECT kind FROM flowrun_principals WHERE id = ?', [id]);
  if (!found) throw principalNotFound(id);
  if (!isKind(found.kind)) throw wrongPrincipalKind(field, id, found.kind, expected);
}
