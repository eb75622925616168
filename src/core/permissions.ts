/**
 * Who may do what (DESIGN.md §6), as pure functions of a resolved principal and the flow or run
 * in question. The engine applies them to its entry points and to calls between flows; the HTTP
 * router applies the same functions to requests. Nothing here reads a store or a clock.
 *
 * The rules:
 * - Flow roles: `administrators` administer the flow and every run of it; when a flow names no
 *   administrators, the principal that deployed the version does. `starters` may start it; a flow
 *   that names no starters may be started by any principal. `viewers` (with starters and
 *   administrators) may see the definition; a flow that names no viewers and no starters is
 *   visible to every principal.
 * - Run roles: the owner (`runOwner`) reads and manages the run; `monitors` read it (status,
 *   logs, items, events, stream); `managers` read it, update it and cancel it. Role lists name
 *   users and groups; a principal holds a role through its own id or one of its groups.
 * - A flow's roles are those of the version the run executes (versions are immutable).
 * - Groups do not act: a group is never the principal that starts, reads or manages.
 * - Act-as: a principal may act as a service account it was granted (itself or through a group)
 *   and, trivially, as itself.
 * - Events: a principal may publish, or (as the deployer of a flow) subscribe to, the event names
 *   its event grants match (its own or its groups'). An event resumes a waiting run when its
 *   publisher may manage the run or may publish that name.
 * - System administrators (DESIGN.md §6: the `admin` of `flowrun serve`, and principals a store
 *   marks as administrators, directly or through a group) hold every flow role and every run role,
 *   and may publish and subscribe to every event name. The mark comes from the stores alone: no
 *   id is an administrator by its name, and act-as on service accounts is still granted one by one.
 */
import type { FlowRoles } from './model.js';
import type { EventGrant, EventRight, ResolvedPrincipal } from './principal-store.js';
import type { PrincipalSet } from './run.js';

/** The principal a check is about: its id, kind, groups and act-as grants. */
export type Principal = ResolvedPrincipal;

/** What a check needs of a flow version. */
export interface FlowAccess {
  roles?: FlowRoles | undefined;
  /** Who deployed the version; administers it when it names no administrators ('' for nobody). */
  deployedBy: string;
}

/** What a check needs of a run. */
export interface RunAccess {
  runOwner: string;
  monitors: PrincipalSet;
  managers: PrincipalSet;
}

/** A principal that no store knows: trusted as given (seed 002), a user in no group with no grants. */
export function unknownPrincipal(id: string): Principal {
  return { id, kind: 'user', groups: [], actAs: [] };
}

/** True when the principal is named in the list, by its id or one of its groups. */
export function isNamedIn(principal: Principal, names: readonly string[] | undefined): boolean {
  if (!names || names.length === 0) return false;
  if (names.includes(principal.id)) return true;
  return principal.groups.some((group) => names.includes(group));
}

function isActor(principal: Principal): boolean {
  return principal.kind !== 'group';
}

/** True when the principal is a system administrator (marked in the stores, itself or through a group); groups never act. */
export function isSystemAdministrator(principal: Principal): boolean {
  return isActor(principal) && principal.isAdministrator === true;
}

function named(list: readonly string[] | undefined): boolean {
  return list !== undefined && list.length > 0;
}

/** May administer the flow: a named administrator, or — when none is named — its deployer. */
export function canAdministerFlow(principal: Principal, flow: FlowAccess): boolean {
  if (!isActor(principal)) return false;
  if (isSystemAdministrator(principal)) return true;
  const administrators = flow.roles?.administrators;
  if (named(administrators)) return isNamedIn(principal, administrators);
  return flow.deployedBy !== '' && principal.id === flow.deployedBy;
}

/** True when any principal may start the flow (it names no starters): no lookup is needed. */
export function isOpenToStart(flow: FlowAccess): boolean {
  return !named(flow.roles?.starters);
}

/** May start a run of the flow: any principal when it names no starters, else its starters and administrators. */
export function canStartFlow(principal: Principal, flow: FlowAccess): boolean {
  if (!isActor(principal)) return false;
  if (isOpenToStart(flow)) return true;
  return isNamedIn(principal, flow.roles?.starters) || canAdministerFlow(principal, flow);
}

/** May see the flow's definition: everyone when it names no viewers or starters, else viewers, starters and administrators. */
export function canViewFlow(principal: Principal, flow: FlowAccess): boolean {
  if (!isActor(principal)) return false;
  const roles = flow.roles;
  if (!named(roles?.viewers) && !named(roles?.starters)) return true;
  return isNamedIn(principal, roles?.viewers) || isNamedIn(principal, roles?.starters) || canAdministerFlow(principal, flow);
}

function holdsRunRole(principal: Principal, role: PrincipalSet): boolean {
  return role.users.includes(principal.id) || principal.groups.some((group) => role.groups.includes(group));
}

/** May read the run (status, logs, items, events, stream): owner, monitor, manager, or administrator of its flow. */
export function canReadRun(principal: Principal, run: RunAccess, flow: FlowAccess): boolean {
  if (!isActor(principal)) return false;
  return canManageRun(principal, run, flow) || holdsRunRole(principal, run.monitors);
}

/** May update and cancel the run: owner, manager, or administrator of its flow. */
export function canManageRun(principal: Principal, run: RunAccess, flow: FlowAccess): boolean {
  if (!isActor(principal)) return false;
  if (isSystemAdministrator(principal)) return true;
  return principal.id === run.runOwner || holdsRunRole(principal, run.managers) || canAdministerFlow(principal, flow);
}

/** May act as the service account: granted act-as (directly or through a group), or it is that account. */
export function canActAs(principal: Principal, serviceAccountId: string): boolean {
  if (!isActor(principal)) return false;
  return principal.id === serviceAccountId || principal.actAs.includes(serviceAccountId);
}

/** An event name: 1–200 letters, digits and `_ . : / -`, not starting with a punctuation mark. */
export const EVENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,199}$/;

/**
 * True when `pattern` is an event-name pattern: an exact event name (`payment.confirmed`), a name
 * followed by `.*` (`orders.*`: every name of one or more further dot-separated segments under
 * `orders.`, not `orders` itself), or `*` alone (every name).
 */
export function isEventPattern(pattern: unknown): pattern is string {
  if (typeof pattern !== 'string') return false;
  if (pattern === '*') return true;
  const exact = pattern.endsWith('.*') ? pattern.slice(0, -2) : pattern;
  return EVENT_NAME.test(exact);
}

/** True when the pattern (see {@link isEventPattern}) matches the event name. */
export function eventPatternMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return name.length > pattern.length - 1 && name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/**
 * True when the principal holds a grant of `right` matching the event name: granted to itself
 * or to one of its groups (`grants` are those of the principal and its groups) — or is a system
 * administrator, who holds every right on every name. Groups never act.
 */
export function holdsEventRight(principal: Principal, grants: readonly EventGrant[], right: EventRight, name: string): boolean {
  if (!isActor(principal)) return false;
  if (isSystemAdministrator(principal)) return true;
  const holders = new Set([principal.id, ...principal.groups]);
  return grants.some((g) => g.right === right && holders.has(g.principalId) && eventPatternMatches(g.pattern, name));
}
