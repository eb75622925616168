/**
 * One measurement of cost growth, in a fresh process; prints ONE JSON line (or `{"skipped":
 * reason}`). Driven by growth.ts.
 *
 *   node --expose-gc --import tsx bench/growth-runner.ts --engine flowrun-sqlite-full --steps 100 --input-kib 1024 --secs 2
 *
 * Runs, one after the other, of `--steps` sequential steps whose input carries a payload of
 * `--input-kib` KiB that no step reads (peer-workloads.ts); a warm-up, then at least `--secs` and
 * `--min-runs` (2) runs. Reports µs per step and the bytes written per step: by this process (`/proc/self/io`
 * write_bytes — the SQLite stores' files) and, for the engines on PostgreSQL, by the server (the
 * WAL position's advance, cluster-wide: anything else writing to that server counts too). On
 * SQLite, also the commits per step and the share of them whose fsync ran off the event loop.
 *
 * `--input-change last` changes the input's last order line (its `qty`) before every run: the
 * same object handed in again, but no longer what it was — what a caller that edits one document
 * between runs pays (the engine compares it with its earlier copy to the end, then copies it).
 * `--input-change fresh` builds a new input object for every run, as a caller that parses or
 * assembles its document per run does: nothing to compare with, the engine copies it whole. The
 * CPU spent building it is the caller's and is left out of the figure.
 * The default, `none`, hands every run the same object unchanged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { r3, readOptions } from './measure.js';
import { PEER_ENGINES } from './peer-engines.js';
import { PeerSkipped, checkResult, payload, processWriteBytes } from './peer-workloads.js';

const opt = readOptions(process.argv.slice(2));
const name = opt.get('engine', 'flowrun-memory');
const steps = opt.num('steps', 100);
const kib = opt.num('input-kib', 1);
const secs = opt.num('secs', 2);
const minRuns = opt.num('min-runs', 2);
const inputChange = opt.get('input-change', 'none');
if (inputChange !== 'none' && inputChange !== 'last' && inputChange !== 'fresh') throw new Error(`--input-change is none, last or fresh, not ${inputChange}`);
const entry = PEER_ENGINES[name];
if (!entry) throw new Error(`unknown --engine ${name}; choose from ${Object.keys(PEER_ENGINES).join(', ')}`);

const workDir = mkdtempSync(join(tmpdir(), 'flowrun-growth-'));
process.once('exit', () => rmSync(workDir, { recursive: true, force: true, maxRetries: 3 }));
let engine: Awaited<ReturnType<typeof entry.make>>;
try {
  engine = await entry.make({ stepsPerRun: steps, workDir });
} catch (error) {
  if (!(error instanceof PeerSkipped)) throw error;
  process.stdout.write(`${JSON.stringify({ engine: name, steps, input_kib: kib, skipped: error.message })}\n`);
  process.exit(0);
}

let input = payload(kib);
const lastLine = input.lines[input.lines.length - 1];
/** CPU µs this process spent building fresh inputs (`--input-change fresh`): the caller's, not the engine's. */
let buildingCpuUs = 0;
const run = async (i: number): Promise<void> => {
  if (inputChange === 'last' && lastLine) lastLine.qty = i;
  if (inputChange === 'fresh') {
    const before = process.cpuUsage();
    input = payload(kib);
    const spent = process.cpuUsage(before);
    buildingCpuUs += spent.user + spent.system;
  }
  checkResult(name, await engine.steps(i, input), steps, i);
};

/** Runs until `ms` passed and at least `minRuns` ran. */
async function phase(ms: number, minRuns: number, first: number): Promise<{ runs: number; ms: number }> {
  let k = first;
  const t0 = performance.now();
  while (performance.now() - t0 < ms || k - first < minRuns) await run(k++);
  return { runs: k - first, ms: performance.now() - t0 };
}

await phase((secs * 1000) / 3, 1, 1_000_000);
(globalThis as { gc?: () => void }).gc?.();
const wal0 = (await engine.serverWalBytes?.()) ?? null;
const commits0 = engine.commitCounts?.() ?? null;
const io0 = processWriteBytes();
const cpu0 = process.cpuUsage();
buildingCpuUs = 0;
const m = await phase(secs * 1000, minRuns, 0);
const cpu = process.cpuUsage(cpu0);
const io1 = processWriteBytes();
const commits1 = engine.commitCounts?.() ?? null;
const wal1 = (await engine.serverWalBytes?.()) ?? null;
const totalSteps = m.runs * steps;
const out = {
  engine: name,
  steps,
  input_kib: kib,
  input_bytes: JSON.stringify(input).length,
  input_change: inputChange,
  durability: engine.durability,
  runs: m.runs,
  wall_s: r3(m.ms / 1000),
  us_per_step: r3((m.ms * 1000) / totalSteps),
  steps_per_s: r3(totalSteps / (m.ms / 1000)),
  node_cpu_us_per_step: r3((cpu.user + cpu.system - buildingCpuUs) / totalSteps),
  process_write_kib_per_step: r3((io1 - io0) / 1024 / totalSteps),
  server_wal_kib_per_step: wal0 === null || wal1 === null ? null : r3((wal1 - wal0) / 1024 / totalSteps),
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  ...(commits0 && commits1
    ? { commits_per_step: r3((commits1.commits - commits0.commits) / totalSteps), off_loop_sync_share: r3((commits1.offLoopSyncs - commits0.offLoopSyncs) / Math.max(1, commits1.commits - commits0.commits)) }
    : {}),
};
await engine.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
