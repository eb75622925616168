/**
 * The engine's tracer (core/tracing.ts) on `@opentelemetry/api`, the one file that touches it. The
 * API is a no-op until an SDK registers a tracer provider, so this records nothing by default;
 * with no provider registered every hook answers after one no-op `startSpan` (a run's creation,
 * an execution, an HTTP request, a commit batch) and builds no attributes or contexts.
 *
 * Spans, their names and attributes (bounded values only; run ids as attributes):
 * - `run <flowId>` when a run is created; its context is recorded with the run (`traceContext`).
 *   A child run's is a child of the calling step's span; a run started from code or over HTTP is
 *   a child of the active span (the HTTP request's, the caller's); a launched run and a run an event
 *   or a schedule started begin their own trace, linked to the span that started them.
 * - `execute <flowId>`: one execution of the run by one process (a claim: the first, and every
 *   resumption after a child ended, a retry's backoff, a WAIT, a crash), child of the run's span.
 * - `step <stepId>`: one visit of a step, child of its execution; retries without backoff are
 *   events on it (`retry`), and modules run inside it.
 * - `<METHOD> <route>` (server) per HTTP request, child of the request's `traceparent`.
 * - `store commit` (client) per group-commit batch, child of the span active when the batch began.
 */
import { createRequire } from 'node:module';
import type * as OpenTelemetry from '@opentelemetry/api';
import type { NewRun, RunRecord, RunStatus } from '../core/run.js';
import type { ExecutionTrace, RunTraceContext, Tracing } from '../core/tracing.js';

type Api = typeof OpenTelemetry;
type Span = OpenTelemetry.Span;
type Context = OpenTelemetry.Context;
type SpanContext = OpenTelemetry.SpanContext;

/** The instrumentation scope of every span. */
export const TRACER_NAME = 'flowrun';

/** Sources whose runs begin a trace of their own, linked to the span that started them. */
const LINKED_SOURCES = new Set(['event', 'schedule']);

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** What the default load found: the tracer, null when the package is absent, undefined before the first load. */
let loaded: Tracing | null | undefined;

/**
 * The engine's OpenTelemetry tracer when `@opentelemetry/api` can be loaded, else undefined (the
 * package is an optional peer dependency: flowrun runs untraced without it). `load` is how the
 * package is found (tests pass one that fails); a package that is there but broken throws.
 */
export function loadOpenTelemetryTracing(options: { load?: () => unknown } = {}): Tracing | undefined {
  // One tracer per process for the default load: engines over one store then share its commit spans (one per batch).
  if (!options.load && loaded !== undefined) return loaded ?? undefined;
  let api: Api;
  try {
    // Synchronous, so createEngine stays synchronous; the API keeps its registered providers on
    // globalThis, so this copy sees the SDK an application registered through `import` too.
    api = (options.load ?? (() => createRequire(import.meta.url)('@opentelemetry/api')))() as Api;
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      if (!options.load) loaded = null;
      return undefined;
    }
    throw error;
  }
  const tracing = new OpenTelemetryTracing(api);
  if (!options.load) loaded = tracing;
  return tracing;
}


/** {@link Tracing} on the OpenTelemetry API (made by {@link loadOpenTelemetryTracing}). */
class OpenTelemetryTracing implements Tracing {
  readonly #api: Api;
  readonly #tracer: OpenTelemetry.Tracer;
  readonly #starts: StepSpanStarts;

  constructor(api: Api) {
    this.#api = api;
    // A proxy: a provider registered after the engine was created is used from then on.
    this.#tracer = api.trace.getTracer(TRACER_NAME);
    this.#starts = new StepSpanStarts(api);
  }

  runCreated(run: NewRun): RunTraceContext | undefined {
    const api = this.#api;
    const active = api.context.active();
    const linked = run.detached || (run.parentRunId === null && LINKED_SOURCES.has(run.source));
    const starter = linked ? api.trace.getSpanContext(active) : undefined;
    const options: OpenTelemetry.SpanOptions = { kind: api.SpanKind.INTERNAL };
    if (starter && api.isSpanContextValid(starter)) options.links = [{ context: starter }];
    const span = this.#tracer.startSpan(`run ${run.flowId}`, options, linked ? api.ROOT_CONTEXT : active);
    const context = span.spanContext();
    if (!span.isRecording() && !api.isSpanContextValid(context)) return undefined; // no SDK
    if (span.isRecording()) {
      span.setAttributes({
        'flowrun.run.id': run.runId,
        'flowrun.flow.id': run.flowId,
        'flowrun.flow.version': run.flowVersion,
        'flowrun.action': run.actionName,
        'flowrun.run.source': run.source,
        ...(run.parentRunId ? { 'flowrun.run.parent_id': run.parentRunId } : {}),
      });
    }
    span.end();
    return traceContextOf(context);
  }

