/**
 * The engine's permission checks: {@link ../permissions.ts} applied to stored principals, flows
 * and runs. Starting (from `startRun`/`runAction`, or from a step calling another flow) is checked
 * before anything is created; reading and managing a run are checked when the caller names the
 * principal it acts for (`as`). Calls that name none are trusted in-process administration.
 *
 * Nothing is cached: a revoked grant or a removed member takes effect on the next check. Checks
 * of one principal that overlap in time share one store lookup (a lookup already under way when
 * a check begins is as fresh as a new one: a change racing with both has no order relative to them).
 *
 * The `engine/access/` room: who may do what — these checks, and principals, groups, service
 * accounts and grants managed through the engine (engine-principals.ts). It imports only core
 * (permissions.ts, principal-store.ts, the store); every other room asks it.
 */
import { FlowError, NotFoundError, PermissionError, ValidationError } from '../../errors.js';
import type { FlowVersionRecord, SubscriptionDefinition } from '../../model.js';
import {
  canActAs,
  holdsEventRight,
  canManageRun,
  canReadRun,
  canStartFlow,
  canViewFlow,
  isOpenToStart,
  isSystemAdministrator,
  unknownPrincipal,
  type FlowAccess,
  type Principal,
} from '../../permissions.js';
import type { RunRecord } from '../../run.js';
import type { EventGrant, EventRight, ResolvedPrincipal } from '../../principal-store.js';
import type { RunFilter, RunPage, Store } from '../../store.js';

/**
 * Who a call acts for: a user or service account id, trusted as given — or the id with the groups
 * an identity provider asserted for it (an HTTP `authenticate` hook), which count as well as the
 * groups the stores know.
 */
export type PrincipalRef = string | { id: string; groups?: readonly string[] };

/** The id of a principal reference. */
export function principalIdOf(ref: PrincipalRef): string {
  return typeof ref === 'string' ? ref : ref.id;
}

/** Options of the run entry points that act for a principal. */
export interface AccessOptions {
  /**
   * The principal this call acts for. With it, a run it may not read answers exactly like a
   * missing one (RUN_NOT_FOUND), and a run it may read but not manage is refused with
   * PERMISSION_DENIED. Without it, the call is trusted.
   */
  as?: PrincipalRef;
}

/** Stores a list scan may read before it returns a short page (invisible runs are skipped). */
const MAX_LIST_SCANS = 20;

/** The deepest `offset` a listing takes; deeper pages are reached with markers (keyset pagination stays fast). */
export const MAX_LIST_OFFSET = 10_000;

/**
 * For a caller that reads every run, the store counts at most this many matching runs: `total` is
 * exact below it, and at it (flagged an estimate) a lower bound — so a count costs the same at
 * any table size (bench/RESULTS.md, issue 14: ~10 ms p50 at 1,000,000 runs on PostgreSQL; 100,000
 * read the heap of a fresh table there for ~0.4 s).
 */
export const COUNTED_TOTAL_UP_TO = 10_000;

/**
 * For any other principal, this many matching runs are checked one by one (each against its
 * flow's and run's roles); `total` is exact when no more match, else the readable ones among them
 * (a lower bound, flagged).
 */
export const CHECKED_TOTAL_UP_TO = 1_000;


/** Options of a listing beyond its filter (`engine.listRuns`). */
export interface ListingOptions extends AccessOptions {
  /** Skip this many runs the caller may read before the page: 0 to {@link MAX_LIST_OFFSET}. */
  offset?: number;
  /** Also count the matching runs the caller may read (`total`). */
  withTotal?: boolean;
}

/** A page of runs, with `total` when it was asked for. */
export interface RunList extends RunPage {
  /** Runs matching the filter that the caller may read. */
  total?: number;
  /** True when `total` is an estimate: {@link COUNTED_TOTAL_UP_TO} runs or more matched (for an administrator), more than {@link CHECKED_TOTAL_UP_TO} (otherwise). */
  totalIsEstimate?: boolean;
}

/** Permission checks over one store. */
export class AccessControl {
  readonly #store: Store;
  readonly #loadFlow: (flowId: string, version: number | 'LATEST') => Promise<FlowVersionRecord>;
  readonly #lookups = new Map<string, Promise<ResolvedPrincipal | null>>();

