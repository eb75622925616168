/**
 * `GET /runs/{id}/stream`: a run's live events as Server-Sent Events. Each event is
 * `id: <seq>` / `event: <kind>` / `data: <LiveRunEvent JSON>`. A run not recorded yet is waited
 * for up to the `maxWatchWaitMs` budget (a job started it fire-and-forget with its own requestId
 * and is still on its way), then 404 RUN_NOT_FOUND — after the same wait for a run the reader may
 * not read. A transient item change carries
 * the seq of the last persisted event before it, so resuming from any id (`Last-Event-ID`, or
 * `?afterSeq=`) replays every persisted event after it once and in order. The stream ends after
 * the terminal status. Every `accessRecheckMs` the reader's access is checked again: a reader
 * who may no longer read the run gets an `error` event (RUN_NOT_FOUND, as for a run it never
 * saw) and the stream ends, so a revoked role stops the flow of events within that interval. A client that goes away aborts the engine's watch, which drops its
 * listeners at once; the router's `close()` ends every open stream.
 */
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { FlowError, ValidationError } from '../../core/errors.js';
import { errorBody } from '../error-response.js';
import { notifyObservers } from '../request-observer.js';
import type { RouterEnv, RouterState } from '../router-context.js';
import { actingFor } from '../router-context.js';
import { RunIdParam, StreamQuery } from '../schemas.js';
import { errorResponses } from './route-helpers.js';

/** Registers the stream route. */
export function addStreamRoute(app: OpenAPIHono<RouterEnv>, state: RouterState): void {
  const { engine, metrics } = state;
  const route = createRoute({
    method: 'get',
    path: '/runs/{id}/stream',
    tags: ['runs'],
    summary: 'Live events (Server-Sent Events)',
    description: 'Events `status`, `log`, `item`, `ledger`, `output`; `id` is the seq to resume after (`Last-Event-ID`). A run not recorded yet is waited for up to `maxWatchWaitMs` (default 5 s), then 404 — the same for a run the caller may not read; 429 past `maxPendingWatchesPerPrincipal` / `maxPendingWatches` such waits. A comment line every 15 s keeps idle connections open. Ends after the terminal status.',
    request: { params: RunIdParam, query: StreamQuery },
    responses: { 200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'the event stream' }, ...errorResponses },
  });

  app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const as = actingFor(c.get('principal'));
    const afterSeq = resumePoint(c.req.header('last-event-id'), c.req.valid('query').afterSeq);
    if (state.closing) throw new FlowError('UNAVAILABLE', 'the server is shutting down: reconnect with Last-Event-ID to another one');
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    c.req.raw.signal.addEventListener('abort', stop);
    state.streams.add(controller); // the router's close() ends a stream waiting for its run too
    const forget = (): void => {
      state.streams.delete(controller);
      c.req.raw.signal.removeEventListener('abort', stop);
    };
    // The watch starts now: a run not recorded yet is waited for (maxWatchWaitMs), and every
    // transient change from the moment it is found reaches this stream. Refusals (404 after the
    // wait — the same for an invisible run —, 429 past the waiting watches' budget) answer as JSON
    // before the stream starts.
    let attached = (): void => undefined;
    const found = new Promise<void>((resolve) => (attached = resolve));
    const events = engine.watchRun(id, { afterSeq, signal: controller.signal, as, onAttached: () => attached() });
    const first = events.next();
    try {
      await Promise.race([found, first]);
    } catch (error) {
      forget();
      throw error;
    }
    if (controller.signal.aborted) {
      forget();
      await events.return(undefined);
      if (state.closing) throw new FlowError('UNAVAILABLE', 'the server is shutting down: reconnect with Last-Event-ID to another one');
      return c.body(null, 204);
    }
    metrics.sseOpen++;
    metrics.sseOpened++;
    notifyObservers(state.observers, (o) => o.streamOpened?.());
    c.header('x-accel-buffering', 'no'); // proxies such as nginx pass events on at once
    return streamSSE(c, async (stream) => {
      stream.onAbort(stop);
      const heartbeat = setInterval(() => void stream.write(': heartbeat\n\n'), state.heartbeatMs);
      let revoked: FlowError | null = null;
      let checking = false;
      const end = (error: FlowError): void => {
        if (controller.signal.aborted) return;
        revoked = error;
        controller.abort();
      };
      const recheck = setInterval(() => {
        if (checking) return; // a slow store gets one check at a time per stream, not a pile of them
        checking = true;
        Promise.resolve(state.authenticate(c.req.raw))
          .then((still) => {
            // The credentials the stream was opened with (a revoked or expired token ends it) …
            if (!still || still.userId !== c.get('principal').userId) return end(new FlowError('UNAUTHENTICATED', 'the credentials of this stream are no longer valid'));
            // … and the run still readable by them.
            return engine.getRun(id, { as }).then(() => undefined);
          })
          .catch((error: unknown) => {
            // Only a refusal ends the stream; a store that does not answer now is asked again next time.
            if (error instanceof FlowError && error.code === 'RUN_NOT_FOUND') end(error);
          })
          .finally(() => (checking = false));
      }, state.accessRecheckMs);
      try {
        for (let next = await first; !next.done; next = await events.next()) {
          if (controller.signal.aborted) break;
          const event = next.value;
          await stream.writeSSE({ id: String(event.seq), event: event.kind, data: JSON.stringify(event) });
          metrics.sseEventsSent++;
        }
      } catch (error) {
        if (!controller.signal.aborted) {
          state.logger?.warn({ err: error, runId: id }, 'run stream failed');
          await stream.writeSSE({ event: 'error', data: JSON.stringify(errorBody(error)) });
        }
      } finally {
        clearInterval(heartbeat);
        clearInterval(recheck);
        if (revoked) await stream.writeSSE({ event: 'error', data: JSON.stringify(errorBody(revoked)) }).catch(() => undefined);
        controller.abort();
        await events.return(undefined).catch(() => undefined);
        state.streams.delete(controller);
        c.req.raw.signal.removeEventListener('abort', stop);
        metrics.sseOpen--;
        notifyObservers(state.observers, (o) => o.streamClosed?.());
      }
    });
  });
}

/** Where a stream resumes: the `Last-Event-ID` header (a browser's reconnect) wins over `?afterSeq`. */
function resumePoint(lastEventId: string | undefined, afterSeq: number | undefined): number {
  if (lastEventId === undefined || lastEventId.trim() === '') return afterSeq ?? 0;
  if (!/^\d{1,15}$/.test(lastEventId.trim())) throw new ValidationError('INVALID_INPUT', [{ path: 'header.Last-Event-ID', message: 'must be the seq of an event (a non-negative integer)' }]);
  return Number(lastEventId.trim());
}
