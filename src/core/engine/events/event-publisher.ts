/**
 * Publishing events (DESIGN.md §4): an event starts the subscribed action or subflow of every
 * deployed flow — its published version, else its latest — whose `subscriptions` name it, once
 * per publisher and event id. Each run's id is derived from the publisher, the event id, the flow
 * and the subscription with the store's secret (start/derived-run-ids.ts), so nobody can create it
 * first, and the same publisher publishing the same event again, from this or any other process,
 * meets the runs already created (the store refuses a second run with that id) and starts nothing new. The runs' `source` is `event`; `event` in their expressions is the payload.
 *
 * Events follow the permission model (DESIGN.md §6), checked at each delivery so a revoked grant
 * counts at once: a subscriber starts only if the publisher may start its flow and the flow's
 * deployer may subscribe to the name (access/authorize.ts); its run acts as the deployer or the
 * subscription's `runAs`, never as the publisher, who is recorded as the run's `triggeredBy`. A
 * waiting run is resumed only if the publisher may manage it or may publish the name. Refusals are
 * logged, never reported to the publisher: the answer does not reveal runs it may not see.
 *
 * The `engine/events/` room: publishing events and starting their subscribers (this file), the
 * EMIT outbox drained after a run's transition commits (event-outbox.ts), and suspended runs —
 * WAIT timers, awaited events, approvals — resumed when due (suspensions.ts: where a WAIT resumes).
 * It may import core, the engine's contracts, access/, start/ and steps/wait-step.ts (event matching).
 */
import { ConflictError, ValidationError, toFlowError } from '../../errors.js';
import type { FlowVersionRecord, SubscriptionDefinition } from '../../model.js';
import type { NewRun, RunEventBody, RunRecord } from '../../run.js';
import type { IdSource } from '../../clock.js';
import { EVENT_NAME } from '../../permissions.js';
import type { AccessControl, PrincipalRef } from '../access/authorize.js';
import type { BuildRunInput } from '../engine-core.js';
import { SUBFLOW_ENTRY_PREFIX } from '../start/flow-graph.js';
import type { DerivedRunIds } from '../start/derived-run-ids.js';
import type { Logger } from '../types.js';
import { wakeEventWaiters, type ResumeDeps } from './suspensions.js';

/** Options of `engine.publishEvent`. */
export interface PublishEventOptions {
  /** The event's id: publishing an id again starts nothing new. Default: a new id. */
  eventId?: string;
  /**
   * Who publishes: flows it may not start are skipped, and it resumes only the waiting runs it may
   * manage unless granted publishing the name; it is recorded as `triggeredBy` on the runs it
   * starts, which never act as it. Without it the caller is trusted.
   */
  userId?: string;
  /** Groups an identity provider asserted for `userId`: they count like stored ones. */
  userGroups?: readonly string[];
  /**
   * Set by the engine when an EMIT step publishes: the emitting run's tree, which the runs this
   * event starts join, so they count against its `maxRunsPerTree` (a subscriber past it is not
   * started, logged) and stop when it is canceled. Never taken from a request: the HTTP API
   * publishes without it, and its runs start trees of their own.
   */
  treeId?: string;
}

/** What publishing an event did. */
export interface PublishedEvent {
  eventId: string;
  /** The runs this event started, now or when it was first published, one per subscription. */
  runIds: string[];
  /** The runs waiting for this event (WAIT) that it woke now. */
  resumedRunIds: string[];
  /**
   * Subscribers that did not start, and why (the refusal's code and message, as logged). Publishing
   * again retries them. For trusted callers: the HTTP route passes on only those of flows its caller may see.
   */
  skipped: SkippedSubscriber[];
}

/** A subscriber an event did not start. */
export interface SkippedSubscriber {
  flowId: string;
  flowVersion: number;
  /** The subscription's `run`: the action or subflow it would have started. */
  subscription: string;
  code: string;
  message: string;
}

/** What publishing needs of the engine. */
export interface EventPublisherDeps extends ResumeDeps {
  ids: IdSource;
  /** Event run ids, keyed with the store's secret. */
  runIds: DerivedRunIds;
  access: AccessControl;
  logger: Logger | undefined;
  loadFlow: (flowId: string, version: number) => Promise<FlowVersionRecord>;
  buildRun: (input: BuildRunInput) => NewRun;
  /** Creates the run with these first events (after the usual start events) and executes it. */
  createAndExecute: (run: NewRun, events: RunEventBody[]) => Promise<unknown>;
}

const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/**
 * Starts every subscriber of event `name` once per event id, and wakes the runs waiting for it.
 * Throws INVALID_INPUT for a bad name or id. A subscriber that cannot start (its input does not
 * fit, `userId` may not start the flow, its deployer may not subscribe to the name or act as its
 * `runAs`, the EMIT's tree is full or canceled) is skipped and logged; publishing again retries it, and only it. A waiting run the
 * publisher may not resume stays waiting (logged); it is not in `resumedRunIds`.
 */
