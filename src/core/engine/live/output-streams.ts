/**
 * Streaming a callee's outputs into its caller while the callee runs (seed 000, "Streaming
 * returned outputs"; DESIGN.md §3 "Streaming"). Each synchronous call whose callee writes a
 * `streamable` returned output that the calling step maps gets a {@link CallStream}: it keeps the
 * callee's latest value of each such output and, at most once per {@link STREAM_INTERVAL_MS},
 * applies all of them at once through the step's return mapping (targets, modes, dropped
 * properties) onto the caller's state as it was when the call started. The result is one
 * coherent snapshot, published as transient `output` events of the caller — which its watchers,
 * `runAction`'s `onOutput`, and the caller's own caller (streams chain) see.
 *
 * Durability: streamed snapshots are live only; the caller's persisted state is not touched until
 * the callee ends. Then the caller applies the callee's final outputs through the mapping in one
 * recorded transition (end of run is authoritative), or, when the callee failed or was canceled,
 * records nothing from it — and this stream publishes each target it had changed back at its
 * persisted value. So a failed call writes nothing, across crashes too: after a crash the caller
 * resumes from a state no snapshot ever reached. Snapshots are published in the process that
 * executes the callee; a watcher in a process that dies mid-stream keeps its last snapshot until
 * the caller's next persisted output event.
 */
import type { Clock } from '../../clock.js';
import { cloneJson } from '../../json.js';
import { parseContextTarget } from '../../mapping.js';
import type { FlowDefinition, FlowVersionRecord, ReturnMapping } from '../../model.js';
import { isTerminalStatus, type RunEventBody, type RunRecord, type RunStatus } from '../../run.js';
import type { Store } from '../../store.js';
import type { LiveRunRef } from '../engine-core.js';
import { applyReturnMappings, type ReturnTargets, type ReturnTargetTypes } from '../calls/return-mapping.js';
import { SnapshotThrottle } from './snapshot-throttle.js';
import type { Logger } from '../types.js';

/** What streaming needs from the engine. */
export interface OutputStreamsDeps {
  store: Store;
  clock: Clock;
  loadFlow(flowId: string, version: number): Promise<FlowVersionRecord>;
  /** Publishes a live-only event of a run (it comes back through {@link OutputStreams.observe}: streams chain). */
  publishTransient(run: LiveRunRef, body: RunEventBody): void;
  logger: Logger | undefined;
}

/**
 * Calls followed at once. A call's entry goes when its callee's end is seen here; one whose end is
 * seen by another process (its lease moved) is dropped oldest-first past this bound.
 */
const MAX_CALLS = 10_000;

/** The streams of the synchronous calls whose callees this engine publishes events for. */
export class OutputStreams {
  readonly #deps: OutputStreamsDeps;
  readonly #calls = new Map<string, CallStream>();

  constructor(deps: OutputStreamsDeps) {
    this.#deps = deps;
  }

  /** Sees every live event of a run, in order; only `output` and terminal `status` events of synchronous children matter. */
  observe(run: LiveRunRef, events: RunEventBody[], transients: { afterIndex: number; body: RunEventBody }[]): void {
    // Roots and launched runs have no synchronous caller (a child shares its caller's root).
    if (run.rootRunId === run.runId) return;
    let t = 0;
    for (let i = 0; i <= events.length; i++) {
      for (; t < transients.length && transients[t]!.afterIndex <= i; t++) this.#take(run, transients[t]!.body);
      if (i < events.length) this.#take(run, events[i]!);
    }
  }

  #dropOldest(): void {
    const oldest = this.#calls.keys().next();
    if (oldest.done) return;
    this.#calls.get(oldest.value)?.stop();
    this.#calls.delete(oldest.value);
  }

  #take(run: LiveRunRef, body: RunEventBody): void {
    if (body.kind === 'output') {
      let call = this.#calls.get(run.runId);
      if (!call) {
        call = new CallStream(this.#deps);
        this.#calls.set(run.runId, call);
        if (this.#calls.size > MAX_CALLS) this.#dropOldest();
        call.start(run);
      }
      call.output(body.name, body.value);
    } else if (body.kind === 'status' && isTerminalStatus(body.status)) {
      this.#calls.get(run.runId)?.end(body.status);
      this.#calls.delete(run.runId);
    }
  }
}

/** Where a callee's outputs stream to: the waiting caller, its state before the call, the mappings. */
interface StreamTarget {
  caller: LiveRunRef;
  base: ReturnTargets;
  mappings: ReturnMapping[];
  types: ReturnTargetTypes;
  streamable: Set<string>;
  /** Whole vars/outputs that a nested target (`$.outputs.report.lines`) writes into: copied per snapshot. */
  nested: { root: 'vars' | 'outputs'; name: string }[];
}

/** One synchronous call's stream. */
class CallStream {
  readonly #deps: OutputStreamsDeps;
  readonly #latest = new Map<string, unknown>();
  readonly #streamedTo = new Set<string>();
  readonly #throttle: SnapshotThrottle;
  #target: StreamTarget | null = null;
  #closed = false;

  constructor(deps: OutputStreamsDeps) {
    this.#deps = deps;
    this.#throttle = new SnapshotThrottle({ clock: deps.clock, emit: () => this.#publishSnapshot() });
  }

