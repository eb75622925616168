/**
 * Hostile flows against a real `flowrun serve` (SQLite, default budgets), over HTTP only (issue 12):
 * - a user's 3-step run, p50/p99 latency from POST /runs (wait) to its answer, on an idle server
 *   and while another user runs the three attacks below at once; `/health` p99 meanwhile;
 * - each attack alone on a fresh server: peak RSS of the server (VmHWM) and store growth (SQLite
 *   file + WAL), and what became of the attacking run.
 * The attacks: a value that doubles itself (issue item 1), a self-launching flow (item 2), and a
 * goto loop writing an output (item 7). `npm run bench -- --only hostile`.
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fmt, latencySummary, markdownTable, sleep } from './measure.js';
import { DOUBLING_FLOW, FORK_FLOW, OUTPUT_LOOP_FLOW } from '../test/support/hostile-flows.js';
import { freshSqliteSpec, issueToken, startServeProcess, type ServeProcess } from '../test/support/serve-process.js';

const VICTIM_FLOW = {
  id: 'v/three',
  actions: {
    main: {
      params: { n: { type: 'number' } },
      startAt: 'a',
      steps: {
        a: { stepType: 'COMPUTE', expression: 'input.n + 1', defaultNextStepInstanceId: 'b' },
        b: { stepType: 'COMPUTE', expression: 'steps.a * 2', defaultNextStepInstanceId: 'c' },
        c: { stepType: 'COMPUTE', expression: '{n: steps.b}' },
      },
    },
  },
};

const ATTACKS = [
  { name: 'doubling value (item 1)', flow: DOUBLING_FLOW, input: { k: 28 } },
  { name: 'self-launching flow (item 2)', flow: FORK_FLOW, input: {} },
  { name: 'goto loop writing an output (item 7)', flow: OUTPUT_LOOP_FLOW, input: {} },
] as const;

interface Server {
  serve: ServeProcess;
  dbPath: string;
  alice: string;
  mallory: string;
}

/** Preloaded into every server: notes event-loop gaps (and CPU profiles on SIGUSR2), see loop-gap-probe.mjs. */
const PROBE = new URL('./loop-gap-probe.mjs', import.meta.url).href;

async function startServer(serveArgs: string[], probe: { gapsFile?: string; profileFile?: string } = {}): Promise<Server> {
  const store = freshSqliteSpec();
  const env: NodeJS.ProcessEnv = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${PROBE}`.trim() };
  if (probe.gapsFile) env.FLOWRUN_BENCH_LOOP_GAPS = probe.gapsFile;
  if (probe.profileFile) env.FLOWRUN_BENCH_CPU_PROFILE = probe.profileFile;
  const serve = await startServeProcess({ store, args: serveArgs, env, timeoutMs: 60_000 });
  const [alice, mallory] = [await issueToken(store, 'alice'), await issueToken(store, 'mallory')];
  const deployed = await serve.json('POST', '/flows', { body: { definition: VICTIM_FLOW, publish: true } });
  if (deployed.status >= 300) throw new Error(`deploy v/three: ${deployed.status} ${JSON.stringify(deployed.body)}`);
  for (const attack of ATTACKS) {
    const r = await serve.json('POST', '/flows', { token: mallory, body: { definition: attack.flow, publish: true } });
    if (r.status >= 300) throw new Error(`deploy ${attack.flow.id}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  return { serve, dbPath: store.slice('sqlite:'.length), alice, mallory };
}

function storeBytes(dbPath: string): number {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += statSync(dbPath + suffix).size;
    } catch {
      // no WAL yet
    }
  }
  return total;
}

/** Pings /health every `everyMs` until stopped; returns the latencies (ms) and the failures. */
function healthSampler(serve: ServeProcess, everyMs = 25): { stop(): Promise<{ latencies: Float64Array; failures: number }> } {
  const latencies: number[] = [];
  let failures = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const response = await fetch(`${serve.url}/health`, { signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        if (!response.ok) failures++;
      } catch {
        failures++;
      }
      latencies.push(performance.now() - t0);
      await sleep(everyMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { latencies: Float64Array.from(latencies), failures };
    },
  };
}

/** The on-CPU time (ms) of process `pid`'s main thread, its event loop, so far, from /proc (Linux); NaN elsewhere. */
function loopCpuMsOf(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return Number.NaN;
  }
}

