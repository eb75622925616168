/**
 * One trace across two processes over PostgreSQL: the first starts a parent run under its own
 * span and is killed (SIGKILL) in the run's first step; the second resumes the run, executes its
 * child run and its launched run. Each process has its own in-memory exporter; the spans the two
 * export form one tree by their trace and parent ids. A run recorded without a trace context (as
 * before the upgrade) is executed too, in a trace of its own.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createEngine } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { freshPgSchema, pgSkipNote, pgUrl } from '../support/pg-schema.js';
import { only, summarize, tracedModules, type SpanSummary } from '../support/traced-flows.js';

const root = resolve(import.meta.dirname, '../..');
const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

/** Runs the first process until its run blocks in `gate`, then kills it; answers the spans it exported. */
async function startAndKill(storeSpec: string, runId: string): Promise<SpanSummary[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'flowrun-spans-')), 'spans.log');
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/traced-starter.ts'], {
    cwd: root,
    env: { ...process.env, FLOWRUN_STORE: storeSpec, FLOWRUN_SPANS_FILE: file, FLOWRUN_RUN_ID: runId },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((done) => child.on('exit', () => done()));
  const read = (): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  await vi.waitFor(() => {
    if (child.exitCode !== null) throw new Error(`the first process exited ${child.exitCode}: ${stderr}`);
    expect(read()).toMatch(/GATE[\s\S]*STARTED|STARTED[\s\S]*GATE/);
  }, { timeout: 60_000, interval: 50 });
  child.kill('SIGKILL');
  await exited;
  return read()
    .split('\n')
    .filter((line) => line.startsWith('SPAN '))
    .map((line) => JSON.parse(line.slice('SPAN '.length)) as SpanSummary);
}

describe('a trace across processes over PostgreSQL', () => {
  it.skipIf(!pgUrl)(`continues a run's trace in the process that resumes it, with its child run; its launched run links to it${pgSkipNote}`, async () => {
    const { spec, drop } = freshPgSchema('flowrun_trace');
    const runId = '0193a0c0-0000-7000-8000-00000000a001';
    try {
      const first = await startAndKill(spec, runId);
      const store = openStoreSpec(spec);
      // A run recorded untraced (as every run before the upgrade): resumed here in a trace of its own.
      const untraced = createEngine({ stores: store, poll: false, maxConcurrentRuns: 0, tracing: false });
      const { requestId: plainId } = await untraced.startRun({ flow: 'trace/launched' });
      await untraced.close();
      expect((await store.getRun(runId))?.traceContext?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

      const engine = createEngine({ stores: store, modules: tracedModules(), leaseMs: 500, pollIntervalMs: 50, workerId: 'second' });
      expect(await engine.waitForRun(runId, { timeoutMs: 60_000 })).toMatchObject({ status: 'SUCCEEDED' });
      await engine.waitForRun(plainId, { timeoutMs: 60_000 });
      const launchedId = (await store.listRuns({ flowId: 'trace/launched', limit: 10 })).runs.find((r) => r.parentRunId === runId)!.runId;
      await engine.waitForRun(launchedId, { timeoutMs: 60_000 });
      await engine.whenIdle();
      await engine.close();
      await store.close();

      // The first process: its caller's span, and the run's span under it (its execution never ended: killed).
      const caller = only(first, 'caller');
      const run = only(first, 'run trace/parent');
      expect(run).toMatchObject({ traceId: caller.traceId, parentSpanId: caller.spanId, attributes: { 'flowrun.run.id': runId } });
      expect(first.filter((s) => s.name === 'execute trace/parent')).toEqual([]);

      // The second process: every execution of the parent continues the same trace under the run's span.
      const second = exporter.getFinishedSpans().map(summarize);
      const executions = second.filter((s) => s.name === 'execute trace/parent');
      expect(executions.length).toBeGreaterThanOrEqual(2);
      for (const execution of executions) expect(execution).toMatchObject({ traceId: run.traceId, parentSpanId: run.spanId, attributes: { 'flowrun.worker.id': 'second' } });
      const gate = only(second, 'step gate');
      expect(gate.parentSpanId).toBe(executions[0]!.spanId);
      const call = only(second, 'step call');
      const child = only(second, 'run trace/child');
      expect(child).toMatchObject({ traceId: run.traceId, parentSpanId: call.spanId });
      const work = only(second, 'step work');
      expect(only(second, 'execute trace/child')).toMatchObject({ traceId: run.traceId, parentSpanId: child.spanId, spanId: work.parentSpanId });
      expect(only(second, 'app work')).toMatchObject({ traceId: run.traceId, parentSpanId: work.spanId });

      const launch = only(second, 'step launch');
      const launched = only(second, 'run trace/launched', (s) => s.attributes['flowrun.run.id'] === launchedId);
      expect(launched).toMatchObject({ parentSpanId: undefined, links: [{ traceId: run.traceId, spanId: launch.spanId }] });
      expect(launched.traceId).not.toBe(run.traceId);
      expect(only(second, 'execute trace/launched', (s) => s.attributes['flowrun.run.id'] === launchedId)).toMatchObject({ traceId: launched.traceId, parentSpanId: launched.spanId });

      expect(only(second, 'execute trace/launched', (s) => s.attributes['flowrun.run.id'] === plainId).parentSpanId).toBeUndefined();
      expect(second.some((s) => s.name === 'store commit' && s.attributes['db.system'] === 'postgresql')).toBe(true);
    } finally {
      await drop();
    }
  }, 120_000);
});
