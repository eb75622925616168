/**
 * One measurement of the peer comparison, in a fresh process; prints ONE JSON line (or
 * `{"skipped": reason}` when the engine cannot run here). Driven by peers.ts.
 *
 *   node --expose-gc --import tsx bench/peers-runner.ts --engine dbos --workload parent64 --secs 2
 *
 * Workloads (see peer-workloads.ts): `parent1` — parents one after the other (latency);
 * `steps100` — runs of 100 sequential steps one after the other; `parent64` — batches of 1,000
 * parents, 64 in flight (closed loop). Each starts with a warm-up, then measures for `--secs`
 * (at least 5 parents, 3 runs or one batch).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedLoop, r3, readOptions } from './measure.js';
import { PEER_ENGINES } from './peer-engines.js';
import { PeerSkipped, checkResult, type PeerEngine } from './peer-workloads.js';

const opt = readOptions(process.argv.slice(2));
const name = opt.get('engine', 'flowrun-memory');
const workload = opt.get('workload', 'parent1');
const secs = opt.num('secs', 2);
const entry = PEER_ENGINES[name];
if (!entry) throw new Error(`unknown --engine ${name}; choose from ${Object.keys(PEER_ENGINES).join(', ')}`);
if (!['parent1', 'steps100', 'parent64'].includes(workload)) throw new Error(`unknown --workload ${workload}`);

const workDir = mkdtempSync(join(tmpdir(), 'flowrun-peers-'));
process.once('exit', () => rmSync(workDir, { recursive: true, force: true, maxRetries: 3 }));
let engine: Awaited<ReturnType<typeof entry.make>>;
try {
  engine = await entry.make({ stepsPerRun: 100, workDir });
} catch (error) {
  if (!(error instanceof PeerSkipped)) throw error;
  process.stdout.write(`${JSON.stringify({ engine: name, workload, skipped: error.message })}\n`);
  process.exit(0);
}

const parentS = (engine as PeerEngine).parentS ?? 5;
const stepsPerUnit = workload === 'steps100' ? 100 : 5;
/** One unit of the workload (a parent, a 100-step run, or a batch of parents 64 at a time); pushes each parent's or run's latency. */
const unit = async (k: number, latencies: number[], size = 1000): Promise<number> => {
  const a = performance.now();
  if (workload === 'steps100') checkResult(name, await engine.steps(k, null), 100, k);
  else if (workload === 'parent1') checkResult(name, await engine.parent(k), parentS, k);
  else {
    const batch = await closedLoop(size, 64, async (j) => checkResult(name, await engine.parent(k * size + j), parentS, k * size + j));
    latencies.push(...batch);
    return size;
  }
  latencies.push(performance.now() - a);
  return 1;
};

/** Runs units until `ms` passed and at least `minUnits` ran. */
async function phase(ms: number, minUnits: number, first: number): Promise<{ runs: number; ms: number; latencies: number[] }> {
  const latencies: number[] = [];
  let runs = 0;
  let k = first;
  const t0 = performance.now();
  while (performance.now() - t0 < ms || k - first < minUnits) runs += await unit(k++, latencies);
  return { runs, ms: performance.now() - t0, latencies };
}

if (workload === 'parent64') await unit(1_000_000, [], 128);
else await phase(Math.max(300, (secs * 1000) / 3), 3, 1_000_000);
(globalThis as { gc?: () => void }).gc?.();
const cpu0 = process.cpuUsage();
const m = await phase(secs * 1000, workload === 'parent64' ? 1 : workload === 'steps100' ? 3 : 5, 0);
const cpu = process.cpuUsage(cpu0);
const sorted = m.latencies.sort((a, b) => a - b);
const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
const out = {
  engine: name,
  workload,
  durability: engine.durability,
  runs: m.runs,
  wall_s: r3(m.ms / 1000),
  runs_per_s: r3(m.runs / (m.ms / 1000)),
  us_per_step: r3((m.ms * 1000) / (m.runs * stepsPerUnit)),
  node_cpu_us_per_run: r3((cpu.user + cpu.system) / m.runs),
  // A parent's (or a 100-step run's) latency, start to result.
  p50_ms: r3(pct(50)),
  p99_ms: r3(pct(99)),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
};
await engine.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
