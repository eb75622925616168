/**
 * Starting one run for a request (`POST /runs` and each item of `POST /runs/batch/start`):
 * the caller is the run's owner and is held to the flow's starter role; `idempotencyKey`
 * makes a retried start return the first run; `wait` holds the answer until the run ended.
 */
import { ConflictError, ValidationError } from '../core/errors.js';
import type { RunRecord } from '../core/run.js';
import { actingFor, type FlowApiEngine } from './router-context.js';
import type { AuthenticatedPrincipal } from './api-tokens.js';
import type { StartRunBody } from './schemas.js';

/** A started (or, for a repeated idempotency key, found) run. */
export interface StartedRun {
  /** The run as created (a new start), as found (a repeated idempotency key) or as ended (`wait`). */
  run: Omit<RunRecord, 'state'>;
  /** False when an earlier request with the same idempotency key had started it. */
  created: boolean;
}

/**
 * Starts the run `body` describes for the request's principal. An idempotency key becomes the run id itself —
 * derived from the principal and the key with the store's secret (no user can compute it, so nobody
 * can create that run first) — and the store's unique run id makes a repeat (even a concurrent one, in
 * any process) a CONFLICT, which answers with the existing run. A key reused for another flow is a CONFLICT.
 * A `requestId` already taken is a CONFLICT that says only that: the same answer whoever's run holds
 * the id and whether or not the caller may see it.
 */
export async function startRunFor(engine: FlowApiEngine, body: StartRunBody, principal: AuthenticatedPrincipal, signal?: AbortSignal): Promise<StartedRun> {
  const { userId } = principal;
  if (body.requestId !== undefined && body.idempotencyKey !== undefined) {
    throw new ValidationError('INVALID_INPUT', [{ path: 'idempotencyKey', message: 'give requestId or idempotencyKey, not both' }]);
  }
  const key = body.idempotencyKey;
  const requestId = body.requestId ?? (key !== undefined ? await engine.derivedRunIds.forIdempotencyKey(userId, key) : undefined);
  let started: string;
  let created = true;
  let createdRun: Omit<RunRecord, 'state'> | null = null;
  try {
    ({ requestId: started, run: createdRun } = await engine.startRun({
      flow: body.flowId,
      ...(body.version !== undefined ? { version: body.version } : {}),
      ...(body.action !== undefined ? { actionName: body.action } : {}),
      input: body.input ?? {},
      userId,
      ...(principal.groups?.length ? { userGroups: principal.groups } : {}),
      source: 'http',
      ...(requestId !== undefined ? { requestId } : {}),
      ...(body.label !== undefined ? { label: body.label } : {}),
      ...(body.tags !== undefined ? { tags: body.tags } : {}),
      ...(body.runAs !== undefined ? { runAs: body.runAs } : {}),
      ...(body.runMonitoringBy ? { runMonitoringBy: body.runMonitoringBy } : {}),
      ...(body.runMonitoringGroups ? { runMonitoringGroups: body.runMonitoringGroups } : {}),
      ...(body.runManagingBy ? { runManagingBy: body.runManagingBy } : {}),
      ...(body.runManagingGroups ? { runManagingGroups: body.runManagingGroups } : {}),
    }));
  } catch (error) {
    if (requestId === undefined || (error as { code?: unknown }).code !== 'CONFLICT') throw error;
    if (key === undefined) throw takenRequestId(requestId);
    // Only this principal's start with this key makes this id (the secret sees to that); anything
    // else holding it — a run whose id someone learned and reused after the first was deleted —
    // is answered like a taken requestId, telling nothing about it.
    const holder = await engine.store.getRun(requestId);
    if (!holder || holder.createdBy !== userId || holder.source !== 'http' || holder.parentRunId !== null) throw takenIdempotencyKey(key);
    const existing = await engine.getRun(requestId, { as: actingFor(principal) });
    if (existing.flowId !== body.flowId) throw new ConflictError(`idempotency key "${key}" was used for a run of flow "${existing.flowId}"`, { details: { field: 'idempotencyKey' } });
    started = requestId;
    created = false;
    createdRun = existing;
  }
  if (body.wait) return { run: await engine.waitForRun(started, signal ? { signal } : {}), created };
  return { run: createdRun, created };
}

/** The one answer to a taken requestId: no run id, owner, flow or status in it, whoever's run it is. */
function takenRequestId(requestId: string): ConflictError {
  return new ConflictError(`requestId "${requestId}" is already taken; choose another (a new UUID) or use an idempotencyKey`, { details: { field: 'requestId' } });
}

function takenIdempotencyKey(key: string): ConflictError {
  return new ConflictError(`idempotency key "${key}" cannot start a run: its run id is taken`, { details: { field: 'idempotencyKey' } });
}
