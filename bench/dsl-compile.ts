/**
 * The flow language (issue 5): compile speed in lines per second for a generated 10,000-line
 * machine, and seed 001's report_generator run end to end on the memory store, compiled from
 * `examples/report-generator.flow` vs the same flow in JSON (compiled once, not per run).
 *
 *   node --import tsx bench/dsl-compile.ts [--quick]
 */
import { readFileSync } from 'node:fs';
import { compileFlow, createEngine, createMemoryStores, type FlowDefinition } from '../src/index.js';
import { markdownTable, median, readOptions } from './measure.js';

/** A machine of about `lines` lines: params, decides with branches, runs, asks, launches and flows. */
export function generatedMachine(lines: number): string {
  const out = ['// generated for the compile benchmark', 'machine bench_generated', '  accepts', '    kind as text, is required', '    data as map', '  implements'];
  const flows: string[] = [];
  let i = 0;
  while (out.length + flows.length < lines - 12) {
    out.push(
      `    compute c${i} {index: ${i}, title: "Item ${i}: " + input.data.title, ok: input.kind is "a"}`,
      `    decide d${i}`,
      `      when steps.c${i}.ok and input.kind is "a"`,
      `        run flow(f${i})`,
      `      when input.kind is "b" // a comment`,
      `        set vars.last = ${i}`,
      '      otherwise',
      `        compute e${i} "\${JSON.stringify(input.data)} #${i}"`,
    );
    flows.push(`    flow f${i}`, `      ask a${i}, using: "anthropic:claude-sonnet-4-6"`, `        with task "Summarise item ${i}"`, '        returns summary as text, score as number', `        assuming summary: "s${i}", score: ${i}`, `      compute r${i} {summary: steps.a${i}.summary}`);
    i++;
  }
  return [...out, '  flows', ...flows].join('\n');
}

/**
 * Deploys both flows once on one engine and runs them by id, alternating run by run so load
 * drift, GC and JIT state hit both alike; returns runs per second of each (time spent in its own
 * runs). By id, as a deployed machine runs: an inline definition would be validated and compared
 * with the stored version on every runAction, which measures the definition's size rather than
 * how it was written.
 */
async function interleavedRunsPerSecond(a: FlowDefinition, b: FlowDefinition, runs: number): Promise<[number, number]> {
  const engine = createEngine({ stores: createMemoryStores(), poll: false });
  const ids = [(await engine.deployFlow(a, { publish: true })).id, (await engine.deployFlow(b, { publish: true })).id];
  const input = { report_type: 'summary', data: { title: 'Q3' } };
  for (let i = 0; i < 1_000; i++) for (const flow of ids) await engine.runAction({ flow, input }); // warm-up
  const spentMs = [0, 0];
  for (let i = 0; i < runs * 2; i++) {
    const which = (i + (i >> 1)) % 2; // a b b a a b b a …: neither always runs first
    const started = performance.now();
    await engine.runAction({ flow: ids[which]!, input });
    spentMs[which]! += performance.now() - started;
  }
  await engine.close();
  return [runs / (spentMs[0]! / 1000), runs / (spentMs[1]! / 1000)];
}

/** Runs both measurements; returns a markdown section body. */
export async function benchDslCompile(options: { quick: boolean }): Promise<string> {
  const text = generatedMachine(10_000);
  const lineCount = text.split('\n').length;
  const times: number[] = [];
  let steps = 0;
  for (let rep = 0; rep < 3; rep++) compileFlow(text); // warm-up: JIT
  for (let rep = 0; rep < (options.quick ? 5 : 15); rep++) {
    const started = performance.now();
    const result = compileFlow(text, { file: 'generated.flow' });
    times.push(performance.now() - started);
    if (!result.ok) throw new Error(`the generated machine does not compile: ${result.diagnostics[0]?.message}`);
    steps = Object.keys(result.flow.actions.main!.steps).length + Object.values(result.flow.subflows ?? {}).reduce((n, s) => n + Object.keys(s.steps).length, 0);
  }
  const ms = median(times);
  const compileTable = markdownTable(
    ['lines', 'steps', 'compile ms (median)', 'min ms', 'lines/s (median)'],
    [[String(lineCount), String(steps), ms.toFixed(1), Math.min(...times).toFixed(1), Math.round(lineCount / (ms / 1000)).toLocaleString('en')]],
  );

  const compiled = compileFlow(readFileSync('examples/report-generator.flow', 'utf8'), { file: 'report-generator.flow' });
  if (!compiled.ok) throw new Error('examples/report-generator.flow does not compile');
  // Both are deployed on one engine: the JSON twin gets an id of its own.
  const json = { ...(JSON.parse(readFileSync('examples/report-generator.json', 'utf8')) as FlowDefinition), id: 'report_generator_json' };
  const runs = options.quick ? 1_000 : 5_000;
  const rows: string[][] = [];
  const flowRates: number[] = [];
  const jsonRates: number[] = [];
  for (let rep = 0; rep < (options.quick ? 2 : 5); rep++) {
    const [fromFlow, fromJson] = await interleavedRunsPerSecond(compiled.flow, json, runs);
    flowRates.push(fromFlow);
    jsonRates.push(fromJson);
  }
  rows.push(['report_generator.flow (compiled once)', String(runs), flowRates.map((r) => Math.round(r)).join(' / '), Math.round(median(flowRates)).toLocaleString('en')]);
  rows.push(['report-generator.json', String(runs), jsonRates.map((r) => Math.round(r)).join(' / '), Math.round(median(jsonRates)).toLocaleString('en')]);
  const runTable = markdownTable(['flow', 'runs per repetition', 'runs/s per repetition', 'runs/s (median)'], rows);
  return `Compiling a generated machine (compileFlow, validation included):\n\n${compileTable}\n\nseed 001 report_generator deployed once, \`summary\` branch, one engine, runAction by flow id alternating between the two, memory store:\n\n${runTable}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opt = readOptions(process.argv.slice(2));
  console.log(await benchDslCompile({ quick: opt.has('quick') }));
}