  executionStarted(run: RunRecord, workerId: string): ExecutionTrace | null {
    const api = this.#api;
    const parent = run.traceContext ? this.#remoteContext(run.traceContext) : api.ROOT_CONTEXT;
    const span = this.#tracer.startSpan(`execute ${run.flowId}`, { kind: api.SpanKind.INTERNAL }, parent);
    if (!span.isRecording()) {
      if (!api.isSpanContextValid(span.spanContext())) return null; // no SDK
      // Sampled out: no step spans, but what the run starts still sees the (unsampled) trace.
      return new UnsampledExecution(api, api.trace.setSpan(parent, span));
    }
    span.setAttributes({ 'flowrun.run.id': run.runId, 'flowrun.flow.id': run.flowId, 'flowrun.action': run.actionName, 'flowrun.worker.id': workerId, 'flowrun.run.step_seq': run.state.stepSeq });
    return new RecordedExecution(api, this.#tracer, this.#starts, span, api.trace.setSpan(parent, span));
  }

  async serveHttp(request: Request, handle: () => Promise<Response>, route: () => string | undefined): Promise<Response> {
    const api = this.#api;
    const parent = api.propagation.extract(api.ROOT_CONTEXT, request.headers, HEADERS_GETTER);
    const method = request.method;
    const span = this.#tracer.startSpan(method, { kind: api.SpanKind.SERVER }, parent);
    if (!span.isRecording() && !api.isSpanContextValid(span.spanContext())) return handle(); // no SDK
    try {
      const response = await api.context.with(api.trace.setSpan(parent, span), handle);
      if (span.isRecording()) {
        const pattern = route();
        span.setAttributes({ 'http.request.method': method, 'http.response.status_code': response.status, ...(pattern ? { 'http.route': pattern } : {}) });
        if (pattern) span.updateName(`${method} ${pattern}`);
        if (response.status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
      }
      return response;
    } catch (error) {
      recordError(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  servedHttp(request: Request, status: number, route: string, startTime: number): void {
    const api = this.#api;
    const parent = api.propagation.extract(api.ROOT_CONTEXT, request.headers, HEADERS_GETTER);
    const method = request.method;
    const span = this.#tracer.startSpan(`${method} ${route}`, { kind: api.SpanKind.SERVER, startTime }, parent);
    if (span.isRecording()) {
      span.setAttributes({ 'http.request.method': method, 'http.response.status_code': status, 'http.route': route });
      if (status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
    }
    span.end();
  }

  commitStarted(store: string, size: number): ((error?: unknown) => void) | undefined {
    const api = this.#api;
    const span = this.#tracer.startSpan('store commit', { kind: api.SpanKind.CLIENT });
    if (!span.isRecording()) {
      span.end();
      return undefined;
    }
    span.setAttributes({ 'db.system': store === 'postgres' ? 'postgresql' : store, 'flowrun.store.batch_size': size });
    return (error) => {
      if (error !== undefined) recordError(api, span, error);
      span.end();
    };
  }

  /** The context of a recorded run's span, as a remote parent. */
  #remoteContext(recorded: RunTraceContext): Context {
    const api = this.#api;
    const match = TRACEPARENT.exec(recorded.traceparent);
    if (!match || match[1] === 'ff') return api.ROOT_CONTEXT;
    const spanContext: SpanContext = { traceId: match[2]!, spanId: match[3]!, traceFlags: Number.parseInt(match[4]!, 16) & 0xff, isRemote: true };
    if (recorded.tracestate) spanContext.traceState = api.createTraceState(recorded.tracestate);
    return api.isSpanContextValid(spanContext) ? api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext) : api.ROOT_CONTEXT;
  }
}

/** A sampled-out execution: step visits run inside its context, nothing is recorded. */
class UnsampledExecution implements ExecutionTrace {
  constructor(
    readonly api: Api,
    readonly context: Context,
  ) {}

  stepStarted(): void {}

  inStep<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): T {
    return this.api.context.with(this.context, fn, undefined, ...args);
  }

  stepEnded(): void {}

  stepFailed(): void {}

  ended(): void {}
}

/** An execution whose spans are recorded: its own, and one per step visit. */
class RecordedExecution implements ExecutionTrace {
  /** The span of the step being visited, kept open while the step is retried without backoff. */
  #step: Span | null = null;
  /** The execution's context with `#step` as its span: made by the first `inStep` of a span (a COMPUTE step needs none). */
  #stepContext: Context | null = null;
  /** Which visit `#step` is (the frame depth, the step's sequence number and id): the same on an immediate retry. */
  #depth = -1;
  #stepSeq = -1;
  #stepId = '';
  #retrying = false;

  constructor(
    readonly api: Api,
    readonly tracer: OpenTelemetry.Tracer,
    readonly starts: StepSpanStarts,
    readonly span: Span,
    readonly context: Context,
  ) {}

  stepStarted(stepId: string, stepType: string, attempt: number, stepSeq: number, depth: number): void {
    const span = this.#step;
    if (span !== null && this.#stepSeq === stepSeq && this.#depth === depth && this.#stepId === stepId) {
      span.setAttribute('flowrun.step.attempt', attempt);
    } else {
      this.#endStep();
      const start = this.starts.of(stepId, stepType, attempt);
      this.#step = this.tracer.startSpan(start.name, start.options, this.context);
      this.#depth = depth;
      this.#stepSeq = stepSeq;
      this.#stepId = stepId;
    }
    this.#retrying = false;
  }

  inStep<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): T {
    const step = this.#step;
    const context = step === null ? this.context : (this.#stepContext ??= this.api.trace.setSpan(this.context, step));
    return this.api.context.with(context, fn, undefined, ...args);
  }

  stepEnded(error?: unknown): void {
    if (error !== undefined && this.#step) recordError(this.api, this.#step, error);
    // A retry without backoff visits the same step next: its span goes on.
    if (!this.#retrying) this.#endStep();
  }

  stepFailed(error: { code: string; message: string }, decision: 'retry' | 'catch' | 'fail', delayMs?: number): void {
    const span = this.#step ?? this.span;
    const attributes = { 'flowrun.error.code': error.code, ...(delayMs !== undefined ? { 'flowrun.retry.delay_ms': delayMs } : {}) };
    if (decision === 'retry') {
      span.addEvent('retry', { ...attributes, 'exception.message': error.message });
      if (this.#step) this.#retrying = delayMs === 0;
    } else if (decision === 'catch') {
      span.addEvent('caught', { ...attributes, 'exception.message': error.message });
    } else {
      span.recordException({ name: error.code, message: error.message });
      span.setAttributes(attributes);
      span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: `${error.code}: ${error.message}` });
    }
  }

  ended(status: RunStatus, error?: { code: string; description: string } | null): void {
    this.#endStep();
    this.span.setAttribute('flowrun.run.status', status);
    if (status === 'FAILED' && error) {
      this.span.setAttribute('flowrun.error.code', error.code);
      this.span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: `${error.code}: ${error.description}` });
    }
    this.span.end();
  }

  #endStep(): void {
    if (this.#step === null) return;
    this.#step.end();
    this.#step = null;
    this.#stepContext = null;
  }
}

/** How many steps' span names and start options {@link StepSpanStarts} keeps (flows are few; the bound is for a process that deploys many). */
const MAX_STEP_STARTS = 4096;

/**
 * The name and start options of a step's span, made once per step id and type and shared by
 * every first attempt's visit (a span per step visit is most of what tracing allocates; the SDK
 * copies the attributes it is given, so sharing them is safe). The flow and run are on the
 * execution's span, the parent; the attributes go in the options, where a sampler sees them.
 * Options are frozen: a tracer that would change them throws instead of mislabelling later spans.
 */
class StepSpanStarts {
  readonly #kind: OpenTelemetry.SpanKind;
  readonly #byStep = new Map<string, { stepType: string; name: string; options: OpenTelemetry.SpanOptions }>();

  constructor(api: Api) {
    this.#kind = api.SpanKind.INTERNAL;
  }

  /** The span name and options of a visit of `stepId` (of `stepType`) at `attempt`. */
  of(stepId: string, stepType: string, attempt: number): { name: string; options: OpenTelemetry.SpanOptions } {
    const known = this.#byStep.get(stepId);
    if (known !== undefined && known.stepType === stepType) return attempt === 1 ? known : { name: known.name, options: this.#options(stepId, stepType, attempt) };
    const made = { stepType, name: `step ${stepId}`, options: this.#options(stepId, stepType, 1) };
    if (this.#byStep.size >= MAX_STEP_STARTS) this.#byStep.clear();
    this.#byStep.set(stepId, made);
    return attempt === 1 ? made : { name: made.name, options: this.#options(stepId, stepType, attempt) };
  }

  #options(stepId: string, stepType: string, attempt: number): OpenTelemetry.SpanOptions {
    // Frozen: shared between spans, they must stay as made (the SDK reads them and copies).
    return Object.freeze({ kind: this.#kind, attributes: Object.freeze({ 'flowrun.step.id': stepId, 'flowrun.step.type': stepType, 'flowrun.step.attempt': attempt }) });
  }
}

/** A span's context as the W3C headers spell it. */
function traceContextOf(context: SpanContext): RunTraceContext {
  const traceparent = `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  const tracestate = context.traceState?.serialize();
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

function recordError(api: Api, span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : { message: String(error) });
  span.setStatus({ code: api.SpanStatusCode.ERROR, ...(error instanceof Error ? { message: error.message } : {}) });
}

const HEADERS_GETTER: OpenTelemetry.TextMapGetter<Headers> = {
  keys: (headers) => {
    const keys: string[] = [];
    headers.forEach((_value, key) => keys.push(key));
    return keys;
  },
  get: (headers, key) => headers.get(key) ?? undefined,
};