  start(run: LiveRunRef): void {
    resolveTarget(this.#deps, run)
      .then((target) => {
        if (this.#closed) return;
        if (!target) return this.stop();
        this.#target = target;
        for (const name of this.#latest.keys()) if (!target.streamable.has(name)) this.#latest.delete(name);
        if (this.#latest.size > 0) this.#throttle.changed();
      })
      .catch((error: unknown) => {
        this.#deps.logger?.warn({ err: error, runId: run.runId }, 'outputs of this call are not streamed; its caller gets them when it ends');
        this.stop();
      });
  }

  output(name: string, value: unknown): void {
    if (this.#closed || (this.#target && !this.#target.streamable.has(name))) return;
    this.#latest.set(name, value);
    if (this.#target) this.#throttle.changed();
  }

  /** The callee ended: later writes are ignored; on failure or cancel, streamed targets go back. */
  end(status: RunStatus): void {
    if (this.#closed) return;
    this.stop();
    const target = this.#target;
    if (status === 'SUCCEEDED' || !target) return;
    for (const name of this.#streamedTo) {
      const value = Object.hasOwn(target.base.outputs, name) ? target.base.outputs[name] : null;
      this.#deps.publishTransient(target.caller, { kind: 'output', name, value: cloneJson(value ?? null) });
    }
  }

  #publishSnapshot(): void {
    const target = this.#target;
    if (!target || this.#closed) return;
    const targets: ReturnTargets = { vars: { ...target.base.vars }, outputs: { ...target.base.outputs } };
    for (const { root, name } of target.nested) if (Object.hasOwn(targets[root], name)) targets[root][name] = cloneJson(targets[root][name]);
    const mappings = target.mappings.filter((m) => this.#latest.has(m.output));
    const returned = Object.fromEntries(this.#latest);
    const { outputs } = applyReturnMappings(mappings, returned, targets, target.types);
    for (const name of new Set(outputs)) {
      this.#streamedTo.add(name);
      this.#deps.publishTransient(target.caller, { kind: 'output', name, value: targets.outputs[name] ?? null });
    }
  }

  /** Stops streaming without touching the caller's targets. */
  stop(): void {
    this.#closed = true;
    this.#throttle.close();
  }
}

/** The caller a callee streams into, or null when nothing of it streams (no streamable output mapped, caller not waiting on it). */
async function resolveTarget(deps: OutputStreamsDeps, run: LiveRunRef): Promise<StreamTarget | null> {
  const callee = hasRunFields(run) ? run : await deps.store.getRun(run.runId);
  if (!callee || callee.parentRunId === null || callee.detached) return null;
  const calleeFlow = await deps.loadFlow(callee.flowId, callee.flowVersion);
  const declared = calleeFlow.definition.actions[callee.actionName]?.outputs ?? {};
  const streamable = new Set(Object.keys(declared).filter((name) => declared[name]!.returned === true && declared[name]!.streamable === true));
  if (streamable.size === 0) return null;
  const caller = await deps.store.getRun(callee.parentRunId);
  const frame = caller?.state.frames.at(-1);
  if (!caller || isTerminalStatus(caller.status) || !frame || frame.waitingForRunId !== callee.runId || frame.at === null) return null;
  const callerFlow = await deps.loadFlow(caller.flowId, caller.flowVersion);
  const step = graphOf(callerFlow.definition, frame.graph)?.steps[frame.at];
  if (step?.stepType !== 'RUN_FLOW') return null;
  const mappings = (step.returnMappings ?? []).filter((m) => streamable.has(m.output));
  if (mappings.length === 0) return null;
  const nested: StreamTarget['nested'] = [];
  for (const m of mappings) {
    const parsed = parseContextTarget(m.target);
    if (typeof parsed !== 'string' && parsed.path.length > 1) nested.push({ root: parsed.root, name: parsed.path[0]! });
  }
  const def = callerFlow.definition;
  return {
    caller: { runId: caller.runId, rootRunId: caller.rootRunId, lastSeq: caller.lastSeq },
    base: { vars: caller.state.vars, outputs: caller.state.outputs },
    mappings,
    types: { vars: def.vars, outputs: def.actions[caller.actionName]?.outputs, classes: def.classes },
    streamable,
    nested,
  };
}

type CalleeFields = Pick<RunRecord, 'runId' | 'flowId' | 'flowVersion' | 'actionName' | 'parentRunId' | 'detached'>;

/** Live events usually carry the whole run record; then no store read is needed. */
function hasRunFields(run: LiveRunRef): run is LiveRunRef & CalleeFields {
  const r = run as Partial<CalleeFields>;
  return typeof r.flowId === 'string' && typeof r.flowVersion === 'number' && typeof r.actionName === 'string' && r.parentRunId !== undefined && typeof r.detached === 'boolean';
}

function graphOf(definition: FlowDefinition, graph: string): FlowDefinition['actions'][string] | undefined {
  const i = graph.indexOf(':');
  const kind = graph.slice(0, i);
  const name = graph.slice(i + 1);
  const graphs = kind === 'action' ? definition.actions : definition.subflows;
  return graphs && Object.hasOwn(graphs, name) ? (graphs[name] as FlowDefinition['actions'][string]) : undefined;
}
