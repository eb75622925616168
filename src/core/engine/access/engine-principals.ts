/**
 * `engine.principals`: managing users, groups, service accounts, group members, act-as grants
 * and event grants in the engine's stores. Options are checked here, at the edge (INVALID_INPUT naming the field);
 * the store checks kinds and existence atomically. These calls are in-process administration:
 * whoever holds the engine may make them (the HTTP router and the CLI guard them themselves).
 */
import type { Clock } from '../../clock.js';
import { ValidationError } from '../../errors.js';
import type { EventGrant, PrincipalFilter, PrincipalKind, PrincipalRecord, PrincipalStore, ResolvedPrincipal } from '../../principal-store.js';
import { EVENT_RIGHTS, PRINCIPAL_KINDS, principalNotFound } from '../../principal-store.js';
import { isEventPattern, unknownPrincipal } from '../../permissions.js';

/** Letters, digits and `_ . : @ + -`, 1–200 characters: user names, e-mail addresses, `group:ops`. */
const PRINCIPAL_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@+-]{0,199}$/;

/** What creating a principal takes. */
export interface NewPrincipal {
  id: string;
  displayName?: string;
}

/** The principal management API of an engine. */
export class EnginePrincipals {
  readonly #store: PrincipalStore;
  readonly #clock: Clock;

  constructor(deps: { store: PrincipalStore; clock: Clock }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
  }

  /** Creates a user. Throws CONFLICT when the id is taken (by any kind of principal). */
  async createUser(input: NewPrincipal): Promise<PrincipalRecord> {
    return this.#create(input, 'user');
  }

  /** Creates a group; add members with {@link addMember}. */
  async createGroup(input: NewPrincipal): Promise<PrincipalRecord> {
    return this.#create(input, 'group');
  }

  /** Creates a service account: a principal runs can run as (`runAs`) by those granted act-as on it. */
  async createServiceAccount(input: NewPrincipal): Promise<PrincipalRecord> {
    return this.#create(input, 'serviceAccount');
  }

  /** A principal by id. Throws PRINCIPAL_NOT_FOUND. */
  async get(id: string): Promise<PrincipalRecord> {
    const found = await this.#store.getPrincipal(checkId(id, 'id'));
    if (!found) throw principalNotFound(id);
    return found;
  }

  /** Principals ordered by id, optionally of one kind; pass the last id as `afterId` for the next page. */
  async list(filter: PrincipalFilter = {}): Promise<PrincipalRecord[]> {
    if (filter.kind !== undefined && !PRINCIPAL_KINDS.includes(filter.kind)) invalid('kind', `must be one of ${PRINCIPAL_KINDS.join(', ')}, got ${JSON.stringify(filter.kind)}`);
    return this.#store.listPrincipals(filter);
  }

  /**
   * Makes a user, service account or group (all its members) a system administrator, or no
   * longer one (DESIGN.md §6): administrators see and manage every run and flow, decide every
   * approval and may publish any event. Takes effect at the next check; throws PRINCIPAL_NOT_FOUND.
   * Deliberately not reachable over HTTP: only whoever holds the stores (the CLI, in-process code) may.
   */
  async setAdministrator(id: string, isAdministrator: boolean): Promise<PrincipalRecord> {
    if (typeof isAdministrator !== 'boolean') invalid('isAdministrator', `must be true or false, got ${JSON.stringify(isAdministrator)}`);
    return this.#store.updatePrincipal({ id: checkId(id, 'id'), isAdministrator });
  }

  /** Changes the name people see for a principal (runs show it as `createdByString` / `runOwnerString`); null removes it. */
  async setDisplayName(id: string, displayName: string | null): Promise<PrincipalRecord> {
    return this.#store.updatePrincipal({ id: checkId(id, 'id'), displayName: checkDisplayName(displayName) ?? null });
  }

