/**
 * The flows and modules of the tracing tests: a parent that retries a flaky step, calls a child
 * flow and launches a third, and modules that open spans of their own (user instrumentation); plus
 * a plain summary of finished spans that two processes can compare.
 */
import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { FlowDefinition, Module } from '../../src/index.js';

/** Called by the parent: one module step that opens a span of its own. */
export const childFlow: FlowDefinition = {
  id: 'trace/child',
  actions: { main: { startAt: 'work', steps: { work: { stepType: 'MODULE', moduleIdentifier: 'trace/work' } } } },
};

/** Launched by the parent (and started on its own by some tests): one COMPUTE step. */
export const launchedFlow: FlowDefinition = {
  id: 'trace/launched',
  actions: { main: { startAt: 'note', steps: { note: { stepType: 'COMPUTE', expression: '{launched: true}' } } } },
};

/** gate (a module: the two-process test blocks it in the first process) → flaky (fails once, retried at once) → call → launch → finish. */
export const parentFlow: FlowDefinition = {
  id: 'trace/parent',
  actions: {
    main: {
      startAt: 'gate',
      steps: {
        gate: { stepType: 'MODULE', moduleIdentifier: 'trace/gate', defaultNextStepInstanceId: 'flaky' },
        flaky: { stepType: 'MODULE', moduleIdentifier: 'trace/flaky', retry: { maxAttempts: 2, backoffMs: 0 }, defaultNextStepInstanceId: 'call' },
        call: { stepType: 'RUN_FLOW', flowDefinitionId: 'trace/child', defaultNextStepInstanceId: 'launch' },
        launch: { stepType: 'RUN_FLOW', flowDefinitionId: 'trace/launched', async: true, defaultNextStepInstanceId: 'finish' },
        finish: { stepType: 'COMPUTE', expression: '{done: true}' },
      },
    },
  },
};

/** Every flow above, to deploy. */
export const tracedFlows = [childFlow, launchedFlow, parentFlow];

/** The modules; `gate` is the first step's (default: passes at once). */
export function tracedModules(gate: Module = () => ({ passed: true })): Record<string, Module> {
  return {
    'trace/gate': gate,
    'trace/flaky': (_input, ctx) => {
      if (ctx.attempt === 1) throw new Error('flaky the first time');
      return { attempt: ctx.attempt };
    },
    // User instrumentation inside a module: its span must be a child of the step's.
    'trace/work': () => trace.getTracer('app').startActiveSpan('app work', (span) => {
      span.end();
      return { worked: true };
    }),
  };
}

/** A finished span as plain data: ids, parent, links, attributes and event names. */
export interface SpanSummary {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
  events: string[];
  status: number;
}

/** The summary of a finished span (what the exporters of both processes write). */
export function summarize(span: ReadableSpan): SpanSummary {
  const context = span.spanContext();
  return {
    name: span.name,
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
    attributes: { ...span.attributes },
    events: span.events.map((event) => event.name),
    status: span.status.code,
  };
}

/** The one span named `name` (fails naming what there is otherwise). */
export function only(spans: SpanSummary[], name: string, where: (span: SpanSummary) => boolean = () => true): SpanSummary {
  const found = spans.filter((span) => span.name === name && where(span));
  if (found.length !== 1) throw new Error(`expected one span "${name}", found ${found.length} among ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}