/** Alice's 3-step runs one after the other for `ms`, each started with `wait: true`, 20 ms apart; latencies in ms. */
async function victimRuns(s: Server, ms: number, trace?: { file: string; window: string }): Promise<{ latencies: Float64Array; failed: number; serverCpuMs: Float64Array }> {
  let failed = 0;
  const latencies: number[] = [];
  // The server's event-loop CPU while each run was pending: the work done before answering it,
  // whatever else the machine ran meanwhile (a shared machine stretches the wall time, not this).
  const serverCpuMs: number[] = [];
  const end = performance.now() + ms;
  for (let i = 0; performance.now() < end; i++) {
    const [t0, startedAt, cpu0] = [performance.now(), Date.now(), loopCpuMsOf(s.serve.pid)];
    const r = await s.serve.json('POST', '/runs', { token: s.alice, body: { flowId: 'v/three', input: { n: i }, wait: true } });
    latencies.push(performance.now() - t0);
    serverCpuMs.push(loopCpuMsOf(s.serve.pid) - cpu0);
    if (trace) appendFileSync(trace.file, `${trace.window} ${startedAt} ${(performance.now() - t0).toFixed(2)}\n`);
    if ((r.status !== 201 && r.status !== 200) || r.body?.run?.status !== 'SUCCEEDED') failed++;
    await sleep(20); // about 40 starts a second: within alice's start rate (maxStartsPerSecond, 100)
  }
  return { latencies: Float64Array.from(latencies).sort(), failed, serverCpuMs: Float64Array.from(serverCpuMs) };
}

