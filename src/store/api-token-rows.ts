/**
 * How an API token maps onto a row of the SQL stores' token table (`api_tokens` on PostgreSQL,
 * `flowrun_api_tokens` on SQLite): the same columns in both, so one mapping serves both.
 */
import type { ApiTokenRecord } from '../core/principal-store.js';

/** A token row as the drivers return it. */
export interface ApiTokenRow {
  token_id: string;
  principal_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  description: string | null;
}

/** The token table's columns, in the order the stores insert them. */
export const API_TOKEN_COLUMNS = 'token_id, principal_id, token_hash, created_at, expires_at, revoked_at, description';

/** The token record of a row. */
export function apiTokenFromRow(row: ApiTokenRow): ApiTokenRecord {
  return {
    tokenId: row.token_id,
    principalId: row.principal_id,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    description: row.description,
  };
}
