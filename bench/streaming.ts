/**
 * Streamed outputs (issue 4): a callee module appends 10,000 elements to a streamable collection
 * (`ctx.append`, yielding to the event loop every `chunk` appends, as a producer that does some
 * work between elements would). Measured, on the memory store:
 *
 * - **runAction → callee**: the latency from each `ctx.append` to the first `onOutput` snapshot
 *   that contains the element, and the number of snapshots delivered before the end-of-run report;
 * - **RUN_FLOW caller**: the same latency to the first snapshot applied to the caller's target
 *   (its live `output` event), and to the caller's `runAction` `onOutput`.
 *
 * The bound under test: at most one snapshot per 10 ms of callee run time (plus the final one);
 * the goal is a p99 under 50 ms.
 *
 *   node --import tsx bench/streaming.ts [elements]      (or: npm run bench -- --only streaming)
 */
import { performance } from 'node:perf_hooks';
import { createEngine, createMemoryStores, type FlowDefinition, type Module } from '../src/index.js';
import { latencySummary, markdownTable, r3 } from './measure.js';

const LINE = { type: 'object', properties: { id: { type: 'number' } } };

const callee: FlowDefinition = {
  id: 'bench/stream-callee',
  classes: { Line: LINE },
  actions: {
    main: {
      params: { n: { type: 'number', required: true }, chunk: { type: 'number', required: true } },
      outputs: { lines: { collection: 'Line', returned: true, streamable: true } },
      startAt: 'produce',
      steps: { produce: { stepType: 'MODULE', moduleIdentifier: 'bench/produce', inputMappings: { n: '$.input.n', chunk: '$.input.chunk' } } },
    },
  },
};

const caller: FlowDefinition = {
  id: 'bench/stream-caller',
  classes: { Line: LINE },
  actions: {
    main: {
      params: { n: { type: 'number', required: true }, chunk: { type: 'number', required: true } },
      outputs: { lines: { collection: 'Line', returned: true, streamable: true } },
      startAt: 'call',
      steps: {
        call: {
          stepType: 'RUN_FLOW',
          flowDefinitionId: 'bench/stream-callee',
          inputMappings: { n: '$.input.n', chunk: '$.input.chunk' },
          returnMappings: [{ output: 'lines', target: '$.outputs.lines' }],
        },
      },
    },
  },
};

/** The snapshots one observer received (sizes and arrival times), and each element's write time. */
class Arrivals {
  readonly writtenAt: Float64Array;
  readonly #snapshots: { size: number; at: number; final: boolean }[] = [];

  constructor(writtenAt: Float64Array) {
    this.writtenAt = writtenAt;
  }

  /** A snapshot of `size` elements arrived; `final` for the end-of-run application, when the observer can tell. */
  snapshot(size: number, final = false): void {
    this.#snapshots.push({ size, at: performance.now(), final });
  }

  /** For `onOutput`: its last report is the end-of-run one. */
  lastIsFinal(): this {
    const last = this.#snapshots.at(-1);
    if (last) last.final = true;
    return this;
  }

  get liveSnapshots(): number {
    return this.#snapshots.filter((s) => !s.final).length;
  }

  /** Each element's first arrival time, and how many arrived first in a live snapshot. */
  #firstSeen(): { seenAt: Float64Array; seenLive: number } {
    const seenAt = new Float64Array(this.writtenAt.length).fill(Number.NaN);
    let seen = 0;
    let seenLive = 0;
    for (const s of this.#snapshots) {
      const upTo = Math.min(s.size, seenAt.length);
      if (!s.final) seenLive += Math.max(0, upTo - seen);
      for (; seen < upTo; seen++) seenAt[seen] = s.at;
    }
    return { seenAt, seenLive };
  }

  get seenLive(): number {
    return this.#firstSeen().seenLive;
  }

  /** Write-to-first-arrival latency of every element, live or final. */
  latencies(): Float64Array {
    const { seenAt } = this.#firstSeen();
    return Float64Array.from(seenAt, (t, i) => t - this.writtenAt[i]!);
  }
}

