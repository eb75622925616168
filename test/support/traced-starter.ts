/**
 * The first process of the cross-process tracing test: with an OpenTelemetry SDK whose exporter
 * appends each finished span to FLOWRUN_SPANS_FILE (synchronously, so a SIGKILL loses none that
 * ended), it starts run FLOWRUN_RUN_ID of `trace/parent` under a span of its own over the store
 * FLOWRUN_STORE, and blocks that run in its first step (`gate`) until the test kills it.
 */
import { appendFileSync } from 'node:fs';
import { context, trace } from '@opentelemetry/api';
import { NodeTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { createEngine } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { summarize, tracedFlows, tracedModules } from './traced-flows.js';

const out = process.env.FLOWRUN_SPANS_FILE!;
const exporter: SpanExporter = {
  export: (spans, done) => {
    for (const span of spans) appendFileSync(out, `SPAN ${JSON.stringify(summarize(span))}\n`);
    done({ code: 0 });
  },
  shutdown: async () => undefined,
};
new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();

const store = openStoreSpec(process.env.FLOWRUN_STORE!);
const gate = (): Promise<never> => {
  appendFileSync(out, 'GATE\n');
  return new Promise<never>(() => undefined);
};
const engine = createEngine({ stores: store, modules: tracedModules(gate), leaseMs: 500, pollIntervalMs: 50, workerId: 'first' });
for (const flow of tracedFlows) await engine.deployFlow(flow, { publish: true });
const caller = trace.getTracer('app').startSpan('caller');
await context.with(trace.setSpan(context.active(), caller), () => engine.startRun({ flow: 'trace/parent', requestId: process.env.FLOWRUN_RUN_ID! }));
caller.end();
appendFileSync(out, 'STARTED\n');