  constructor(deps: { store: Store; loadFlow: (flowId: string, version: number | 'LATEST') => Promise<FlowVersionRecord> }) {
    this.#store = deps.store;
    this.#loadFlow = deps.loadFlow;
  }

  /** The principal with its groups and grants; an id no store knows is a user in no group (seed 002 trusts it). */
  async principal(ref: PrincipalRef): Promise<Principal> {
    const id = principalIdOf(ref);
    const stored = (await this.#resolve(id)) ?? unknownPrincipal(id);
    const asserted = typeof ref === 'string' ? [] : (ref.groups ?? []);
    if (asserted.length === 0) return stored;
    const groups = [...new Set([...stored.groups, ...asserted])];
    // A group the identity provider asserts counts like a stored one, its administrator mark too.
    const isAdministrator = stored.isAdministrator === true || (await Promise.all(asserted.map((group) => this.#resolve(group)))).some((group) => group?.kind === 'group' && group.isAdministrator === true);
    return { ...stored, groups, isAdministrator };
  }

  #resolve(id: string): Promise<ResolvedPrincipal | null> {
    let lookup = this.#lookups.get(id);
    if (!lookup) {
      lookup = this.#store.principals.resolvePrincipal(id).finally(() => this.#lookups.delete(id));
      this.#lookups.set(id, lookup);
    }
    return lookup;
  }

  /**
   * Refuses a start of `flow` by `by` — null for a trusted caller — as `runAs`: the caller must
   * hold act-as on the service account (a trusted caller may act as any), and the service
   * account, or without one the caller, must be allowed to start the flow. A refusal is
   * PERMISSION_DENIED; with `hidden` set (a start from an entry point: `startRun`, HTTP), a
   * caller that may not even see the stored flow gets FLOW_NOT_FOUND instead, worded like a
   * missing flow of the same `version` selector (DESIGN.md §6). Calls from steps keep
   * PERMISSION_DENIED (DESIGN.md §3).
   */
  async assertCanStart(input: { by: PrincipalRef | null; flow: FlowVersionRecord; runAs: string | null; hidden?: { version: number | string | undefined } }): Promise<void> {
    const { runAs } = input;
    const ref = input.by;
    const by = ref === null ? null : principalIdOf(ref);
    const flow = flowAccess(input.flow);
    const refuse = async (message: string, details: Record<string, unknown>): Promise<never> => {
      // Version 0 is a definition passed inline: the caller holds it, there is nothing to hide.
      if (input.hidden && ref !== null && input.flow.version > 0 && !canViewFlow(await this.principal(ref), flow)) throw flowNotFound(flow.flowId, input.hidden.version);
      throw denied(message, details);
    };
    if (runAs !== null) {
      if (ref !== null && !canActAs(await this.principal(ref), runAs)) {
        return refuse(`principal "${by}" may not act as service account "${runAs}"`, { principal: by, runAs, flowId: flow.flowId });
      }
      const account = await this.#resolve(runAs);
      if (!account || account.kind !== 'serviceAccount') return refuse(`"${runAs}" is not a service account`, { runAs, flowId: flow.flowId });
      if (!canStartFlow(account, flow)) return refuse(`service account "${runAs}" may not start flow "${flow.flowId}"`, { runAs, flowId: flow.flowId });
      return;
    }
    // Any principal starts an open flow, and the id is trusted as given: no lookup needed.
    if (ref === null || isOpenToStart(flow)) return;
    if (!canStartFlow(await this.principal(ref), flow)) return refuse(`principal "${by}" may not start flow "${flow.flowId}"`, { principal: by, flowId: flow.flowId });
  }

  /**
   * Refuses a call from inside `caller` (RUN_FLOW, START_FLOW_EXECUTION) to `flow`, optionally
   * as `runAs`: checks use the caller's effective principal — its service account if it runs as
   * one, else whoever created it.
   */
  assertCanCall(caller: RunRecord, flow: FlowVersionRecord, runAs: string | undefined): Promise<void> {
    const by = caller.runAs ?? caller.createdBy;
    return this.assertCanStart({ by, flow, runAs: runAs ?? caller.runAs });
  }

  /**
   * True when `publisher` may resume `run` with event `name` (DESIGN.md §6): it may manage the
   * run (owner, manager, flow administrator) or holds a publish grant matching the name. A trusted
   * publisher (null) may. Read at each call: a revoked grant counts at once.
   */
  async mayResumeWithEvent(input: { publisher: PrincipalRef | null; run: RunRecord; name: string }): Promise<boolean> {
    if (input.publisher === null) return true;
    const principal = await this.principal(input.publisher);
    if (canManageRun(principal, input.run, await this.#flowAccess(input.run))) return true;
    return this.#holdsEventRight(principal, 'publish', input.name);
  }

  /**
   * Refuses (PERMISSION_DENIED) delivering event `name` to a subscription of `flow`: the flow's
   * deployer must hold a subscribe grant matching the name, and the run it would start acts as
   * the deployer or the subscription's `runAs` — which the deployer must be allowed to act as,
   * and which must be allowed to start the flow. A flow deployed by trusted in-process code
   * (`deployedBy` '') subscribes to anything. Read at each delivery: a revoked grant counts at once.
   */
  async assertCanSubscribe(input: { flow: FlowVersionRecord; subscription: SubscriptionDefinition; name: string }): Promise<void> {
    const deployer = input.flow.deployedBy;
    const runAs = input.subscription.runAs ?? null;
    if (deployer !== '') {
      const principal = await this.principal(deployer);
      if (!(await this.#holdsEventRight(principal, 'subscribe', input.name))) {
        throw denied(`"${deployer}", who deployed flow "${input.flow.flowId}", may not subscribe to event "${input.name}"`, { principal: deployer, flowId: input.flow.flowId, event: input.name });
      }
    }
    await this.assertCanStart({ by: deployer === '' ? null : deployer, flow: input.flow, runAs });
  }

  async #holdsEventRight(principal: Principal, right: EventRight, name: string): Promise<boolean> {
    const grants: EventGrant[] = await this.#store.principals.listEventGrants({ principalIds: [principal.id, ...principal.groups] });
    return holdsEventRight(principal, grants, right, name);
  }

  /** The flow version, if `as` (when given) may see it (a viewer, starter or administrator); otherwise FLOW_NOT_FOUND, like a missing flow. */
  async viewableFlow(flow: FlowVersionRecord, as: PrincipalRef | undefined, version?: number | string): Promise<FlowVersionRecord> {
    if (as === undefined || canViewFlow(await this.principal(as), flowAccess(flow))) return flow;
    throw flowNotFound(flow.flowId, version);
  }

  /** The run, if it exists and `as` (when given) may read it; otherwise RUN_NOT_FOUND, the same either way. */
  async readableRun(runId: string, as: PrincipalRef | undefined): Promise<RunRecord> {
    return (await this.#read(runId, as)).run;
  }

  /** The run, if `as` (when given) may manage it: RUN_NOT_FOUND when it may not even read it, PERMISSION_DENIED when it only reads. */
  async manageableRun(runId: string, as: PrincipalRef | undefined): Promise<RunRecord> {
    const { run, access } = await this.#read(runId, as);
    if (access && !canManageRun(access.principal, run, access.flow)) {
      throw denied(`principal "${access.principal.id}" may not manage run "${runId}"`, { principal: access.principal.id, runId });
    }
    return run;
  }

  /** The run `as` may read, with what the check found (null for a trusted call); RUN_NOT_FOUND for a missing or invisible one. */
  async #read(runId: string, as: PrincipalRef | undefined): Promise<{ run: RunRecord; access: { principal: Principal; flow: FlowAccess } | null }> {
    const run = await this.#store.getRun(runId);
    if (!run) throw runNotFound(runId);
    if (as === undefined) return { run: readable(run), access: null };
    const [principal, flow] = await Promise.all([this.principal(as), this.#flowAccess(run)]);
    if (!canReadRun(principal, run, flow)) throw runNotFound(runId);
    return { run: readable(run), access: { principal, flow } };
  }

  /**
   * A test of whether `as` (resolved once, now) may manage a run — owner, manager, the flow's
   * administrator, a system administrator; every run for a trusted call (`as` undefined). For
   * listings that keep only the runs a caller may act on (pending approvals).
   */
  async manageTest(as: PrincipalRef | undefined): Promise<(run: RunRecord) => Promise<boolean>> {
    const principal = as === undefined ? null : await this.principal(as);
    if (principal === null || isSystemAdministrator(principal)) return async () => true;
    return async (run) => canManageRun(principal, run, await this.#flowAccess(run));
  }

  /** As {@link manageTest}, for reading: whether `as` may read a run (every run for a trusted call), and whether it reads every run. */
  async readTest(as: PrincipalRef | undefined): Promise<{ readsAll: boolean; mayRead: (run: RunRecord) => Promise<boolean> }> {
    const principal = as === undefined ? null : await this.principal(as);
    if (principal === null || isSystemAdministrator(principal)) return { readsAll: true, mayRead: async () => true };
    return { readsAll: false, mayRead: async (run) => canReadRun(principal, run, await this.#flowAccess(run)) };
  }

  /** As {@link manageableRun}, but only when `as` is given: a trusted call costs nothing. */
  async assertCanManage(runId: string, as: PrincipalRef | undefined): Promise<void> {
    if (as !== undefined) await this.manageableRun(runId, as);
  }

  /**
   * Whether `as` may read the run (a trusted call: whether it exists): false for a missing and an
   * invisible run alike; other errors (STORE_ERROR) are thrown. A watch reads no event before this says true.
   */
  async isReadable(runId: string, as: PrincipalRef | undefined): Promise<boolean> {
    try {
      await this.readableRun(runId, as);
      return true;
    } catch (error) {
      if (error instanceof FlowError && error.code === 'RUN_NOT_FOUND') return false;
      throw error;
    }
  }

  /**
   * A page of the runs `as` may read (all runs for a trusted call or a system administrator).
   * Store pages are read until `limit` visible runs are found, the listing ends, or
   * {@link MAX_LIST_SCANS} pages (plus those `offset` needs) were read; so a page may be short
   * while `hasNextPage` is true. Markers are the store's, so a page continues where the last one
   * ended. `offset` skips that many readable runs first (at most {@link MAX_LIST_OFFSET}: deeper
   * pages take markers). With `withTotal`, `total` counts the matching runs the caller may read
   * (see {@link #total}); `totalIsEstimate` says when it is an estimate.
   */
  async listRuns(filter: RunFilter, as: PrincipalRef | undefined, options: ListingOptions = {}): Promise<RunList> {
    // The stores' page rule (store/run-marker.ts): default 50, at most 1,000.
    const limit = Math.min(1000, Math.max(1, typeof filter.limit === 'number' && Number.isFinite(filter.limit) ? Math.floor(filter.limit) : 50));
    const offset = listingOffset(options.offset);
    const principal = as === undefined ? null : await this.principal(as);
    const readsAll = principal === null || isSystemAdministrator(principal);
    const isReadable = async (run: RunRecord): Promise<boolean> => readsAll || canReadRun(principal!, run, await this.#flowAccess(run));
    if (!readsAll && options.withTotal && offset === 0 && filter.marker === undefined) {
      // The first page of a principal who reads some runs only: when its scan reached the end of
      // the listing, it read every matching run already and its runs are the total. Otherwise the
      // total reads from the start again (it counts among the first runs, not this page's).
      const page = await this.#scan(filter, limit, 0, isReadable);
      return { ...page, ...(page.hasNextPage ? await this.#total(filter, false, isReadable) : { total: page.runs.length, totalIsEstimate: false }) };
    }
    const [page, totals] = await Promise.all([
      readsAll && offset === 0 ? this.#store.listRuns({ ...filter, limit }) : this.#scan(filter, limit, offset, isReadable),
      options.withTotal ? this.#total(filter, readsAll, isReadable) : null,
    ]);
    return totals === null ? page : { ...page, ...totals };
  }

  async #scan(filter: RunFilter, limit: number, offset: number, isReadable: (run: RunRecord) => Promise<boolean>): Promise<RunPage> {
    const runs: RunRecord[] = [];
    let skip = offset;
    let marker = filter.marker;
    let hasNextPage = true;
    const maxScans = MAX_LIST_SCANS + Math.ceil(offset / 1000);
    for (let scans = 0; scans < maxScans && hasNextPage && runs.length < limit; scans++) {
      // Asking for exactly the runs still to skip or still needed keeps the store's marker exact: every run of a page is consumed.
      const want = skip > 0 ? Math.min(1000, skip) : limit - runs.length;
      const page = await this.#store.listRuns({ ...filter, limit: want, ...(marker !== undefined ? { marker } : {}) });
      for (const run of page.runs) {
        if (!(await isReadable(run))) continue;
        if (skip > 0) skip--;
        else runs.push(run);
      }
      hasNextPage = page.hasNextPage;
      marker = page.marker ?? undefined;
    }
    return { runs, hasNextPage, marker: hasNextPage ? (marker ?? null) : null };
  }

  /**
   * The `total` of a listing. A caller that reads every run gets the store's count, bounded by
   * {@link COUNTED_TOTAL_UP_TO} (reaching it is flagged). Another principal's readable runs are
   * counted among the first {@link CHECKED_TOTAL_UP_TO} matching runs; when more match, that count
   * is a lower bound, flagged.
   */
  async #total(filter: RunFilter, readsAll: boolean, isReadable: (run: RunRecord) => Promise<boolean>): Promise<{ total: number; totalIsEstimate: boolean }> {
    const { marker: _marker, limit: _limit, ...matching } = filter;
    if (readsAll) {
      const total = await this.#store.countRuns(matching, { max: COUNTED_TOTAL_UP_TO });
      return { total, totalIsEstimate: total >= COUNTED_TOTAL_UP_TO };
    }
    let scanned = 0;
    let readable = 0;
    let marker: string | undefined;
    for (;;) {
      const page = await this.#store.listRuns({ ...matching, limit: Math.min(1000, CHECKED_TOTAL_UP_TO - scanned), ...(marker !== undefined ? { marker } : {}) });
      for (const run of page.runs) if (await isReadable(run)) readable++;
      scanned += page.runs.length;
      if (!page.hasNextPage) return { total: readable, totalIsEstimate: false };
      // A lower bound made of readable runs only: scaling by the store's count would tell the
      // caller how many runs it may not see there are (DESIGN.md §6, side channels).
      if (scanned >= CHECKED_TOTAL_UP_TO) return { total: readable, totalIsEstimate: true };
      marker = page.marker ?? undefined;
    }
  }

  async #flowAccess(run: RunRecord): Promise<FlowAccess & { flowId: string }> {
    // A run whose stored data cannot be read may not know its version (store/unreadable-run.ts): its flow's latest decides.
    return flowAccess(await this.#loadFlow(run.flowId, run.dataError && run.flowVersion === 0 ? 'LATEST' : run.flowVersion));
  }
}

function listingOffset(offset: number | undefined): number {
  if (offset === undefined) return 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > MAX_LIST_OFFSET) {
    throw new ValidationError('INVALID_INPUT', [{ path: 'offset', message: `must be a whole number from 0 to ${MAX_LIST_OFFSET} (deeper pages take the marker), got ${JSON.stringify(offset)}` }]);
  }
  return offset;
}

function flowAccess(flow: FlowVersionRecord): FlowAccess & { flowId: string } {
  return { flowId: flow.flowId, deployedBy: flow.deployedBy, roles: flow.definition.roles };
}

/** The flow cache's words for a missing flow, for the same selector. */
function flowNotFound(flowId: string, version: number | string | undefined): NotFoundError {
  const missing = typeof version === 'number' ? `has no version ${version}` : version === 'LATEST_PUBLISHED' ? 'has no published version' : 'is not deployed';
  return new NotFoundError('FLOW_NOT_FOUND', `flow "${flowId}" ${missing}`);
}

function runNotFound(runId: string): NotFoundError {
  return new NotFoundError('RUN_NOT_FOUND', `run "${runId}" does not exist`, { runId });
}

function denied(message: string, details: Record<string, unknown>): PermissionError {
  return new PermissionError(message, { details });
}

/** The run itself, or RUN_DATA_UNREADABLE when its stored data could not be read (store/unreadable-run.ts). */
function readable(run: RunRecord): RunRecord {
  if (run.dataError) throw new FlowError('RUN_DATA_UNREADABLE', run.dataError.message, { runId: run.runId });
  return run;
}