  /** Deletes a principal with its memberships and grants. Throws PRINCIPAL_NOT_FOUND. Runs and flow roles naming it keep the name. */
  async delete(id: string): Promise<void> {
    if (!(await this.#store.deletePrincipal(checkId(id, 'id')))) throw principalNotFound(id);
  }

  /** Adds a user or service account to a group; adding a member twice is harmless. */
  async addMember(groupId: string, memberId: string): Promise<void> {
    return this.#store.addGroupMember({ groupId: checkId(groupId, 'groupId'), memberId: checkId(memberId, 'memberId') });
  }

  /** Removes a member from a group; false when it was not a member. */
  async removeMember(groupId: string, memberId: string): Promise<boolean> {
    return this.#store.removeGroupMember({ groupId: checkId(groupId, 'groupId'), memberId: checkId(memberId, 'memberId') });
  }

  /** Member ids of a group, sorted. */
  async listMembers(groupId: string): Promise<string[]> {
    return this.#store.listGroupMembers(checkId(groupId, 'groupId'));
  }

  /** Lets a user, a group or a service account act as `serviceAccountId`; granting twice is harmless. */
  async grantActAs(input: { serviceAccountId: string; principalId: string }): Promise<void> {
    return this.#store.grantActAs({ serviceAccountId: checkId(input.serviceAccountId, 'serviceAccountId'), principalId: checkId(input.principalId, 'principalId') });
  }

  /** Withdraws an act-as grant; false when there was none. Runs already started as the account go on. */
  async revokeActAs(input: { serviceAccountId: string; principalId: string }): Promise<boolean> {
    return this.#store.revokeActAs({ serviceAccountId: checkId(input.serviceAccountId, 'serviceAccountId'), principalId: checkId(input.principalId, 'principalId') });
  }

  /** Who may act as a service account, sorted. */
  async listActAsGrants(serviceAccountId: string): Promise<string[]> {
    return this.#store.listActAsGrants(checkId(serviceAccountId, 'serviceAccountId'));
  }

  /**
   * Lets a user, a service account or a group (all its members) `publish` or `subscribe` to the
   * event names `pattern` matches: an exact name, `prefix.*` (one or more further segments), or
   * `*` (every name). Granting twice is harmless. Takes effect at the next delivery.
   */
  async grantEvents(input: EventGrant): Promise<void> {
    return this.#store.grantEvents(checkEventGrant(input));
  }

  /** Withdraws exactly that event grant; false when there was none. Takes effect at the next delivery. */
  async revokeEvents(input: EventGrant): Promise<boolean> {
    return this.#store.revokeEvents(checkEventGrant(input));
  }

  /** Event grants ordered by principal, right and pattern: all, or those held directly by `principalId`. */
  async listEventGrants(filter: { principalId?: string } = {}): Promise<EventGrant[]> {
    return this.#store.listEventGrants(filter.principalId === undefined ? {} : { principalIds: [checkId(filter.principalId, 'principalId')] });
  }

  /** The principal as permission checks see it; an unknown id is a user in no group with no grants (seed 002 trusts ids). */
  async resolve(id: string): Promise<ResolvedPrincipal> {
    return (await this.#store.resolvePrincipal(checkId(id, 'id'))) ?? unknownPrincipal(id);
  }

  async #create(input: NewPrincipal, kind: PrincipalKind): Promise<PrincipalRecord> {
    if (typeof input !== 'object' || input === null) invalid('', `must be {id, displayName?}, got ${JSON.stringify(input)}`);
    const id = checkId(input.id, 'id');
    const displayName = input.displayName === undefined ? undefined : checkDisplayName(input.displayName);
    return this.#store.createPrincipal({ id, kind, displayName: displayName ?? null, at: this.#clock.now() });
  }
}

function checkDisplayName(displayName: unknown): string | null {
  if (displayName !== null && (typeof displayName !== 'string' || displayName.length > 200)) invalid('displayName', 'must be a string of at most 200 characters');
  return displayName as string | null;
}

function checkEventGrant(input: EventGrant): EventGrant {
  if (typeof input !== 'object' || input === null) invalid('', `must be {principalId, right, pattern}, got ${JSON.stringify(input)}`);
  const principalId = checkId(input.principalId, 'principalId');
  if (!EVENT_RIGHTS.includes(input.right)) invalid('right', `must be one of ${EVENT_RIGHTS.join(', ')}, got ${JSON.stringify(input.right)}`);
  if (!isEventPattern(input.pattern)) {
    invalid('pattern', `must be an event name, a name followed by ".*", or "*", got ${JSON.stringify(input.pattern)}`);
  }
  return { principalId, right: input.right, pattern: input.pattern };
}

function checkId(id: unknown, path: string): string {
  if (typeof id !== 'string' || !PRINCIPAL_ID.test(id)) {
    invalid(path, `must be 1-200 letters, digits, "_", ".", ":", "@", "+" or "-", starting with a letter or digit, got ${JSON.stringify(id)}`);
  }
  return id as string;
}

function invalid(path: string, message: string): never {
  throw new ValidationError('INVALID_INPUT', [{ path, message }]);
}
