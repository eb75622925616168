/**
 * `flowrun/metrics` (its own subpath, so importing `flowrun` never loads prom-client): flowrun's metrics in the Prometheus format, with prom-client and a registry of their own (never
 * prom-client's global one, so two servers in one process do not mix their counts): an engine
 * observer (runs started and ended, run and step durations, leases lost), a store commit listener
 * (commit latency and batch size), a router observer (HTTP requests, event streams) and gauges read
 * at each scrape (runs active and waiting in the store, runs this process executes). Every label
 * has a bounded set of values — flow ids, statuses, step types, route patterns — never a run id.
 *
 * @example
 * const metrics = new PrometheusMetrics();
 * const engine = createEngine({ stores, observers: [metrics] });
 * metrics.watch({ engine });                    // store commits and the gauges read at scrape
 * const router = createFlowApiRouter({ engine, observers: [metrics], metricsSource: metrics });
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineObserver, ObservedRunEnd, ObservedRunStart, ObservedStep } from '../core/engine/engine-observer.js';
import type { Store } from '../core/store.js';
import type { CommitObserver } from '../core/commit-observer.js';
import type { MetricsSource, ObservedRequest, RequestObserver } from '../server/request-observer.js';

/** Options of {@link PrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** Prefix of every metric name (default `flowrun_`). */
  prefix?: string;
  /** Also export Node's process metrics (CPU, memory, event loop lag: prom-client's defaults) with the prefix. Default false. */
  processMetrics?: boolean;
  /** At most this many runs are counted per status gauge at a scrape (default 100,000): a scrape's cost stays bounded. */
  maxCountedRuns?: number;
}

/** What {@link PrometheusMetrics.watch} reads: the engine (its store, what it executes). */
export interface WatchedEngine {
  readonly store: Store;
  readonly observers: { add(observer: EngineObserver): () => void };
  /** Runs this engine executes now (each under a lease it holds). */
  readonly runsExecuting: number;
}

/** Methods counted by name; any other is counted as `other` (a client may send any word). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];
const COMMIT_SECONDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** The metrics of one flowrun process (or one server within it). */
export class PrometheusMetrics implements EngineObserver, RequestObserver, MetricsSource {
  /** The registry every metric of this object is in. */
  readonly registry = new Registry();
  readonly #runsStarted: Counter<'flow' | 'source'>;
  readonly #runsEnded: Counter<'flow' | 'status'>;
  readonly #runDuration: Histogram<'flow' | 'status'>;
  readonly #stepDuration: Histogram<'flow' | 'step_type' | 'outcome'>;
  readonly #leasesLost: Counter;
  readonly #runsActive: Gauge;
  readonly #runsWaiting: Gauge;
  readonly #commitDuration: Histogram;
  readonly #commitSize: Histogram;
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #requestDuration: Histogram<'method' | 'route'>;
  readonly #streamsOpen: Gauge;
  readonly #streamsOpened: Counter;
  readonly #maxCountedRuns: number;
  readonly #watched = new Set<WatchedEngine>();

