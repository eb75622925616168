/**
 * `runAction`'s `onOutput`: an outside caller's view of a run's returned outputs, under the same
 * rules as a calling flow (seed 000): streamable outputs arrive as snapshots while the run goes
 * on — at most one per {@link STREAM_INTERVAL_MS}, each the latest value of every output that
 * changed — then, when the run succeeds, every returned output once with its final value (end of
 * run is authoritative; nothing follows it). When the run fails or is canceled, each output
 * already reported is reported again with the value the run started with: a failed run writes
 * nothing. Non-streamable outputs are reported only at the end.
 */
import { cloneJson } from '../../json.js';
import type { OutputDefinition } from '../../model.js';
import { isTerminalStatus, type RunRecord } from '../../run.js';
import { declaredDefaults } from '../start/build-run.js';
import type { Clock } from '../../clock.js';
import type { FlowVersionRecord } from '../../model.js';
import type { Logger } from '../types.js';
import type { LiveListener } from './live-events.js';
import { SnapshotThrottle, STREAM_INTERVAL_MS } from './snapshot-throttle.js';

export { STREAM_INTERVAL_MS };

/** What following a run's outputs needs of the engine (its public API). */
export interface OutputSource {
  readonly clock: Clock;
  readonly logger: Logger | undefined;
  onRunEvent(runId: string, listener: LiveListener): () => void;
  getRun(runId: string): Promise<RunRecord>;
  getFlow(flowId: string, version?: number): Promise<FlowVersionRecord>;
}

/** Follows one run's outputs for `onOutput`; create it before the run starts so nothing is missed. */
export class OutputFollower {
  readonly #engine: OutputSource;
  readonly #onOutput: (name: string, snapshot: unknown) => void;
  readonly #latest = new Map<string, unknown>();
  readonly #reported = new Set<string>();
  readonly #throttle: SnapshotThrottle;
  readonly #stopListening: () => void;
  #streamable: Set<string> | null = null;
  #initial: Record<string, unknown> = {};
  #returned: string[] = [];
  #ended = false;

  constructor(engine: OutputSource, runId: string, onOutput: (name: string, snapshot: unknown) => void) {
    this.#engine = engine;
    this.#onOutput = onOutput;
    this.#throttle = new SnapshotThrottle({ clock: engine.clock, emit: () => this.#reportSnapshot() });
    this.#stopListening = engine.onRunEvent(runId, (event) => {
      if (this.#ended) return;
      // The end is reported as soon as it is recorded, not when the waiting caller wakes.
      if (event.kind === 'status' && isTerminalStatus(event.status) && this.#streamable) this.ended({ status: event.status, output: event.output });
      if (event.kind !== 'output') return;
      if (this.#streamable && !this.#streamable.has(event.name)) return;
      this.#latest.set(event.name, event.value);
      if (this.#streamable) this.#throttle.changed();
    });
  }

  /** The run was created: learn which outputs stream, and what they start as. Never rejects: if they cannot be read, onOutput sees nothing of this run. */
  async started(runId: string): Promise<void> {
    let outputs: Record<string, OutputDefinition> = {};
    try {
      const run = await this.#engine.getRun(runId);
      const flow = await this.#engine.getFlow(run.flowId, run.flowVersion);
      outputs = flow.definition.actions[run.actionName]?.outputs ?? {};
    } catch (error) {
      this.#engine.logger?.warn({ err: error, runId }, 'the outputs of this run cannot be read; onOutput sees nothing of it');
    }
    this.#returned = Object.keys(outputs).filter((name) => outputs[name]!.returned === true);
    this.#streamable = new Set(this.#returned.filter((name) => outputs[name]!.streamable === true));
    this.#initial = declaredDefaults(outputs);
    for (const name of this.#latest.keys()) if (!this.#streamable.has(name)) this.#latest.delete(name);
    if (this.#latest.size > 0) this.#throttle.changed();
  }

  /** The run ended: the final outputs (or, after a failure, the starting values of what was reported), then nothing more. */
  ended(run: Pick<RunRecord, 'status' | 'output'>): void {
    if (this.#ended) return;
    this.stop();
    if (run.status === 'SUCCEEDED') {
      const output = (run.output ?? {}) as Record<string, unknown>;
      for (const name of this.#returned) this.#report(name, Object.hasOwn(output, name) ? output[name] : null);
    } else {
      for (const name of [...this.#reported]) this.#report(name, Object.hasOwn(this.#initial, name) ? this.#initial[name] : null);
    }
  }

  /** Stops listening; pending snapshots are dropped. */
  stop(): void {
    this.#ended = true;
    this.#throttle.close();
    this.#stopListening();
  }

  #reportSnapshot(): void {
    const changes = [...this.#latest];
    this.#latest.clear();
    for (const [name, value] of changes) this.#report(name, value);
  }

  #report(name: string, value: unknown): void {
    this.#reported.add(name);
    try {
      this.#onOutput(name, cloneJson(value));
    } catch (error) {
      this.#engine.logger?.warn({ err: error, output: name }, 'an onOutput listener threw; the run goes on');
    }
  }
}