async function startAttack(s: Server, attack: (typeof ATTACKS)[number]): Promise<string> {
  const r = await s.serve.json('POST', '/runs', { token: s.mallory, body: { flowId: attack.flow.id, input: attack.input } });
  if (r.status !== 201) throw new Error(`start ${attack.flow.id}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.run.runId as string;
}

function countRuns(dbPath: string, flowId: string): { runs: number; events: number } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const runs = (db.prepare('SELECT count(*) AS n FROM flowrun_runs WHERE flow_id = ?').get(flowId) as { n: number }).n;
    const events = (db.prepare('SELECT count(*) AS n FROM flowrun_run_events WHERE run_id IN (SELECT run_id FROM flowrun_runs WHERE flow_id = ?)').get(flowId) as { n: number }).n;
    return { runs, events };
  } finally {
    db.close();
  }
}

/** The largest event-loop gap (ms) the probe noted between `from` and `to` (epoch ms). */
function largestGap(gapsFile: string, from: number, to: number): number {
  if (!existsSync(gapsFile)) return 0;
  let largest = 0;
  for (const line of readFileSync(gapsFile, 'utf8').split('\n')) {
    const [at, gap] = line.split(' ').map(Number);
    if (at !== undefined && gap !== undefined && at >= from && at <= to + gap) largest = Math.max(largest, gap);
  }
  return largest;
}

/** The garbage collector's pauses the probe noted between `from` and `to` (epoch ms): their sum and the longest, ms. */
function gcPauses(gapsFile: string, from: number, to: number): { totalMs: number; maxMs: number } {
  const file = `${gapsFile}.gc`;
  let totalMs = 0;
  let maxMs = 0;
  if (!existsSync(file)) return { totalMs, maxMs };
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [at, ms] = line.split(' ').map(Number);
    if (at === undefined || ms === undefined || !(at >= from && at <= to)) continue;
    totalMs += ms;
    maxMs = Math.max(maxMs, ms);
  }
  return { totalMs, maxMs };
}

/** The figures of one run of the victim scenario (for bench/hostile-ab.ts). */
export interface VictimFigures {
  idleP50: number;
  idleP99: number;
  idleRuns: number;
  loadP50: number;
  loadP99: number;
  loadRuns: number;
  loadFailed: number;
  ratio: number;
  healthIdleP99: number;
  healthLoadP99: number;
  idleGapMs: number;
  loadGapMs: number;
  /** The garbage collector's pauses in the idle and the attack window: sum and longest, ms. */
  gcIdleMs: number;
  gcLoadMs: number;
  gcLoadMaxMs: number;
  /** The server's event-loop CPU (ms, its main thread's) while a victim run was pending: p99 idle and under attack (older bench files: absent). */
  cpuIdleP99?: number;
  cpuLoadP99?: number;
}

/**
 * Runs the scenarios; returns the markdown tables. `serveArgs` go to every `flowrun serve` (e.g.
 * `['--budget', 'maxRunsPerTree=10000']` to see what a budget's default buys).
 */
export async function benchHostile(options: { quick: boolean; serveArgs?: string[]; victimOnly?: boolean; attacks?: string[]; profileFile?: string; traceFile?: string; figures?: (f: VictimFigures) => void }): Promise<string> {
  const serveArgs = options.serveArgs ?? [];
  // The attacks run under the victim's runs: all three, or those named (flow ids), to see what each costs.
  const attacks = options.attacks ? ATTACKS.filter((a) => options.attacks!.includes(a.flow.id)) : ATTACKS;
  const victimMs = options.quick ? 5_000 : 15_000;
  const attackMs = options.quick ? 8_000 : 20_000;

  // Each attack alone, on a fresh server: memory and store growth.
  const alone: string[][] = [];
  for (const attack of options.victimOnly ? [] : ATTACKS) {
    const gapsFile = join(mkdtempSync(join(tmpdir(), 'flowrun-gaps-')), 'gaps.txt');
    const s = await startServer(serveArgs, { gapsFile });
    try {
      const before = storeBytes(s.dbPath);
      const from = Date.now();
      const health = healthSampler(s.serve);
      const runId = await startAttack(s, attack);
      let peakRss = 0;
      const deadline = performance.now() + attackMs;
      while (performance.now() < deadline) {
        peakRss = Math.max(peakRss, s.serve.memoryMb()?.rss ?? 0);
        await sleep(100);
      }
      const during = latencySummary((await health.stop()).latencies);
      const to = Date.now();
      await sleep(150); // the probe appends its gaps every 100 ms
      const run = await s.serve.json('GET', `/runs/${runId}`, { token: s.mallory });
      const after = await s.serve.request('GET', '/health', { token: null }).then((r) => r.status, () => 'down');
      const counts = countRuns(s.dbPath, attack.flow.id);
      const growth = (storeBytes(s.dbPath) - before) / 2 ** 20;
      alone.push([
        attack.name,
        `${run.body?.run?.status ?? run.status}${run.body?.run?.runError ? ` ${run.body.run.runError.code}` : ''}`,
        fmt(peakRss),
        fmt(s.serve.memoryMb()?.peak ?? NaN),
        fmt(growth),
        String(counts.runs),
        String(counts.events),
        fmt(during.p99),
        String(after),
        fmt(largestGap(gapsFile, from, to)),
      ]);
    } finally {
      await s.serve.kill();
    }
  }

  // The victim's runs, idle and under all three attacks at once, on one server.
  // Beside the profile when there is one: its samples at each gap's time say what held the loop.
  const gapsFile = options.profileFile ? `${options.profileFile}.gaps` : options.traceFile ? `${options.traceFile}.gaps` : join(mkdtempSync(join(tmpdir(), 'flowrun-gaps-')), 'gaps.txt');
  const s = await startServer(serveArgs, { gapsFile, ...(options.profileFile ? { profileFile: options.profileFile } : {}) });
  let latencyRows: string[][];
  try {
    const idleFrom = Date.now();
    const idleHealth = healthSampler(s.serve);
    const idle = await victimRuns(s, victimMs, options.traceFile ? { file: options.traceFile, window: 'idle' } : undefined);
    const idleH = await idleHealth.stop();
    const idleTo = Date.now();
    // The victim's runs begin as the attacks do: the fork bomb's growth, the doubling and the loop all fall in the window.
    if (options.profileFile) {
      process.kill(s.serve.pid, 'SIGUSR2');
      await sleep(300); // starting the profiler holds the loop itself: outside the window
    }
    const loadFrom = Date.now();
    const loadHealth = healthSampler(s.serve);
    for (const attack of attacks) await startAttack(s, attack);
    const loaded = await victimRuns(s, victimMs, options.traceFile ? { file: options.traceFile, window: 'attack' } : undefined);
    const loadH = await loadHealth.stop();
    const loadTo = Date.now();
    if (options.profileFile) process.kill(s.serve.pid, 'SIGUSR2');
    await sleep(300); // the probe appends its gaps every 100 ms (and writes the profile)
    const gaps = { idle: largestGap(gapsFile, idleFrom, idleTo), load: largestGap(gapsFile, loadFrom, loadTo) };
    const gc = { idle: gcPauses(gapsFile, idleFrom, idleTo), load: gcPauses(gapsFile, loadFrom, loadTo) };
    const row = (name: string, runs: { latencies: Float64Array; failed: number }, h: { latencies: Float64Array; failures: number }, gap: number, pauses: { totalMs: number; maxMs: number }): string[] => {
      const l = latencySummary(runs.latencies);
      const hl = latencySummary(h.latencies);
      return [name, String(runs.latencies.length), String(runs.failed), fmt(l.p50), fmt(l.p99), String(h.latencies.length), String(h.failures), fmt(hl.p50), fmt(hl.p99), fmt(gap), `${fmt(pauses.totalMs)} / ${fmt(pauses.maxMs)}`];
    };
    const idleRow = row('idle', idle, idleH, gaps.idle, gc.idle);
    const loadRow = row(attacks === ATTACKS ? 'under items 1, 2 and 7 at once' : `under ${attacks.map((a) => a.flow.id).join(', ')}`, loaded, loadH, gaps.load, gc.load);
    const ratio = latencySummary(loaded.latencies).p99 / latencySummary(idle.latencies).p99;
    latencyRows = [idleRow, loadRow, ['p99 under load ÷ idle', '', '', '', `${fmt(ratio)}×`, '', '', '', '', '', '']];
    const [l0, l1, h0, h1] = [latencySummary(idle.latencies), latencySummary(loaded.latencies), latencySummary(idleH.latencies), latencySummary(loadH.latencies)];
    options.figures?.({
      idleP50: l0.p50, idleP99: l0.p99, idleRuns: idle.latencies.length,
      loadP50: l1.p50, loadP99: l1.p99, loadRuns: loaded.latencies.length, loadFailed: loaded.failed,
      ratio, healthIdleP99: h0.p99, healthLoadP99: h1.p99, idleGapMs: gaps.idle, loadGapMs: gaps.load,
      gcIdleMs: gc.idle.totalMs, gcLoadMs: gc.load.totalMs, gcLoadMaxMs: gc.load.maxMs,
      cpuIdleP99: latencySummary(idle.serverCpuMs).p99, cpuLoadP99: latencySummary(loaded.serverCpuMs).p99,
    });
  } finally {
    await s.serve.kill();
  }

  return [
    `A fresh \`flowrun serve\` (SQLite file, ${serveArgs.length ? `\`${serveArgs.join(' ')}\`` : 'default budgets'}, from source with tsx) per table; for ${victimMs / 1000} s idle, then for ${victimMs / 1000} s from the moment mallory starts the three attacks, alice starts \`v/three\` (3 COMPUTE steps) over HTTP with \`wait: true\`, one at a time, 20 ms apart; \`/health\` is pinged every 25 ms meanwhile; the largest loop gap is how late a 2 ms interval in the server came, the GC pauses what the server's \`PerformanceObserver\` saw of the garbage collector in the window (bench/loop-gap-probe.mjs). Goals: p99 under load within 3× idle; \`/health\` p99 < 100 ms.`,
    '',
    markdownTable(['server', 'runs', 'failed', 'p50 ms', 'p99 ms', 'health pings', 'health failures', 'health p50 ms', 'health p99 ms', 'largest loop gap ms', 'GC pauses ms (sum / longest)'], latencyRows),
    '',
    ...(options.victimOnly ? [] : [
    `Each attack alone for ${attackMs / 1000} s on a fresh server, started by mallory over HTTP. Goal: RSS < 512 MB; store growth bounded by the budgets.`,
    '',
    markdownTable(['attack', 'attacking run', 'peak RSS MB (sampled)', 'peak RSS MB (VmHWM)', 'store growth MB', 'runs of the flow', 'stored events', '/health p99 ms during', '/health after', 'largest loop gap ms'], alone),
    ]),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // node --import tsx bench/hostile.ts [--quick] [--victim-only] [--json] [--attacks m/dag,m/fork,m/outloop] [--profile FILE] [--trace FILE] [--budget NAME=VALUE …]:
  // --victim-only skips the attacks alone; --json prints the victim figures as one JSON line last;
  // --attacks runs only the attacks named (flow ids) under the victim's runs;
  // --profile writes a CPU profile of the server during the attacks; --trace appends each victim run
  // ("idle|attack <start epoch ms> <latency ms>") to FILE, beside the probe's gaps (FILE.gaps, FILE.gaps.gc)
  // when there is no profile; the other flags go to flowrun serve.
  const argv = process.argv.slice(2);
  const valueOf = (flag: string): string | undefined => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : undefined);
  const [profileFile, traceFile, attacks] = [valueOf('--profile'), valueOf('--trace'), valueOf('--attacks')];
  const ours = new Set(['--quick', '--victim-only', '--json']);
  const valued = new Set(['--profile', '--trace', '--attacks']);
  const serveArgs = argv.filter((a, i) => !ours.has(a) && !valued.has(a) && !valued.has(argv[i - 1] ?? ''));
  let figures: VictimFigures | undefined;
  console.log(await benchHostile({ quick: argv.includes('--quick'), serveArgs, victimOnly: argv.includes('--victim-only'), ...(attacks ? { attacks: attacks.split(',') } : {}), ...(profileFile ? { profileFile } : {}), ...(traceFile ? { traceFile } : {}), figures: (f) => (figures = f) }));
  if (argv.includes('--json')) console.log(JSON.stringify(figures));
}