  constructor(options: PrometheusMetricsOptions = {}) {
    const p = options.prefix ?? 'flowrun_';
    const registers = [this.registry];
    this.#maxCountedRuns = options.maxCountedRuns ?? 100_000;
    this.#runsStarted = new Counter({ name: `${p}runs_started_total`, help: 'Runs this process created, by flow and source (http, event, flow…)', labelNames: ['flow', 'source'], registers });
    this.#runsEnded = new Counter({ name: `${p}runs_ended_total`, help: 'Runs that ended in this process, by flow and status', labelNames: ['flow', 'status'], registers });
    this.#runDuration = new Histogram({ name: `${p}run_duration_seconds`, help: 'From start to end of the runs that ended in this process', labelNames: ['flow', 'status'], buckets: SECONDS, registers });
    this.#stepDuration = new Histogram({ name: `${p}step_duration_seconds`, help: 'Step visits executed in this process, from call to outcome (commit excluded), by flow, step type and outcome', labelNames: ['flow', 'step_type', 'outcome'], buckets: SECONDS, registers });
    this.#leasesLost = new Counter({ name: `${p}leases_lost_total`, help: 'Runs this process stopped executing because another process holds their lease now', registers });
    const watched = this.#watched;
    new Gauge({
      name: `${p}leases_held`,
      help: 'Runs this process executes now, each under a lease it holds',
      registers,
      collect() {
        this.set([...watched].reduce((sum, engine) => sum + engine.runsExecuting, 0));
      },
    });
    const count = (status: 'ACTIVE' | 'INACTIVE') => async (gauge: Gauge): Promise<void> => {
      const store = [...watched][0]?.store;
      if (!store) return;
      // A store that does not answer leaves the gauge out of this scrape rather than failing it.
      gauge.reset();
      await store.countRuns({ status }, { max: this.#maxCountedRuns }).then((n) => gauge.set(n), () => undefined);
    };
    const countActive = count('ACTIVE');
    const countWaiting = count('INACTIVE');
    this.#runsActive = new Gauge({ name: `${p}runs_active`, help: `Runs ACTIVE in the store (executing, or ready and waiting for a worker), counted up to ${this.#maxCountedRuns}`, registers, collect: () => countActive(this.#runsActive) });
    this.#runsWaiting = new Gauge({ name: `${p}runs_waiting`, help: `Runs INACTIVE in the store (waiting for an event, a timer or an approval), counted up to ${this.#maxCountedRuns}`, registers, collect: () => countWaiting(this.#runsWaiting) });
    this.#commitDuration = new Histogram({ name: `${p}store_commit_duration_seconds`, help: 'Store write transactions (group commits) from start to durable commit', buckets: COMMIT_SECONDS, registers });
    this.#commitSize = new Histogram({ name: `${p}store_commit_batch_size`, help: 'Transitions and new runs per store write transaction', buckets: BATCH_SIZES, registers });
    this.#requests = new Counter({ name: `${p}http_requests_total`, help: 'HTTP requests answered, by method, route pattern and status', labelNames: ['method', 'route', 'status'], registers });
    this.#requestDuration = new Histogram({ name: `${p}http_request_duration_seconds`, help: 'HTTP requests from arrival to the answer\'s headers, by method and route pattern', labelNames: ['method', 'route'], buckets: SECONDS.slice(0, 12), registers });
    this.#streamsOpen = new Gauge({ name: `${p}sse_connections`, help: 'Event streams (SSE) open now', registers });
    this.#streamsOpened = new Counter({ name: `${p}sse_connections_opened_total`, help: 'Event streams (SSE) opened', registers });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  /**
   * Observes an engine and its store: runs, steps and leases (as an engine observer), store commits,
   * and the gauges read at scrape. Returns the function that stops. Give the same engine once.
   */
  watch(options: { engine: WatchedEngine }): () => void {
    const { engine } = options;
    this.#watched.add(engine);
    const stopEngine = engine.observers.add(this);
    const stopStore = engine.store.observeCommits?.(this.#commitObserver);
    return () => {
      this.#watched.delete(engine);
      stopEngine();
      stopStore?.();
    };
  }

  readonly contentType = 'text/plain; version=0.0.4; charset=utf-8';

  /** The metrics in the Prometheus text format (reads the gauges' sources first). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  runStarted(run: ObservedRunStart): void {
    this.#runsStarted.inc({ flow: run.flowId, source: run.source });
  }

  runEnded(run: ObservedRunEnd): void {
    this.#runsEnded.inc({ flow: run.flowId, status: run.status });
    this.#runDuration.observe({ flow: run.flowId, status: run.status }, run.durationMs / 1000);
  }

  stepEnded(step: ObservedStep): void {
    const outcome = step.outcome === 'fail' ? 'failed' : step.outcome === 'suspend' || step.outcome === 'wait-child' ? 'waiting' : 'succeeded';
    this.#stepDuration.observe({ flow: step.flowId, step_type: step.stepType, outcome }, step.durationMs / 1000);
  }

  leaseLost(): void {
    this.#leasesLost.inc();
  }

  /** Times each store commit batch from its start to its end (Store.observeCommits); failed batches are not counted. */
  readonly #commitObserver: CommitObserver = {
    commitStarted: (_store, size) => {
      const startedAt = performance.now();
      return (error) => {
        if (error !== undefined) return;
        this.#commitDuration.observe((performance.now() - startedAt) / 1000);
        this.#commitSize.observe(size);
      };
    },
  };

  requestEnded(request: ObservedRequest): void {
    const method = METHODS.has(request.method) ? request.method : 'other';
    this.#requests.inc({ method, route: request.route, status: String(request.status) });
    this.#requestDuration.observe({ method, route: request.route }, request.durationMs / 1000);
  }

  streamOpened(): void {
    this.#streamsOpen.inc();
    this.#streamsOpened.inc();
  }

  streamClosed(): void {
    this.#streamsOpen.dec();
  }
}