/** Runs both cases once with `n` elements, yielding every `chunk` appends. */
export async function benchStreaming(options: { n?: number; chunk?: number; pauseMs?: number } = {}): Promise<Record<string, string | number>[]> {
  const n = options.n ?? 10_000;
  const chunk = options.chunk ?? 10;
  const pauseMs = options.pauseMs ?? 0;
  const pace = pauseMs > 0 ? `${pauseMs} ms pause every ${chunk}` : `event-loop turn every ${chunk}`;
  let writtenAt = new Float64Array(n);
  let firstWrite = 0;
  let lastWrite = 0;
  const produce: Module = async (input, ctx) => {
    for (let i = 0; i < (input.n as number); i++) {
      if (i === 0) firstWrite = performance.now();
      writtenAt[i] = performance.now();
      ctx.append('lines', { id: i });
      if ((i + 1) % (input.chunk as number) === 0) await new Promise((resolve) => (pauseMs > 0 ? setTimeout(resolve, pauseMs) : setImmediate(resolve)));
    }
    lastWrite = performance.now();
    return null;
  };
  const engine = createEngine({ stores: createMemoryStores(), poll: false, modules: { 'bench/produce': produce } });
  await engine.deployFlow(callee, { publish: true });
  await engine.deployFlow(caller, { publish: true });
  const rows: Record<string, string | number>[] = [];
  const row = (observer: string, arrivals: Arrivals): void => {
    const runMs = lastWrite - firstWrite;
    const lat = latencySummary(arrivals.latencies());
    rows.push({
      observer,
      'appends (pace)': `${n} (${pace})`,
      'callee writing ms': r3(runMs),
      'live snapshots': arrivals.liveSnapshots,
      'bound: 1 per 10 ms': Math.floor(runMs / 10) + 1,
      'elements first seen live': arrivals.seenLive,
      'p50 ms': r3(lat.p50),
      'p99 ms': r3(lat.p99),
      'max ms': r3(lat.max),
    });
  };

  // Warm-up (JIT, flow cache).
  await engine.runAction({ flow: 'bench/stream-caller', input: { n: 1_000, chunk }, onOutput: () => undefined });

  // 1. runAction straight on the callee.
  writtenAt = new Float64Array(n);
  const direct = new Arrivals(writtenAt);
  await engine.runAction({ flow: 'bench/stream-callee', input: { n, chunk }, onOutput: (_name, lines) => direct.snapshot((lines as unknown[]).length) });
  row('runAction onOutput (callee)', direct.lastIsFinal());

  // 2. A RUN_FLOW caller: its output events (transient: streamed snapshots; persisted: the
  // end-of-call application) and its runAction onOutput.
  writtenAt = new Float64Array(n);
  const applied = new Arrivals(writtenAt);
  const delivered = new Arrivals(writtenAt);
  const requestId = engine.ids.newRunId();
  const stop = engine.onRunEvent(requestId, (event) => {
    if (event.kind === 'output' && event.name === 'lines') applied.snapshot((event.value as unknown[]).length, !event.transient);
  });
  await engine.runAction({ flow: 'bench/stream-caller', requestId, input: { n, chunk }, onOutput: (_name, lines) => delivered.snapshot((lines as unknown[]).length) });
  stop();
  row("caller's target (RUN_FLOW), applied snapshot", applied);
  row('runAction onOutput (RUN_FLOW caller)', delivered.lastIsFinal());
  await engine.close();
  return rows;
}

/** Both paces: a tight producer (an event-loop turn every 10 appends) and a paced one (1 ms every 100). */
export async function benchStreamingPaces(n = 10_000): Promise<string> {
  const rows = [...(await benchStreaming({ n, chunk: 10 })), ...(await benchStreaming({ n, chunk: 100, pauseMs: 1 }))];
  return markdownTable(Object.keys(rows[0]!), rows.map((r) => Object.values(r).map(String)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchStreamingPaces(Number(process.argv[2] ?? 10_000)));
}
