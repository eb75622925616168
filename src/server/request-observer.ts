/**
 * What the router tells the code that watches it — the request log, metrics, tracing — without
 * knowing which: one call per answered request and per event stream opened or closed, and the text
 * `/metrics` serves. Observers see route patterns (`/runs/:id`), never paths with ids, bodies,
 * queries or headers.
 */
import type { Logger } from '../core/engine/types.js';

/** A request the router answered. */
export interface ObservedRequest {
  method: string;
  /**
   * The pattern of the route that answered (`/runs/:id`, `/health`), or `unmatched` when none did
   * (a 404 of an unknown path, a request refused before routing): a bounded set of values.
   */
  route: string;
  status: number;
  /** From the request's arrival to its answer's headers (an event stream's opening, not its end). */
  durationMs: number;
  /** The authenticated principal's id, or null when the request carried none that was valid. */
  principalId: string | null;
}

/** Watches what a router answers. A method that throws is ignored (observing never breaks a request). */
export interface RequestObserver {
  requestEnded?(request: ObservedRequest): void;
  /** An event stream (`GET /runs/{id}/stream`) started sending. */
  streamOpened?(): void;
  /** That stream ended, whichever side ended it. */
  streamClosed?(): void;
}

/** What `GET /metrics` serves when a router is given one (e.g. a prom-client registry's text). */
export interface MetricsSource {
  /** The `content-type` of the answer (Prometheus text: `text/plain; version=0.0.4; charset=utf-8`). */
  readonly contentType: string;
  /** The metrics in the text exposition format, read at every scrape. */
  metrics(): Promise<string>;
}

/** Calls `call` on every observer, ignoring one that throws. */
export function notifyObservers(observers: readonly RequestObserver[], call: (observer: RequestObserver) => void): void {
  for (const observer of observers) {
    try {
      call(observer);
    } catch {
      // An observer's bug must not turn an answered request into a failed one.
    }
  }
}

/**
 * The request log as an observer: one line per answered request (method, route pattern, status,
 * duration, principal; never a token, a body or a path with ids), at `info`, or at `debug` for a
 * 304 (a poll that found nothing new: the dashboard asks 5 times a second).
 */
export function requestLogObserver(logger: Logger): RequestObserver {
  return {
    requestEnded: ({ method, route, status, durationMs, principalId }) =>
      logger[status === 304 ? 'debug' : 'info']({ method, route, status, durationMs: Math.round(durationMs * 10) / 10, principal: principalId }, 'request'),
  };
}
