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
 * a UUID derived from the principal and the key — so the store's unique run id makes a repeat
 * (even a concurrent one, in any process) a CONFLICT, which answers with the existing run.
 * A key reused for another flow is a CONFLICT.
 */
export async function startRunFor(engine: FlowApiEngine, body: StartRunBody, principal: AuthenticatedPrincipal, signal?: AbortSignal): Promise<StartedRun> {
  const { userId } = principal;
  if (body.requestId !== undefined && body.idempotencyKey !== undefined) {
    throw new ValidationError('INVALID_INPUT', [{ path: 'idempotencyKey', message: 'give requestId or idempotencyKey, not both' }]);
  }
  const key = body.idempotencyKey;
  const requestId = body.requestId ?? (key !== undefined ? await idempotentRunId(userId, key) : undefined);
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
    if (key === undefined || requestId === undefined || (error as { code?: unknown }).code !== 'CONFLICT') throw error;
    const existing = await engine.getRun(requestId, { as: actingFor(principal) });
    if (existing.flowId !== body.flowId) throw new ConflictError(`idempotency key "${key}" was used for a run of flow "${existing.flowId}"`, { details: { field: 'idempotencyKey' } });
    started = requestId;
    created = false;
    createdRun = existing;
  }
  if (body.wait) return { run: await engine.waitForRun(started, signal ? { signal } : {}), created };
  return { run: createdRun, created };
}

/** The run id of an idempotency key: a version-8 UUID from SHA-256 of the principal and the key. */
export async function idempotentRunId(userId: string, key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`flowrun-idempotency\n${userId}\n${key}`)));
  const bytes = digest.slice(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
