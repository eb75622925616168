/**
 * What the API adds to a run record for the people reading it (seed 003's RunResponse): the
 * flow's `title` and `description` (`flowTitle`, `flowDescription`), the display names of
 * `createdBy` and `runOwner` (`createdByString`, `runOwnerString`: the name, else the id), and
 * on request the definition the run executes (`flowDefinition`), and for a live run where it is —
 * its frame stack (`frames`) and what it waits for (`suspension`). Flow fields appear only when the
 * caller may see the flow (a monitor of one run is not thereby a viewer of its flow). Each flow
 * version and principal is looked up once per response, however many runs name it.
 */
import type { PrincipalRef } from '../core/engine/access/authorize.js';
import type { FlowVersionRecord } from '../core/model.js';
import { canViewFlow } from '../core/permissions.js';
import { isTerminalStatus, type RunRecord, type RunState } from '../core/run.js';
import { toRunView, type FlowApiEngine, type RunView } from './router-context.js';

/** A run as the API returns it, with the fields for people. */
export type RunDetailsView = RunView & {
  flowTitle?: string;
  flowDescription?: string;
  createdByString?: string;
  runOwnerString?: string;
  flowDefinition?: Record<string, unknown>;
  frames?: FramePosition[];
  suspension?: SuspensionView;
};

/** Where one frame of a live run's stack is: the graph and the step it executes or waits at. */
export interface FramePosition {
  graph: string;
  /** The step it executes next (or now, or waits at); null when the frame has finished. */
  at: string | null;
  attempt: number;
  /** The synchronous child run the step waits for. */
  waitingForRunId?: string;
}

/** What an INACTIVE run waits for, as the API shows it (the decision fields come with the resume, not here). */
export interface SuspensionView {
  kind: 'approval' | 'timer' | 'event';
  stepId: string;
  graph: string;
  since: number;
  reason?: string;
  event?: string;
  until?: number;
}

/** Looks flows and principals up once per response. */
export class RunDetails {
  readonly #engine: FlowApiEngine;
  readonly #as: PrincipalRef;
  readonly #flows = new Map<string, Promise<FlowVersionRecord | null>>();
  readonly #names = new Map<string, Promise<string>>();
  #principal: ReturnType<FlowApiEngine['access']['principal']> | undefined;

  constructor(engine: FlowApiEngine, as: PrincipalRef) {
    this.#engine = engine;
    this.#as = as;
  }

  /** The API form of `run` with the fields for people; `withDefinition` adds `flowDefinition`. */
  async describe(run: Omit<RunRecord, 'state'> & { state?: unknown }, options: { withDefinition?: boolean } = {}): Promise<RunDetailsView> {
    const view: RunDetailsView = toRunView(run);
    const [flow, createdBy, runOwner] = await Promise.all([this.viewableFlow(run), this.#name(run.createdBy), this.#name(run.runOwner)]);
    if (flow?.definition.title !== undefined) view.flowTitle = flow.definition.title;
    if (flow?.definition.description !== undefined) view.flowDescription = flow.definition.description;
    view.createdByString = createdBy;
    view.runOwnerString = runOwner;
    if (flow && options.withDefinition) view.flowDefinition = flow.definition as unknown as Record<string, unknown>;
    // Set on the view rather than spread with it into another copy of every field (every answer pays it).
    const { frames, suspension } = positionOf(run);
    if (frames) view.frames = frames;
    if (suspension) view.suspension = suspension;
    return view;
  }

  /** Every run of a page described, in order. */
  describeAll(runs: readonly (Omit<RunRecord, 'state'> & { state?: unknown })[]): Promise<RunDetailsView[]> {
    return Promise.all(runs.map((run) => this.describe(run)));
  }

  /** The flow version the run executes, when the caller may see that flow (null otherwise, or when it cannot be read); looked up once per version. */
  async viewableFlow(run: Omit<RunRecord, 'state'>): Promise<FlowVersionRecord | null> {
    // A run whose data is unreadable may not know its version: it gets no flow fields.
    if (run.flowVersion < 1) return null;
    const key = `${run.flowVersion}@${run.flowId}`;
    let flow = this.#flows.get(key);
    if (!flow) {
      flow = this.#engine.loadFlow(run.flowId, run.flowVersion).catch(() => null);
      this.#flows.set(key, flow);
    }
    const [found, principal] = await Promise.all([flow, (this.#principal ??= this.#engine.access.principal(this.#as))]);
    return found && canViewFlow(principal, { deployedBy: found.deployedBy, roles: found.definition.roles }) ? found : null;
  }

  #name(id: string): Promise<string> {
    let name = this.#names.get(id);
    if (!name) {
      name = this.#engine.store.principals.getPrincipal(id).then(
        (found) => found?.displayName ?? id,
        () => id,
      );
      this.#names.set(id, name);
    }
    return name;
  }
}

/**
 * Where a live run is (for the graph a dashboard colours): its frame stack, bottom first, and what
 * it waits for while INACTIVE. Nothing for an ended run, a record without its state (a store that
 * does not hand it back), or one whose data cannot be read.
 */
function positionOf(run: Omit<RunRecord, 'state'> & { state?: unknown }): { frames?: FramePosition[]; suspension?: SuspensionView } {
  const state = run.state as Partial<RunState> | undefined;
  if (isTerminalStatus(run.status) || !state || !Array.isArray(state.frames) || run.dataError) return {};
  const frames = state.frames.map((f) => ({ graph: f.graph, at: f.at, attempt: f.attempt, ...(f.waitingForRunId ? { waitingForRunId: f.waitingForRunId } : {}) }));
  const s = state.suspension;
  if (run.status !== 'INACTIVE' || !s || s.decision !== undefined) return { frames };
  const suspension: SuspensionView = { kind: s.kind, stepId: s.stepId, graph: s.graph, since: s.since };
  if (s.reason !== undefined) suspension.reason = s.reason;
  if (s.event !== undefined) suspension.event = s.event;
  if (s.until !== undefined) suspension.until = s.until;
  return { frames, suspension };
}
