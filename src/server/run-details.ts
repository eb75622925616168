/**
 * What the API adds to a run record for the people reading it (seed 003's RunResponse): the
 * flow's `title` and `description` (`flowTitle`, `flowDescription`), the display names of
 * `createdBy` and `runOwner` (`createdByString`, `runOwnerString`: the name, else the id), and
 * on request the definition the run executes (`flowDefinition`). Flow fields appear only when the
 * caller may see the flow (a monitor of one run is not thereby a viewer of its flow). Each flow
 * version and principal is looked up once per response, however many runs name it.
 */
import type { PrincipalRef } from '../core/engine/access/authorize.js';
import type { FlowVersionRecord } from '../core/model.js';
import { canViewFlow } from '../core/permissions.js';
import type { RunRecord } from '../core/run.js';
import { toRunView, type FlowApiEngine, type RunView } from './router-context.js';

/** A run as the API returns it, with the fields for people. */
export type RunDetailsView = RunView & {
  flowTitle?: string;
  flowDescription?: string;
  createdByString?: string;
  runOwnerString?: string;
  flowDefinition?: Record<string, unknown>;
};

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
    const [flow, createdBy, runOwner] = await Promise.all([this.#viewableFlow(run), this.#name(run.createdBy), this.#name(run.runOwner)]);
    if (flow?.definition.title !== undefined) view.flowTitle = flow.definition.title;
    if (flow?.definition.description !== undefined) view.flowDescription = flow.definition.description;
    view.createdByString = createdBy;
    view.runOwnerString = runOwner;
    if (flow && options.withDefinition) view.flowDefinition = flow.definition as unknown as Record<string, unknown>;
    return view;
  }

  /** Every run of a page described, in order. */
  describeAll(runs: readonly (Omit<RunRecord, 'state'> & { state?: unknown })[]): Promise<RunDetailsView[]> {
    return Promise.all(runs.map((run) => this.describe(run)));
  }

  async #viewableFlow(run: Omit<RunRecord, 'state'>): Promise<FlowVersionRecord | null> {
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
