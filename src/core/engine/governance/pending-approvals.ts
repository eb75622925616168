/**
 * The runs waiting for an approval decision that a principal may make (`engine.listApprovals`):
 * the store lists the runs whose suspension is an undecided approval through the index it keeps
 * for waiters (`Store.listEventWaiters` with {@link AWAITING_APPROVAL}), and only those the
 * principal may manage — the right `approve` and `reject` ask for — are kept. A run it may not
 * decide is skipped without a trace in the answer, whether or not it may read it.
 */
import { ValidationError } from '../../errors.js';
import type { FlowDefinition, FlowVersionRecord, SourceLocation, StepDefinition } from '../../model.js';
import type { RunRecord } from '../../run.js';
import { AWAITING_APPROVAL, type Store } from '../../store.js';
import type { AccessControl, PrincipalRef } from '../access/authorize.js';

/** One run waiting for a decision: the step it waits at and what the policy said. */
export interface PendingApproval {
  run: RunRecord;
  /** The step to name in `approve` / `reject`. */
  stepId: string;
  /** The graph the step belongs to: `action:<name>` or `subflow:<name>`. */
  graph: string;
  /**
   * The step's type (absent when the flow version cannot be read). Like `source`, it is what the
   * step's `governance` ledger entry already tells a reader of the run: nothing of the flow beyond it.
   */
  stepType?: string;
  /** Where the step is written, for flows compiled from `.flow` files. */
  source?: SourceLocation;
  /** The policy's reason for asking (its prompt to the approver), when it gave one. */
  reason?: string;
  /** When the run started waiting (ms since the epoch). */
  since: number;
}

/** A page of pending approvals; pass `marker` back for the next one while `hasNextPage`. */
export interface PendingApprovalPage {
  approvals: PendingApproval[];
  hasNextPage: boolean;
  marker: string | null;
}

/** Options of `engine.listApprovals`. */
export interface ListApprovalsOptions {
  /** Who asks: only runs it may manage are listed. Without it, every waiting run (trusted in-process call). */
  as?: PrincipalRef;
  /** Page size: default 50, at most 1,000. */
  limit?: number;
  /** The `marker` of the previous page. */
  marker?: string;
}

/** What listing approvals needs of the engine. */
export interface PendingApprovalDeps {
  store: Store;
  access: AccessControl;
  loadFlow: (flowId: string, version: number) => Promise<FlowVersionRecord>;
}

/** Store pages read for one answer at most: a page may come back short while `hasNextPage` is true. */
const MAX_SCANS = 20;
const SCAN_PAGE = 200;

/**
 * A page of the runs waiting for an approval that `as` may decide, oldest run first (run ids are
 * time-ordered). The marker is a run id of the listing, so a page continues where the last one
 * ended whatever was decided meanwhile.
 */
export async function listPendingApprovals(deps: PendingApprovalDeps, options: ListApprovalsOptions = {}): Promise<PendingApprovalPage> {
  const limit = pageLimit(options.limit);
  let after = options.marker === undefined ? undefined : decodeMarker(options.marker);
  const mayDecide = await deps.access.manageTest(options.as);
  const approvals: PendingApproval[] = [];
  for (let scans = 0; scans < MAX_SCANS; scans++) {
    const want = Math.min(SCAN_PAGE, limit - approvals.length);
    const page = await deps.store.listEventWaiters({ event: AWAITING_APPROVAL, limit: want, ...(after === undefined ? {} : { after }) });
    for (const run of page) {
      const s = run.state.suspension;
      if (run.status !== 'INACTIVE' || s?.kind !== 'approval' || s.decision !== undefined || run.dataError) continue;
      if (await mayDecide(run)) approvals.push(await describe(deps, run));
    }
    after = page.at(-1)?.runId ?? after;
    if (page.length < want) return { approvals, hasNextPage: false, marker: null };
    if (approvals.length >= limit) break;
  }
  return { approvals, hasNextPage: true, marker: after === undefined ? null : encodeMarker(after) };
}

async function describe(deps: PendingApprovalDeps, run: RunRecord): Promise<PendingApproval> {
  const s = run.state.suspension!;
  const step = stepOf(await deps.loadFlow(run.flowId, run.flowVersion).then((flow) => flow.definition, () => undefined), s.graph, s.stepId);
  // The run's state is the engine's; callers get the record without it (as every listing does).
  return {
    run,
    stepId: s.stepId,
    graph: s.graph,
    ...(step ? { stepType: step.stepType } : {}),
    ...(step?.source ? { source: step.source } : {}),
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
    since: s.since,
  };
}

function stepOf(definition: FlowDefinition | undefined, graph: string, stepId: string): StepDefinition | undefined {
  if (!definition) return undefined;
  const i = graph.indexOf(':');
  const name = graph.slice(i + 1);
  const graphs = graph.slice(0, i) === 'action' ? definition.actions : definition.subflows;
  const steps = graphs && Object.hasOwn(graphs, name) ? graphs[name]!.steps : undefined;
  return steps && Object.hasOwn(steps, stepId) ? steps[stepId] : undefined;
}

function pageLimit(limit: number | undefined): number {
  return Math.max(1, Math.min(1000, typeof limit === 'number' && Number.isFinite(limit) ? Math.floor(limit) : 50));
}

function encodeMarker(runId: string): string {
  return btoa(JSON.stringify(['approvals', runId])).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeMarker(text: string): string {
  try {
    const parsed: unknown = JSON.parse(atob(text.replace(/-/g, '+').replace(/_/g, '/')));
    if (Array.isArray(parsed) && parsed.length === 2 && parsed[0] === 'approvals' && typeof parsed[1] === 'string') return parsed[1];
  } catch {
    // refused below
  }
  throw new ValidationError('INVALID_INPUT', [{ path: 'marker', message: `"${text.slice(0, 40)}" is not a marker of the approvals listing` }], { details: { field: 'marker' } });
}
