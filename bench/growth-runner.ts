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
 *
 * What a new input every run costs, split (see growth-fresh.ts, which runs these side by side):
 * - `--input-change fresh-frozen`: a new object every run that its caller deep-freezes before
 *   handing it in (building and freezing left out): the engine measures it and shares it, no copy —
 *   the run with everything but the copy.
 * - `--hold-kib N` (with `--input-change fresh`): the caller also builds a new N KiB object every
 *   run (not counted) and holds it until the run ends, without handing it in: what the caller's own
 *   garbage costs the collector while a run of that length holds it — not the engine's doing.
 * - `--seal-split`: the caller seals each new input itself (sealJson, the engine's own walk, counted)
 *   and hands the sealed copy in, which the engine shares: reports that walk's CPU apart
 *   (`seal_cpu_ms_per_run`); the rest of the run, the collector's work for the copy included, stays
 *   in the total.
 * - `--measure jsonSize|stringify` (with `--hold-kib N`): the least any engine that measures its input
 *   pays — the caller's held N KiB object is measured once per run (counted) by core/json-size.ts's
 *   jsonSize or by JSON.stringify (its text's length read, the text dropped), and nothing is kept;
 *   the run itself carries the `--input-kib` input. growth-fresh.ts `--measure-floors` runs it.
 * - `--floor structuredClone|json-round-trip|hand-copy` (with `fresh-frozen`): the caller also copies
 *   each input that way (counted, every copy kept, as the memory store keeps a run's input): what a
 *   run would cost if the engine's copy cost only that and measured nothing.
 * The main-thread GC pauses of the measured runs are reported per run (`gc_ms_per_run`, minor and major;
 * wall time, so a busy machine stretches them), those that began while the caller built an input left out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { jsonSize } from '../src/core/json-size.js';
import { sealJson } from '../src/core/seal-json.js';
import { r3, readOptions } from './measure.js';
import { PEER_ENGINES } from './peer-engines.js';
import { PeerSkipped, checkResult, payload, processWriteBytes, type Payload } from './peer-workloads.js';

const opt = readOptions(process.argv.slice(2));
const name = opt.get('engine', 'flowrun-memory');
const steps = opt.num('steps', 100);
const kib = opt.num('input-kib', 1);
const secs = opt.num('secs', 2);
const minRuns = opt.num('min-runs', 2);
const inputChange = opt.get('input-change', 'none');
if (!['none', 'last', 'fresh', 'fresh-frozen'].includes(inputChange)) throw new Error(`--input-change is none, last, fresh or fresh-frozen, not ${inputChange}`);
const holdKib = opt.num('hold-kib', 0);
const sealSplit = opt.has('seal-split');
const floor = opt.get('floor', '');
const measure = opt.get('measure', '');
if (measure && !['jsonSize', 'stringify'].includes(measure)) throw new Error(`--measure is jsonSize or stringify, not ${measure}`);
if (measure && holdKib === 0) throw new Error('--measure goes with --hold-kib');
if (floor && !['structuredClone', 'json-round-trip', 'hand-copy'].includes(floor)) throw new Error(`--floor is structuredClone, json-round-trip or hand-copy, not ${floor}`);
if ((floor && inputChange !== 'fresh-frozen') || (sealSplit && inputChange !== 'fresh') || (holdKib > 0 && inputChange !== 'fresh')) throw new Error('--floor goes with --input-change fresh-frozen; --seal-split and --hold-kib with fresh');
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
/** CPU µs of the sealing walks the caller did itself (`--seal-split`), part of the total. */
let sealCpuUs = 0;
/** The caller's object held through a run without being handed in (`--hold-kib`): read after the run so it lives that long. */
let held: Payload | null = null;
/** Where each measured run's input building began and ended (performance.now()): GC pauses in them are the caller's. */
const buildWindows: number[] = [];
/** What `--measure` measured, summed (read at the end, so no measure is optimized away). */
let measuredBytes = 0;
/** Every floor copy, kept as the memory store keeps every run's input. */
const floorCopies: unknown[] = [];
const deepFreeze = (value: unknown): void => {
  if (typeof value !== 'object' || value === null) return;
  for (const part of Object.values(value)) deepFreeze(part);
  Object.freeze(value);
};
const handCopy = (value: unknown): unknown => {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(handCopy);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = handCopy((value as Record<string, unknown>)[key]);
  return out;
};
const copyFloor = (value: unknown): unknown =>
  floor === 'structuredClone' ? structuredClone(value) : floor === 'json-round-trip' ? (JSON.parse(JSON.stringify(value)) as unknown) : handCopy(value);
const run = async (i: number): Promise<void> => {
  if (inputChange === 'last' && lastLine) lastLine.qty = i;
  if (inputChange === 'fresh' || inputChange === 'fresh-frozen') {
    const before = process.cpuUsage();
    const startedAt = performance.now();
    input = payload(kib);
    if (inputChange === 'fresh-frozen') deepFreeze(input);
    if (holdKib > 0) held = payload(holdKib);
    const spent = process.cpuUsage(before);
    buildingCpuUs += spent.user + spent.system;
    if (gcCounting) buildWindows.push(startedAt, performance.now());
  }
  // The floor: one measure of the caller's new object, counted, its result dropped.
  if (measure && held !== null) measuredBytes += measure === 'jsonSize' ? jsonSize(held) : JSON.stringify(held).length;
  let handed: Payload = input;
  if (floor) floorCopies.push(copyFloor({ s: 0, i, payload: input }));
  if (sealSplit) {
    const before = process.cpuUsage();
    // Sealed as the engine seals a run's input: the engine then finds it sealed and shares it.
    handed = sealJson(input, { path: 'input.payload', maxDepth: 64 });
    const spent = process.cpuUsage(before);
    sealCpuUs += spent.user + spent.system;
  }
  checkResult(name, await engine.steps(i, handed), steps, i);
  if (held !== null && held.lines.length === 0) throw new Error('the held object is empty');
  held = null;
};

/** Main-thread GC pauses while `gcCounting`, as start, duration and kind. */
const gcPauses: { at: number; ms: number; kind: number }[] = [];
let gcCounting = false;
const gcObserver = new PerformanceObserver((list) => {
  if (!gcCounting) return;
  for (const entry of list.getEntries()) gcPauses.push({ at: entry.startTime, ms: entry.duration, kind: (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0 });
});
gcObserver.observe({ entryTypes: ['gc'] });

/** Runs until `ms` passed and at least `minRuns` ran. */
async function phase(ms: number, minRuns: number, first: number): Promise<{ runs: number; ms: number }> {
  let k = first;
  const t0 = performance.now();
  while (performance.now() - t0 < ms || k - first < minRuns) await run(k++);
  return { runs: k - first, ms: performance.now() - t0 };
}

const warm = await phase((secs * 1000) / 3, 1, 1_000_000);
(globalThis as { gc?: () => void }).gc?.();
const wal0 = (await engine.serverWalBytes?.()) ?? null;
const commits0 = engine.commitCounts?.() ?? null;
const io0 = processWriteBytes();
const cpu0 = process.cpuUsage();
buildingCpuUs = 0;
sealCpuUs = 0;
gcCounting = true;
const m = await phase(secs * 1000, minRuns, 0);
const cpu = process.cpuUsage(cpu0);
// GC entries are delivered after the pause: let the last ones arrive.
await new Promise((resolve) => setImmediate(resolve));
gcCounting = false;
gcObserver.disconnect();
/** GC pause ms by kind, those that began while the caller built an input left out (like its CPU). */
const gcMs = { minor: 0, major: 0, other: 0 };
for (const pause of gcPauses) {
  let building = false;
  for (let w = 0; w < buildWindows.length && !building; w += 2) building = pause.at >= buildWindows[w]! && pause.at <= buildWindows[w + 1]!;
  if (building) continue;
  if (pause.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) gcMs.minor += pause.ms;
  else if (pause.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gcMs.major += pause.ms;
  else gcMs.other += pause.ms;
}
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
  ...(holdKib > 0 ? { hold_kib: holdKib } : {}),
  ...(floor ? { floor } : {}),
  ...(measure ? { measure, measured_bytes_per_run: Math.round(measuredBytes / Math.max(1, m.runs + warm.runs)) } : {}),
  durability: engine.durability,
  runs: m.runs,
  wall_s: r3(m.ms / 1000),
  us_per_step: r3((m.ms * 1000) / totalSteps),
  steps_per_s: r3(totalSteps / (m.ms / 1000)),
  node_cpu_us_per_step: r3((cpu.user + cpu.system - buildingCpuUs) / totalSteps),
  node_cpu_ms_per_run: r3((cpu.user + cpu.system - buildingCpuUs) / 1000 / m.runs),
  ...(sealSplit ? { seal_cpu_ms_per_run: r3(sealCpuUs / 1000 / m.runs) } : {}),
  gc_ms_per_run: { minor: r3(gcMs.minor / m.runs), major: r3(gcMs.major / m.runs), other: r3(gcMs.other / m.runs) },
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
