/**
 * `watchRun`: a run's Server-Sent-Events stream (`GET /runs/{id}/stream`) as an async iterator.
 * Each message is `id: <seq>`, `event: <kind>`, `data: <LiveRunEvent JSON>`; the stream ends
 * after the run's terminal status. A connection that drops before then is opened again with
 * `Last-Event-ID: <last seq seen>`, so the server resumes right after it: nothing is lost, and
 * a persisted event that arrives twice anyway (seq not above the last one) is skipped. Transient
 * item events carry no id, are never replayed, and may be missed while disconnected — they are
 * live only by definition.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { FlowError } from '../core/errors.js';
import type { LiveRunEvent } from '../core/engine/types.js';
import { errorFromBody, NETWORK_ERROR, UNEXPECTED_RESPONSE } from './client-errors.js';
import type { WatchRunOptions } from './client-types.js';
import { invalid, segment, type HttpTransport } from './http-transport.js';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELED']);
const MAX_RECONNECT_DELAY_MS = 5_000;

/** Yields the run's live events until its terminal status; see the file comment for resumption. */
export async function* watchRunStream(transport: HttpTransport, runId: string, options: WatchRunOptions = {}): AsyncGenerator<LiveRunEvent> {
  const path = `/runs/${segment(runId, 'runId')}/stream`;
  const baseDelayMs = options.reconnectDelayMs ?? 250;
  const maxReconnects = options.maxReconnects ?? 10;
  if (options.afterSeq !== undefined && !(Number.isInteger(options.afterSeq) && options.afterSeq >= 0)) invalid('afterSeq', `must be a whole number ≥ 0, got ${JSON.stringify(options.afterSeq)}`);
  let lastSeq = options.afterSeq ?? 0;
  let failures = 0;
  // One controller per watch: the caller's signal, and the consumer leaving the loop early
  // (`break` runs `finally`), both abort the connection in flight so the server drops its listener.
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) return;
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    while (!controller.signal.aborted) {
      let progressed = false;
      let ended = false;
      // Bytes of any kind (a heartbeat comment too) show the connection was alive, not refused.
      let heard = false;
      try {
        const response = await transport.send({
          method: 'GET',
          path,
          signal: controller.signal,
          context: { runId },
          headers: { accept: 'text/event-stream', ...(lastSeq > 0 ? { 'last-event-id': String(lastSeq) } : {}) },
        });
        if (!response.body) throw new FlowError(NETWORK_ERROR, `the stream of run ${runId} has no body`, { runId });
        for await (const message of readMessages(response.body, () => (heard = true))) {
          const event = parseEvent(message, runId);
          if (event === null) continue;
          if (!event.transient && typeof event.seq === 'number') {
            if (event.seq <= lastSeq) continue;
            lastSeq = event.seq;
          }
          progressed = true;
          failures = 0;
          yield event;
          if (event.kind === 'status' && !event.transient && TERMINAL.has(event.status)) return;
        }
        ended = true;
      } catch (error) {
        if (controller.signal.aborted) return;
        // Only a broken connection is worth another try; an error the server answered with
        // (RUN_NOT_FOUND, PERMISSION_DENIED, …) would answer the same again.
        if (!(error instanceof FlowError) || error.code !== NETWORK_ERROR) throw error;
        if (++failures > maxReconnects) throw error;
      }
      if (ended && !progressed) {
        // A stream that closes at once with nothing new: the run may have ended before `afterSeq`
        // (its terminal status already seen). Ask, rather than reconnect forever.
        let status: string;
        try {
          const { run } = await transport.json<{ run: { status: string } }>({ method: 'GET', path: `/runs/${segment(runId, 'runId')}`, signal: controller.signal, context: { runId } });
          status = run.status;
        } catch (error) {
          if (controller.signal.aborted) return;
          throw error;
        }
        if (TERMINAL.has(status)) return;
        // A proxy that cuts idle streams every minute is not a failure; a stream closed at once, again and again, is.
        if (heard) failures = 0;
        else if (++failures > maxReconnects) throw new FlowError(NETWORK_ERROR, `the stream of run ${runId} keeps closing without events`, { runId });
      }
      await sleep(Math.min(MAX_RECONNECT_DELAY_MS, baseDelayMs * 2 ** failures), controller.signal);
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
}

/** The SSE messages of a body, parsed by eventsource-parser; a stream that breaks mid-way throws NETWORK_ERROR. */
async function* readMessages(body: ReadableStream<Uint8Array>, onData: () => void): AsyncGenerator<EventSourceMessage> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => queue.push(message) });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        throw new FlowError(NETWORK_ERROR, `the event stream broke: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      if (chunk.done) break;
      onData();
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      while (queue.length > 0) yield queue.shift()!;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** The event of a message; null for heartbeats and messages that are not run events. */
function parseEvent(message: EventSourceMessage, runId: string): LiveRunEvent | null {
  if (message.data === '') return null;
  let event: unknown;
  try {
    event = JSON.parse(message.data);
  } catch {
    throw new FlowError(UNEXPECTED_RESPONSE, `the stream of run ${runId} sent an event that is not JSON`, { runId, details: { data: message.data.slice(0, 200) } });
  }
  // The server reports a failure after the stream started as an `error` event with the error body.
  const failure = (event as { error?: { code?: unknown } } | null)?.error;
  if (message.event === 'error' && failure && typeof failure.code === 'string') {
    throw errorFromBody(failure as { code: string; message?: string; details?: Record<string, unknown> }, { runId });
  }
  if (typeof event !== 'object' || event === null || typeof (event as { kind?: unknown }).kind !== 'string') return null;
  const live = event as LiveRunEvent;
  // The id line is authoritative for resumption when the body lacks a seq.
  if (typeof live.seq !== 'number' && message.id !== undefined && /^\d+$/.test(message.id)) return { ...live, seq: Number(message.id) };
  return live;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
