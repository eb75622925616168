/**
 * OpenTelemetry tracing with an SDK registered (an in-memory exporter): the span tree of a parent
 * run with a retried step, a child run and a launched run; the W3C traceparent of `POST /runs` as
 * the run's parent; commit batches of a SQLite store; and flowrun without `@opentelemetry/api`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, trace, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createEngine, createFilesystemStores, createMemoryStores } from '../index.js';
import { createFlowApiRouter } from '../server/index.js';
import { only, summarize, tracedFlows, tracedModules, type SpanSummary } from '../../test/support/traced-flows.js';
import { loadOpenTelemetryTracing } from './open-telemetry-tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();
const dirs: string[] = [];

beforeEach(() => exporter.reset());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const spans = (): SpanSummary[] => exporter.getFinishedSpans().map(summarize);

describe('OpenTelemetry tracing', () => {
  it('traces a run, its steps, its child run and its launched run, under the caller\'s span', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, modules: tracedModules() });
    for (const flow of tracedFlows) await engine.deployFlow(flow, { publish: true });
    const caller = trace.getTracer('app').startSpan('caller');
    const result = await context.with(trace.setSpan(context.active(), caller), () => engine.runAction({ flow: 'trace/parent' }));
    caller.end();
    expect(result.status).toBe('SUCCEEDED');
    await engine.whenIdle();
    await engine.close();

    const all = spans();
    const root = caller.spanContext();
    const run = only(all, 'run trace/parent');
    expect(run).toMatchObject({ traceId: root.traceId, parentSpanId: root.spanId, attributes: { 'flowrun.run.id': result.requestId, 'flowrun.flow.id': 'trace/parent', 'flowrun.action': 'main' } });
    expect((await engine.getRun(result.requestId)).traceContext?.traceparent).toBe(`00-${run.traceId}-${run.spanId}-01`);
    // Two executions: up to the call (the run then waits for its child without a worker), and after it.
    const executions = all.filter((s) => s.name === 'execute trace/parent');
    expect(executions).toHaveLength(2);
    for (const execution of executions) expect(execution).toMatchObject({ traceId: root.traceId, parentSpanId: run.spanId });
    expect(executions.map((e) => e.attributes['flowrun.run.status'])).toEqual(['ACTIVE', 'SUCCEEDED']);

    // The retry without backoff is an event of the flaky step's one span.
    const flaky = only(all, 'step flaky');
    expect(flaky).toMatchObject({ parentSpanId: executions[0]!.spanId, events: ['retry'], attributes: { 'flowrun.step.type': 'MODULE', 'flowrun.step.attempt': 2 } });

    const call = only(all, 'step call');
    const child = only(all, 'run trace/child');
    expect(child).toMatchObject({ traceId: root.traceId, parentSpanId: call.spanId });
    const childExecution = only(all, 'execute trace/child');
    expect(childExecution.parentSpanId).toBe(child.spanId);
    const work = only(all, 'step work');
    expect(work.parentSpanId).toBe(childExecution.spanId);
    // A module's own spans nest under its step's.
    expect(only(all, 'app work')).toMatchObject({ traceId: root.traceId, parentSpanId: work.spanId });

    // A launched run begins a trace of its own, linked to the step that launched it.
    const launch = only(all, 'step launch');
    const launched = only(all, 'run trace/launched');
    expect(launched.traceId).not.toBe(root.traceId);
    expect(launched.parentSpanId).toBeUndefined();
    expect(launched.links).toEqual([{ traceId: root.traceId, spanId: launch.spanId }]);
    expect(only(all, 'execute trace/launched')).toMatchObject({ traceId: launched.traceId, parentSpanId: launched.spanId });
    expect(only(all, 'step finish').parentSpanId).toBe(executions[1]!.spanId);
  });

  it('starts a run an event started in a trace of its own, linked to the span that published the event', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false });
    await engine.deployFlow({ ...tracedFlows[1]!, id: 'trace/on-event', subscriptions: [{ on: 'order.created', run: 'main' }] }, { publish: true });
    const publisher = trace.getTracer('app').startSpan('publisher');
    const published = await context.with(trace.setSpan(context.active(), publisher), () => engine.publishEvent('order.created', { id: 1 }));
    publisher.end();
    await engine.waitForRun(published.runIds[0]!);
    await engine.close();
    const run = only(spans(), 'run trace/on-event');
    expect(run.traceId).not.toBe(publisher.spanContext().traceId);
    expect(run).toMatchObject({ parentSpanId: undefined, links: [{ traceId: publisher.spanContext().traceId, spanId: publisher.spanContext().spanId }], attributes: { 'flowrun.run.source': 'event' } });
    expect(only(spans(), 'execute trace/on-event').parentSpanId).toBe(run.spanId);
  });

  it('records a failed step and a failed run as errors', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, modules: { boom: () => Promise.reject(new Error('boom')) } });
    await engine.deployFlow({ id: 'trace/fails', actions: { main: { startAt: 'b', steps: { b: { stepType: 'MODULE', moduleIdentifier: 'boom' } } } } }, { publish: true });
    expect((await engine.runAction({ flow: 'trace/fails' })).status).toBe('FAILED');
    await engine.close();
    const all = spans();
    expect(only(all, 'step b')).toMatchObject({ status: SpanStatusCode.ERROR, events: ['exception'] });
    expect(only(all, 'execute trace/fails')).toMatchObject({ status: SpanStatusCode.ERROR, attributes: { 'flowrun.run.status': 'FAILED' } });
  });

  // With its length declared, as serve() hands a body over, POST /runs takes the router's direct path (direct-start.ts).
  it.each(['declared', 'not declared'])('makes the traceparent of POST /runs the parent of the run\'s span, through the request\'s server span (body length %s)', async (length) => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, modules: tracedModules() });
    for (const flow of tracedFlows) await engine.deployFlow(flow, { publish: true });
    const router = createFlowApiRouter({ engine, authenticate: async () => ({ userId: 'ada' }) });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const body = JSON.stringify({ flowId: 'trace/launched', wait: true });
    const response = await router.fetch(
      new Request('http://flowrun.test/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-00f067aa0ba902b7-01`, ...(length === 'declared' ? { 'content-length': String(body.length) } : {}) },
        body,
      }),
    );
    expect(response.status).toBe(200);
    // The trace context stays with the processes: the API's run has none.
    expect(((await response.json()) as { run: Record<string, unknown> }).run).not.toHaveProperty('traceContext');
    await engine.whenIdle();
    await engine.close();
    const all = spans();
    const server = only(all, 'POST /runs');
    expect(server).toMatchObject({ traceId, parentSpanId: '00f067aa0ba902b7', attributes: { 'http.route': '/runs', 'http.response.status_code': 200 } });
    expect(only(all, 'run trace/launched')).toMatchObject({ traceId, parentSpanId: server.spanId });
    expect(only(all, 'execute trace/launched').traceId).toBe(traceId);
  });

  it('traces each commit batch of a SQLite store once, with its size, however many engines share the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowrun-otel-'));
    dirs.push(dir);
    const stores = createFilesystemStores({ rootDir: dir });
    const engine = createEngine({ stores, poll: false, modules: tracedModules() });
    const other = createEngine({ stores, poll: false });
    for (const flow of tracedFlows) await engine.deployFlow(flow, { publish: true });
    const before = stores.stats.commits;
    exporter.reset();
    await engine.runAction({ flow: 'trace/parent' });
    await engine.whenIdle();
    const commits = spans().filter((s) => s.name === 'store commit');
    expect(commits).toHaveLength(stores.stats.commits - before);
    expect(commits[0]!.attributes).toMatchObject({ 'db.system': 'sqlite', 'flowrun.store.batch_size': expect.any(Number) });
    expect(commits.reduce((sum, s) => sum + (s.attributes['flowrun.store.batch_size'] as number), 0)).toBeGreaterThanOrEqual(commits.length);
    // The batch that records a step's transition is a child of that step's span.
    const flaky = only(spans(), 'step flaky');
    expect(commits.some((s) => s.parentSpanId === flaky.spanId)).toBe(true);
    await other.close();
    await engine.close();
    await stores.close();
  });

  it('records nothing and no trace context when asked to trace nothing', async () => {
    const engine = createEngine({ stores: createMemoryStores(), poll: false, tracing: false, modules: tracedModules() });
    for (const flow of tracedFlows) await engine.deployFlow(flow, { publish: true });
    const result = await engine.runAction({ flow: 'trace/parent' });
    expect(result.status).toBe('SUCCEEDED');
    await engine.whenIdle();
    await engine.close();
    // The module's own span is all there is: a root, as in an untraced program.
    expect(spans().map((s) => [s.name, s.parentSpanId])).toEqual([['app work', undefined]]);
    expect((await engine.getRun(result.requestId)).traceContext).toBeUndefined();
  });

  it('is off, and runs still run, when @opentelemetry/api is not installed', async () => {
    const missing = (): never => {
      throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
    };
    expect(loadOpenTelemetryTracing({ load: missing })).toBeUndefined();
    expect(() => loadOpenTelemetryTracing({ load: () => { throw new SyntaxError('broken install'); } })).toThrow('broken install');
  });
});
