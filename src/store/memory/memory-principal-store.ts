/**
 * Principals of the memory store: users, groups, service accounts, memberships and act-as
 * grants in maps, indexed both ways so resolving a principal never scans.
 */
import { ConflictError } from '../../core/errors.js';
import {
  compareEventGrants,
  type EventGrant,
  groupCannotHoldToken,
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

/** A {@link PrincipalStore} in this process's memory. */
export class MemoryPrincipalStore implements PrincipalStore {
  readonly #principals = new Map<string, PrincipalRecord>();
  /** group → members, and member → groups. */
  readonly #members = new Map<string, Set<string>>();
  readonly #memberOf = new Map<string, Set<string>>();
  /** service account → grantees, and grantee → service accounts. */
  readonly #grantees = new Map<string, Set<string>>();
  readonly #grantsTo = new Map<string, Set<string>>();
  /** Event grants by their key (principal, right, pattern). */
  readonly #eventGrants = new Map<string, EventGrant>();
  /** token id → token, and hash → token id. */
  readonly #tokens = new Map<string, ApiTokenRecord>();
  readonly #tokenByHash = new Map<string, string>();
  readonly #assertOpen: () => void;

  /** `assertOpen` throws when the owning store was closed. */
  constructor(assertOpen: () => void) {
    this.#assertOpen = assertOpen;
  }

  async createPrincipal(input: { id: string; kind: PrincipalKind; displayName?: string | null; at: number }): Promise<PrincipalRecord> {
    this.#assertOpen();
    if (this.#principals.has(input.id)) throw new ConflictError(`principal "${input.id}" already exists`, { details: { principalId: input.id } });
    const record: PrincipalRecord = { id: input.id, kind: input.kind, displayName: input.displayName ?? null, isAdministrator: false, createdAt: input.at };
    this.#principals.set(input.id, record);
    return { ...record };
  }

  async getPrincipal(id: string): Promise<PrincipalRecord | null> {
    this.#assertOpen();
    const found = this.#principals.get(id);
    return found ? { ...found } : null;
  }

  async updatePrincipal(input: { id: string; displayName?: string | null; isAdministrator?: boolean }): Promise<PrincipalRecord> {
    this.#assertOpen();
    const found = this.#principals.get(input.id);
    if (!found) throw principalNotFound(input.id);
    if (input.displayName !== undefined) found.displayName = input.displayName;
    if (input.isAdministrator !== undefined) found.isAdministrator = input.isAdministrator;
    return { ...found };
  }

  async listPrincipals(filter: PrincipalFilter = {}): Promise<PrincipalRecord[]> {
    this.#assertOpen();
    const limit = principalPageSize(filter.limit);
    return [...this.#principals.values()]
      .filter((p) => (filter.kind === undefined || p.kind === filter.kind) && (filter.afterId === undefined || p.id > filter.afterId))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit)
      .map((p) => ({ ...p }));
  }

  async deletePrincipal(id: string): Promise<boolean> {
    this.#assertOpen();
    if (!this.#principals.delete(id)) return false;
    unlinkAll(this.#members, this.#memberOf, id);
    unlinkAll(this.#memberOf, this.#members, id);
    unlinkAll(this.#grantees, this.#grantsTo, id);
    unlinkAll(this.#grantsTo, this.#grantees, id);
    for (const [key, grant] of this.#eventGrants) if (grant.principalId === id) this.#eventGrants.delete(key);
    for (const token of [...this.#tokens.values()]) {
      if (token.principalId !== id) continue;
      this.#tokens.delete(token.tokenId);
      this.#tokenByHash.delete(token.tokenHash);
    }
    return true;
  }

  async addGroupMember(input: { groupId: string; memberId: string }): Promise<void> {
    this.#assertOpen();
    this.#expect(input.groupId, 'groupId', (kind) => kind === 'group', 'a group');
    this.#expect(input.memberId, 'memberId', (kind) => kind !== 'group', 'a user or a service account');
    link(this.#members, this.#memberOf, input.groupId, input.memberId);
  }

  async removeGroupMember(input: { groupId: string; memberId: string }): Promise<boolean> {
    this.#assertOpen();
    return unlink(this.#members, this.#memberOf, input.groupId, input.memberId);
  }

  async listGroupMembers(groupId: string): Promise<string[]> {
    this.#assertOpen();
    this.#expect(groupId, 'groupId', (kind) => kind === 'group', 'a group');
    return sorted(this.#members.get(groupId));
  }

  async grantActAs(input: { serviceAccountId: string; principalId: string }): Promise<void> {
    this.#assertOpen();
    this.#expect(input.serviceAccountId, 'serviceAccountId', (kind) => kind === 'serviceAccount', 'a service account');
    this.#expect(input.principalId, 'principalId', () => true, 'a principal');
    link(this.#grantees, this.#grantsTo, input.serviceAccountId, input.principalId);
  }

  async revokeActAs(input: { serviceAccountId: string; principalId: string }): Promise<boolean> {
    this.#assertOpen();
    return unlink(this.#grantees, this.#grantsTo, input.serviceAccountId, input.principalId);
  }

  async listActAsGrants(serviceAccountId: string): Promise<string[]> {
    this.#assertOpen();
    this.#expect(serviceAccountId, 'serviceAccountId', (kind) => kind === 'serviceAccount', 'a service account');
    return sorted(this.#grantees.get(serviceAccountId));
  }

  async grantEvents(input: EventGrant): Promise<void> {
    this.#assertOpen();
    this.#expect(input.principalId, 'principalId', () => true, 'a principal');
    const grant = { principalId: input.principalId, right: input.right, pattern: input.pattern };
    this.#eventGrants.set(eventGrantKey(grant), grant);
  }

  async revokeEvents(input: EventGrant): Promise<boolean> {
    this.#assertOpen();
    return this.#eventGrants.delete(eventGrantKey(input));
  }

  async listEventGrants(filter: { principalIds?: readonly string[] } = {}): Promise<EventGrant[]> {
    this.#assertOpen();
    const ids = filter.principalIds === undefined ? null : new Set(filter.principalIds);
    return [...this.#eventGrants.values()]
      .filter((g) => ids === null || ids.has(g.principalId))
      .sort(compareEventGrants)
      .map((g) => ({ ...g }));
  }

  async resolvePrincipal(id: string): Promise<ResolvedPrincipal | null> {
    this.#assertOpen();
    const found = this.#principals.get(id);
    if (!found) return null;
    const groups = sorted(this.#memberOf.get(id));
    const actAs = new Set(this.#grantsTo.get(id));
    for (const group of groups) for (const account of this.#grantsTo.get(group) ?? []) actAs.add(account);
    const isAdministrator = found.isAdministrator || groups.some((group) => this.#principals.get(group)?.isAdministrator === true);
    return { id, kind: found.kind, groups, actAs: sorted(actAs), isAdministrator };
  }

  async createToken(input: NewApiToken): Promise<ApiTokenRecord> {
    this.#assertOpen();
    const principal = this.#principals.get(input.principalId);
    if (!principal) throw principalNotFound(input.principalId);
    if (principal.kind === 'group') throw groupCannotHoldToken(input.principalId);
    if (this.#tokens.has(input.tokenId) || this.#tokenByHash.has(input.tokenHash)) throw tokenConflict(input.tokenId);
    const record: ApiTokenRecord = {
      tokenId: input.tokenId,
      principalId: input.principalId,
      tokenHash: input.tokenHash,
      createdAt: input.at,
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      description: input.description ?? null,
    };
    this.#tokens.set(record.tokenId, record);
    this.#tokenByHash.set(record.tokenHash, record.tokenId);
    return { ...record };
  }

  async findTokenByHash(tokenHash: string): Promise<ApiTokenRecord | null> {
    this.#assertOpen();
    const tokenId = this.#tokenByHash.get(tokenHash);
    const found = tokenId === undefined ? undefined : this.#tokens.get(tokenId);
    return found ? { ...found } : null;
  }

  async listTokens(filter: { principalId?: string } = {}): Promise<ApiTokenRecord[]> {
    this.#assertOpen();
    return [...this.#tokens.values()]
      .filter((t) => filter.principalId === undefined || t.principalId === filter.principalId)
      .sort((a, b) => a.createdAt - b.createdAt || (a.tokenId < b.tokenId ? -1 : a.tokenId > b.tokenId ? 1 : 0))
      .map((t) => ({ ...t }));
  }

  async revokeToken(input: { tokenId: string; at: number }): Promise<boolean> {
    this.#assertOpen();
    const found = this.#tokens.get(input.tokenId);
    if (!found || found.revokedAt !== null) return false;
    found.revokedAt = input.at;
    return true;
  }

  #expect(id: string, field: string, isKind: (kind: PrincipalKind) => boolean, expected: string): void {
    const found = this.#principals.get(id);
    if (!found) throw principalNotFound(id);
    if (!isKind(found.kind)) throw wrongPrincipalKind(field, id, found.kind, expected);
  }
}

function eventGrantKey(grant: EventGrant): string {
  return JSON.stringify([grant.principalId, grant.right, grant.pattern]);
}

function link(forward: Map<string, Set<string>>, backward: Map<string, Set<string>>, from: string, to: string): void {
  let targets = forward.get(from);
  if (!targets) forward.set(from, (targets = new Set()));
  targets.add(to);
  let sources = backward.get(to);
  if (!sources) backward.set(to, (sources = new Set()));
  sources.add(from);
}

function unlink(forward: Map<string, Set<string>>, backward: Map<string, Set<string>>, from: string, to: string): boolean {
  const removed = forward.get(from)?.delete(to) ?? false;
  backward.get(to)?.delete(from);
  return removed;
}

/** Removes every link from `id` in `forward`, and their mirrors in `backward`. */
function unlinkAll(forward: Map<string, Set<string>>, backward: Map<string, Set<string>>, id: string): void {
  for (const other of forward.get(id) ?? []) backward.get(other)?.delete(id);
  forward.delete(id);
}

function sorted(ids: Iterable<string> | undefined): string[] {
  return [...(ids ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