export async function publishEvent(deps: EventPublisherDeps, name: string, payload: unknown, options: PublishEventOptions = {}): Promise<PublishedEvent> {
  const issues: { path: string; message: string }[] = [];
  if (typeof name !== 'string' || !EVENT_NAME.test(name)) issues.push({ path: 'name', message: `must be 1-200 letters, digits, "_", ".", ":", "/" or "-", got ${JSON.stringify(name)}` });
  if (options.eventId !== undefined && (typeof options.eventId !== 'string' || !EVENT_ID.test(options.eventId))) {
    issues.push({ path: 'eventId', message: `must be 1-128 letters, digits, "_", ".", ":" or "-", got ${JSON.stringify(options.eventId)}` });
  }
  if (issues.length) throw new ValidationError('INVALID_INPUT', issues);
  const eventId = options.eventId ?? deps.ids.newId();
  const publisher: PrincipalRef | null = options.userId === undefined ? null : options.userGroups?.length ? { id: options.userId, groups: options.userGroups } : options.userId;
  const runIds: string[] = [];
  const skipped: SkippedSubscriber[] = [];
  for (const { flow, subscription } of await subscribersOf(deps, name)) {
    const runId = await deps.runIds.forEvent(eventId, flow.flowId, subscription, options.userId ?? null);
    const started = await startSubscriber(deps, { flow, subscription, runId, eventId, name, payload, publisher, treeId: options.treeId });
    if (started === true) runIds.push(runId);
    else if (started !== false) skipped.push(started);
  }
  const admit = async (run: RunRecord): Promise<boolean> => {
    try {
      if (await deps.access.mayResumeWithEvent({ publisher, run, name })) return true;
      deps.logger?.warn({ runId: run.runId, event: name, eventId, publishedBy: options.userId }, 'event did not resume a waiting run: its publisher may neither manage the run nor publish this event name');
    } catch (error) {
      // The check could not be made (its flow version unreadable): the run stays waiting, and nothing about it reaches the publisher.
      const failure = toFlowError(error);
      if (failure.code === 'STORE_ERROR' || failure.code === 'ENGINE_CLOSED') throw failure;
      deps.logger?.warn({ err: failure, runId: run.runId, event: name, eventId, publishedBy: options.userId }, `event did not resume a waiting run: ${failure.code}`);
    }
    return false;
  };
  const resumedRunIds = await wakeEventWaiters(deps, { name, eventId, payload, publishedBy: options.userId ?? null, admit });
  return { eventId, runIds, resumedRunIds, skipped };
}

/** The subscriptions to `name` of every deployed flow, in its published version, else its latest. */
async function subscribersOf(deps: EventPublisherDeps, name: string): Promise<{ flow: FlowVersionRecord; subscription: SubscriptionDefinition }[]> {
  const found: { flow: FlowVersionRecord; subscription: SubscriptionDefinition }[] = [];
  // One listing per publish; the versions themselves are immutable and cached by the flow cache.
  for (const summary of await deps.store.listFlows()) {
    const flow = await deps.loadFlow(summary.flowId, summary.publishedVersion ?? summary.latestVersion);
    for (const subscription of flow.definition.subscriptions ?? []) if (subscription.on === name) found.push({ flow, subscription });
  }
  return found;
}

async function startSubscriber(
  deps: EventPublisherDeps,
  s: { flow: FlowVersionRecord; subscription: SubscriptionDefinition; runId: string; eventId: string; name: string; payload: unknown; publisher: PrincipalRef | null; treeId: string | undefined },
): Promise<boolean | SkippedSubscriber> {
  const { flow, subscription } = s;
  const isAction = Object.hasOwn(flow.definition.actions, subscription.run);
  const publishedBy = s.publisher === null ? null : typeof s.publisher === 'string' ? s.publisher : s.publisher.id;
  const where = { flowId: flow.flowId, flowVersion: flow.version, subscription: subscription.run, eventId: s.eventId, event: s.name, publishedBy, deployedBy: flow.deployedBy };
  try {
    // Checked before the run of an earlier publish is looked for: one who may not start the flow learns nothing of it.
    await deps.access.assertCanStart({ by: s.publisher, flow, runAs: null });
    await deps.access.assertCanSubscribe({ flow, subscription, name: s.name });
    const existing = await deps.store.getRun(s.runId);
    if (existing) return isRunOf(existing, flow.flowId);
    const run = deps.buildRun({
      flow,
      actionName: isAction ? subscription.run : `${SUBFLOW_ENTRY_PREFIX}${subscription.run}`,
      input: isPlainObject(s.payload) ? s.payload : {},
      event: s.payload ?? null,
      source: 'event',
      requestId: s.runId,
      // The subscriber's owner (who deployed it; in-process code: anonymous) or its service account, never the publisher.
      createdBy: flow.deployedBy === '' ? 'anonymous' : flow.deployedBy,
      runAs: subscription.runAs ?? null,
      triggeredBy: publishedBy,
      // An EMIT's event: the run joins the emitting run's tree (the store counts it there, or refuses it).
      ...(s.treeId === undefined ? {} : { treeId: s.treeId }),
    });
    const received: RunEventBody = {
      kind: 'log',
      entry: { time: run.startTime, code: 'EventReceived', description: `event ${s.name} (${s.eventId}) started ${subscription.run}`, details: { eventId: s.eventId, event: s.name, run: subscription.run, publishedBy } },
    };
    await deps.createAndExecute(run, [received]);
    return true;
  } catch (error) {
    // Published twice at once (here or in another process): the other publisher created it.
    if (error instanceof ConflictError && error.code === 'CONFLICT') {
      const existing = await deps.store.getRun(s.runId);
      if (existing) return isRunOf(existing, flow.flowId);
    }
    const failure = toFlowError(error);
    if (failure.code === 'STORE_ERROR' || failure.code === 'ENGINE_CLOSED') throw failure;
    deps.logger?.warn({ err: failure, ...where }, failure.code === 'PERMISSION_DENIED' ? `event subscriber refused: ${failure.message}` : `event subscriber not started: ${failure.code}`);
    return { flowId: flow.flowId, flowVersion: flow.version, subscription: subscription.run, code: failure.code, message: failure.message };
  }
}

/** A run with a derived id that is not this flow's event run (a caller chose that id): never count it as ours. */
function isRunOf(run: RunRecord, flowId: string): boolean {
  return run.flowId === flowId && run.source === 'event';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
