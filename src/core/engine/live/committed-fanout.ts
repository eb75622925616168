/**
 * What follows a committed transition, in order: its events reach this process's live listeners,
 * callers streaming the callee's outputs see them, and transient item changes go to watchers in
 * other processes through the store when it can carry them (PostgreSQL).
 */
import type { RunEventBody } from '../../run.js';
import type { Store } from '../../store.js';
import type { LiveRunRef } from '../engine-core.js';
import type { Logger } from '../types.js';
import type { LiveEvents } from './live-events.js';
import type { OutputStreams } from './output-streams.js';
import { relayTransients } from './transient-relay.js';

/** Fans a committed transition's events out, in process and across processes. */
export class CommittedFanout {
  readonly #deps: { live: LiveEvents; streams: OutputStreams; store: Store; workerId: string; logger: Logger | undefined; now: () => number };

  constructor(deps: { live: LiveEvents; streams: OutputStreams; store: Store; workerId: string; logger: Logger | undefined; now: () => number }) {
    this.#deps = deps;
  }

  /** Delivers `events` (committed) and `transients` (each after the event at its index) of `run`. */
  publish(run: LiveRunRef, events: RunEventBody[], transients: { afterIndex: number; body: RunEventBody }[]): void {
    const { live, streams, store, workerId, logger } = this.#deps;
    live.publishCommitted(run, events, transients, this.#deps.now());
    streams.observe(run, events, transients); // callee outputs stream on to waiting callers
    relayTransients({ store, origin: workerId, logger }, run, events, transients);
  }
}
