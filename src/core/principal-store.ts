/**
 * Principals as the stores keep them: users, groups (with their members), service accounts, and
 * act-as grants (who may run things as which service account). The contract lives in core, beside
 * {@link Store}, because the engine's permission checks read it; every store implements it as
 * `store.principals` and passes the principal part of `runStoreConformance`.
 *
 * Event grants (who may publish, and who may subscribe to, which event names) are kept here too,
 * by name pattern (see {@link eventPatternMatches} in permissions.ts for the syntax).
 *
 * Ids are one namespace across the three kinds: a flow role or a run role names a principal by
 * id alone (`starters: ["alice", "ops", "svc-billing"]`), so `ops` cannot be a user and a group.
 */
import { ConflictError, NotFoundError, ValidationError } from './errors.js';

/** The kinds of principal (DESIGN.md §1). */
export const PRINCIPAL_KINDS = ['user', 'group', 'serviceAccount'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

/** A principal as stored. */
export interface PrincipalRecord {
  id: string;
  kind: PrincipalKind;
  displayName: string | null;
  /**
   * A system administrator (DESIGN.md §6): sees and manages every run and flow. On a group, every
   * member is one. Only the stores' principal API sets it (the CLI, `engine.principals`), never HTTP.
   */
  isAdministrator: boolean;
  createdAt: number;
}

/**
 * A principal as permission checks see it: its id and kind, the groups it is a member of, and
 * the service accounts it may act as (granted to it directly or to one of its groups).
 */
export interface ResolvedPrincipal {
  id: string;
  kind: PrincipalKind;
  groups: string[];
  actAs: string[];
  /** Marked a system administrator in the stores, itself or through one of its groups (absent: not one). */
  isAdministrator?: boolean;
}

/** The rights an event grant gives: publishing events of a name, or receiving them in a deployed flow's subscriptions. */
export const EVENT_RIGHTS = ['publish', 'subscribe'] as const;
export type EventRight = (typeof EVENT_RIGHTS)[number];

/**
 * An event grant: `principalId` (a user, a service account, or a group — then all its members)
 * may `right` every event name `pattern` matches.
 */
export interface EventGrant {
  principalId: string;
  right: EventRight;
  pattern: string;
}

/** Filters and page of {@link PrincipalStore.listPrincipals}: ordered by id, keyset-paginated. */
export interface PrincipalFilter {
  kind?: PrincipalKind;
  /** Only ids after this one (the last id of the previous page). */
  afterId?: string;
  /** Default 100, at most 1,000. */
  limit?: number;
}

/**
 * The principal contract of a store. Every method is one atomic operation; adding a member or a
 * grant that is already there, and removing one that is not, change nothing (a retried call is
 * harmless). Unknown ids are reported with NotFoundError `PRINCIPAL_NOT_FOUND`, a principal of
 * the wrong kind with ValidationError `INVALID_INPUT`.
 */
export interface PrincipalStore {
  /** Creates a principal. Throws ConflictError when the id is taken, by a principal of any kind. */
  createPrincipal(input: { id: string; kind: PrincipalKind; displayName?: string | null; at: number }): Promise<PrincipalRecord>;
  getPrincipal(id: string): Promise<PrincipalRecord | null>;
  /**
   * Changes a principal's display name and/or its system-administrator mark (fields left out
   * stay). Throws PRINCIPAL_NOT_FOUND for an unknown id. Resolving the principal, or a member of
   * it when it is a group, sees the change at once.
   */
  updatePrincipal(input: { id: string; displayName?: string | null; isAdministrator?: boolean }): Promise<PrincipalRecord>;
  listPrincipals(filter?: PrincipalFilter): Promise<PrincipalRecord[]>;
  /** Deletes a principal with its memberships, act-as grants (on either side) and event grants; false when it did not exist. */
  deletePrincipal(id: string): Promise<boolean>;
  /** Makes a user or service account a member of a group (groups do not nest). */
  addGroupMember(input: { groupId: string; memberId: string }): Promise<void>;
  /** False when it was not a member. */
  removeGroupMember(input: { groupId: string; memberId: string }): Promise<boolean>;
  /** Member ids of a group, sorted. Throws PRINCIPAL_NOT_FOUND for an unknown group. */
  listGroupMembers(groupId: string): Promise<string[]>;
  /** Lets a user, a group (all its members) or another service account act as a service account. */
  grantActAs(input: { serviceAccountId: string; principalId: string }): Promise<void>;
  /** False when there was no such grant. */
  revokeActAs(input: { serviceAccountId: string; principalId: string }): Promise<boolean>;
  /** Ids of the principals granted act-as on a service account, sorted. Throws PRINCIPAL_NOT_FOUND for an unknown one. */
  listActAsGrants(serviceAccountId: string): Promise<string[]>;
  /**
   * Lets a principal (a group: all its members) publish or subscribe to the event names a pattern
   * matches. Throws PRINCIPAL_NOT_FOUND for an unknown principal; granting twice changes nothing.
   * The pattern is stored as given (the engine checks its syntax).
   */
  grantEvents(input: EventGrant): Promise<void>;
  /** Withdraws exactly this grant; false when there was none. */
  revokeEvents(input: EventGrant): Promise<boolean>;
  /**
   * Event grants ordered by principal id, right, then pattern: all of them, or those held by
   * any of `principalIds` (a principal and its groups, for a check; unknown ids hold none).
   */
  listEventGrants(filter?: { principalIds?: readonly string[] }): Promise<EventGrant[]>;
  /** The principal with its groups, act-as service accounts and administrator mark (its own or a group's), read on one snapshot; null when unknown. */
  resolvePrincipal(id: string): Promise<ResolvedPrincipal | null>;
  /**
   * Records an API token of a user or service account. Only the token's hash is given and kept:
   * the token itself is shown to its holder once and never stored. Throws PRINCIPAL_NOT_FOUND
   * for an unknown principal, INVALID_INPUT (`principalId`) for a group, and CONFLICT when the
   * token id or the hash is already recorded (nothing is written then).
   */
  createToken(input: NewApiToken): Promise<ApiTokenRecord>;
  /**
   * The token with this hash, revoked and expired ones included (the caller decides what an
   * expired token means at its own clock); null when no token has it.
   */
  findTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null>;
  /** Tokens, of one principal or of all, ordered by creation time then token id. */
  listTokens(filter?: { principalId?: string }): Promise<ApiTokenRecord[]>;
  /**
   * Revokes a token at `at`. True when it was active; false when it is unknown or was already
   * revoked (the first revocation time is kept, so a retried call changes nothing).
   */
  revokeToken(input: { tokenId: string; at: number }): Promise<boolean>;
}

/** What {@link PrincipalStore.createToken} records. */
export interface NewApiToken {
  tokenId: string;
  principalId: string;
  /** SHA-256 of the token, lowercase hex. */
  tokenHash: string;
  at: number;
  expiresAt?: number | null;
  description?: string | null;
}

/**
 * An API token as stored: its hash, never the token. Deleting a principal deletes its tokens.
 */
export interface ApiTokenRecord {
  tokenId: string;
  principalId: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  description: string | null;
}

/** The error for a token id or hash already recorded (every store raises exactly this). */
export function tokenConflict(tokenId: string): ConflictError {
  return new ConflictError(`API token "${tokenId}" (or its hash) already exists`, { details: { tokenId } });
}

/** The error for a token given to a group (every store raises exactly this): tokens belong to users and service accounts. */
export function groupCannotHoldToken(principalId: string): ValidationError {
  return wrongPrincipalKind('principalId', principalId, 'group', 'a user or a service account');
}

/** Orders event grants as every store lists them: by principal id, right, then pattern (code-unit order). */
export function compareEventGrants(a: EventGrant, b: EventGrant): number {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return cmp(a.principalId, b.principalId) || cmp(a.right, b.right) || cmp(a.pattern, b.pattern);
}

/** The default and the largest page of {@link PrincipalStore.listPrincipals}. */
export const PRINCIPAL_PAGE = { defaultLimit: 100, maxLimit: 1000 } as const;

/** The page size a listing uses: `limit` within 1…1,000, default 100. */
export function principalPageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return PRINCIPAL_PAGE.defaultLimit;
  return Math.min(PRINCIPAL_PAGE.maxLimit, Math.max(1, Math.floor(limit)));
}

/** The error for a principal id that names nothing (every store raises exactly this). */
export function principalNotFound(id: string): NotFoundError {
  return new NotFoundError('PRINCIPAL_NOT_FOUND', `principal "${id}" does not exist`, { details: { principalId: id } });
}

/** The error for a principal of the wrong kind in `field` (every store raises exactly this). */
export function wrongPrincipalKind(field: string, id: string, kind: PrincipalKind, expected: string): ValidationError {
  return new ValidationError('INVALID_INPUT', [{ path: field, message: `must be ${expected}; "${id}" is a ${kind}` }]);
}
