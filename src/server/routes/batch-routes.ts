/**
 * Batch routes: start, read or cancel many runs in one request. Each item is handled on its own
 * — one failing item does not fail the others — and answers `{run}` or `{error}` in input order.
 * At most `concurrency` items (1-32, default 8) are in flight at once.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { RunRecord } from '../../core/run.js';
import { errorBody, type ErrorBody } from '../error-response.js';
import type { PrincipalRef } from '../../core/engine/access/authorize.js';
import { RunDetails } from '../run-details.js';
import { toRunView, type FlowApiEngine, type RouterEnv, type RouterState, type RunView, actingFor } from '../router-context.js';
import { BatchResultsSchema, BatchRunIdsBody, BatchStartBody } from '../schemas.js';
import { startRunFor } from '../start-run.js';
import { errorResponses, jsonBody, ok } from './route-helpers.js';

/** The result of one batch item. */
export type BatchResult = { run: RunView } | ErrorBody;

/** Registers the batch routes. */
export function addBatchRoutes(app: OpenAPIHono<RouterEnv>, state: RouterState): void {
  const { engine, metrics } = state;
  const respond = (results: BatchResult[]) => ({ results }) as unknown as z.infer<typeof BatchResultsSchema>;

  app.openapi(createRoute({ method: 'post', path: '/runs/batch/start', tags: ['batch'], summary: 'Start many runs', request: { body: jsonBody(BatchStartBody) }, responses: { 200: ok(BatchResultsSchema, 'one result per item, in order'), ...errorResponses } }), async (c) => {
    const { runs, concurrency } = c.req.valid('json');
    const principal = c.get('principal');
    state.starts.take(principal.userId, runs.length); // every item counts; a refused batch starts none
    const results = await settleEach(runs, concurrency ?? 8, async (body) => {
      const started = await startRunFor(engine, body, principal, body.wait ? c.req.raw.signal : undefined);
      if (started.created) metrics.runsStarted++;
      return started.run;
    });
    return c.json(respond(await describeResults(engine, actingFor(principal), results)), 200);
  });

  app.openapi(createRoute({ method: 'post', path: '/runs/batch/get', tags: ['batch'], summary: 'Read many runs', request: { body: jsonBody(BatchRunIdsBody) }, responses: { 200: ok(BatchResultsSchema, 'one result per item, in order'), ...errorResponses } }), async (c) => {
    const { runIds, concurrency } = c.req.valid('json');
    const as = actingFor(c.get('principal'));
    return c.json(respond(await describeResults(engine, as, await settleEach(runIds, concurrency ?? 8, (id) => engine.getRun(id, { as })))), 200);
  });

  app.openapi(createRoute({ method: 'post', path: '/runs/batch/cancel', tags: ['batch'], summary: 'Cancel many runs', request: { body: jsonBody(BatchRunIdsBody) }, responses: { 200: ok(BatchResultsSchema, 'one result per item, in order'), ...errorResponses } }), async (c) => {
    const { runIds, concurrency } = c.req.valid('json');
    const as = actingFor(c.get('principal'));
    return c.json(respond(await describeResults(engine, as, await settleEach(runIds, concurrency ?? 8, (id) => engine.cancelRun(id, { as })))), 200);
  });
}

/** The results with their runs described for people (run-details.ts); errors as they are. */
async function describeResults(engine: FlowApiEngine, as: PrincipalRef, results: BatchResult[]): Promise<BatchResult[]> {
  const details = new RunDetails(engine, as);
  return Promise.all(results.map(async (result) => ('run' in result ? { run: await details.describe(result.run as Omit<RunRecord, 'state'>) } : result)));
}

/** Runs `task` over every item, at most `concurrency` at once; each result in the item's place. */
export async function settleEach<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<Omit<RunRecord, 'state'>>): Promise<BatchResult[]> {
  const results = new Array<BatchResult>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = { run: toRunView(await task(items[index]!)) };
      } catch (error) {
        results[index] = errorBody(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
