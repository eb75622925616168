/**
 * What the engine asks of a tracer, in its own words: core imports no tracing library, so the
 * OpenTelemetry adapter (src/tracing/open-telemetry-tracing.ts) implements these interfaces and
 * `createEngine` hands it in when `@opentelemetry/api` is installed. Every method is cheap when
 * nothing records: the engine asks for an execution's trace once per claim, and does nothing more
 * for that execution when it gets null.
 */
import type { NewRun, RunRecord, RunStatus } from './run.js';
import type { CommitObserver } from './commit-observer.js';

/**
 * The W3C trace context recorded with a run (`traceparent` and `tracestate` as their HTTP headers
 * spell them): the span every execution of the run, in any process, hangs under.
 */
export interface RunTraceContext {
  traceparent: string;
  tracestate?: string;
}

/** The engine's tracer; as a {@link CommitObserver}, it traces the store's commit batches (`store commit`). Implementations never throw into the engine. */
export interface Tracing extends CommitObserver {
  /**
   * A run was built and is about to be created: records its span (`run <flowId>`) and returns the
   * trace context to store with it, or undefined when nothing records. A run called from a step
   * (a child run) or started where a span is active becomes that span's child; a launched run and
   * one an event or a schedule started begin a trace of their own, linked to the active span.
   */
  runCreated(run: NewRun): RunTraceContext | undefined;
  /** Starts the span of one execution of a claimed run in this process (`execute <flowId>`); null when nothing records. */
  executionStarted(run: RunRecord, workerId: string): ExecutionTrace | null;
  /**
   * Runs `handle` inside a server span for an HTTP request whose parent is the request's
   * `traceparent` (when the registered propagator reads it); `route()` names the route pattern
   * once it is known.
   */
  serveHttp(request: Request, handle: () => Promise<Response>, route: () => string | undefined): Promise<Response>;
  /**
   * Optional: records the server span of an HTTP request already answered in its own turn, without
   * a promise (the router's cached `GET /runs/{id}`): the span {@link serveHttp} would make, from
   * `startTime` (ms since the epoch) to now. A tracer without it gets every request through `serveHttp`.
   */
  servedHttp?(request: Request, status: number, route: string, startTime: number): void;
}

/**
 * The trace of one execution of a run: its step visits and how it stopped. A visit is
 * `stepStarted`, then the calls that must see the step's span as the active one, each made through
 * `inStep` (a module's call, the runs a step starts, the commit recording it), then `stepEnded`.
 * The engine's own bookkeeping runs outside it, and no closure wraps the visit's awaits: tracing
 * adds no promise to a step (each costs more once an SDK's context manager has turned on Node's
 * promise hooks).
 */
export interface ExecutionTrace {
  /**
   * A visit of step `stepId` (of type `stepType`, its `attempt`, at the run's step sequence number
   * `stepSeq` and frame depth `depth`) begins: opens its span. A visit that repeats the step at once
   * (a retry without backoff: the same step, sequence number and frame depth) continues the open
   * span. Positional, so a visit allocates nothing of its own to say so.
   */
  stepStarted(stepId: string, stepType: string, attempt: number, stepSeq: number, depth: number): void;
  /**
   * Calls `fn(...args)` inside the span of the step being visited (the execution's between visits)
   * and returns what it returns, so what `fn` starts, and the promises it makes until they settle,
   * see that span as the active one. No closure is needed: the arguments are passed through.
   */
  inStep<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): T;
  /** The visit ended (`error`: it threw): the step's span ends, unless the step is retried at once. */
  stepEnded(error?: unknown): void;
  /** The step being visited failed: `decision` says what the engine does about it (a retry is an event on the step's span). */
  stepFailed(error: { code: string; message: string }, decision: 'retry' | 'catch' | 'fail', delayMs?: number): void;
  /** The execution stopped: the run ended with `status`, or waits (ACTIVE or INACTIVE) to be resumed. */
  ended(status: RunStatus, error?: { code: string; description: string } | null): void;
}
