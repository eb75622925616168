/**
 * Schedules (issue 17): N schedules firing every minute on one engine with its background poll,
 * on the real clock; prints a table, then ONE JSON line. `--mode spread` (default): schedule i
 * fires at second i % 60 of every minute (`S * * * * *`), ~N/60 firings a second; `--mode burst`:
 * all at second 0 (`* * * * *`), N firings due at the same instant — the worst case.
 *
 *   node --expose-gc --import tsx bench/schedules.ts --store sqlite --schedules 10000 --minutes 2 --stored 100000 [--mode burst]
 *   node --expose-gc --import tsx bench/schedules.ts --store pg [--db flowrun_bench_sched]
 *
 * Figures:
 * - lateness: each run's start time minus its slot (the minute it fired for), p50/p99/max over
 *   every firing of `--minutes` minute boundaries (the issue's goal: p99 < 1 s);
 * - engine CPU per firing: this process's CPU (user + system) over those minutes ÷ firings — the
 *   claim, the run's creation, the schedule's save, and executing the one-step run;
 * - with `--mode burst`, CPU per firing until started: this process's CPU from the first minute
 *   boundary until its last run was created (sampled every 20 ms) ÷ that minute's firings — what
 *   starting a burst costs, whatever the machine's load makes the lateness; and
 *   `cpuUsPerFiringFromClaim`, the same from the burst's first claim (an engine may claim a burst
 *   ahead of its due time) until its last run was created — the whole cost, wherever it falls;
 *   `serverCpuUsPerFiringUntilStarted` (PostgreSQL): the database backends' CPU over that time
 *   (from /proc, the server on this machine); `burstPhasesMs`: when the burst's claims and run
 *   creations happened, in ms after the boundary; `--cpu-prof FILE`: a V8 profile of the burst;
 * - store reads per idle poll: `Store.schedules` calls (each one statement) that one poll makes
 *   when nothing is due, with N schedules stored and then with `--stored` (default 100,000):
 *   constant, not growing with the number stored; and the poll's wall time;
 * - RSS with `--stored` schedules stored and the engine polling (after a GC).
 * The extra schedules up to `--stored` fire once a year, so they are stored but not due.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { createEngine, createPostgresStores, createSqliteStore, type Store } from '../src/index.js';
import { freshScheduleState } from '../src/core/schedule.js';
import type { NewSchedule, ScheduleStore } from '../src/core/schedule-store.js';
import { nextSlotAfter } from '../src/core/schedule-slots.js';
import { latencySummary, r3, readOptions } from './measure.js';
import { PgAdmin, statsDelta, type ServerStats } from './pg-admin.js';

const opt = readOptions(process.argv.slice(2));
const storeKind = opt.get('store', 'sqlite');
const N = opt.num('schedules', 10_000);
const MINUTES = opt.num('minutes', 2);
const STORED = Math.max(2 * N, opt.num('stored', 100_000));
const MODE = opt.get('mode', 'spread');
if (MODE !== 'spread' && MODE !== 'burst') throw new Error('--mode is spread or burst');
/** The second of the minute schedule i fires at. */
const secondOf = (i: number): number => (MODE === 'spread' ? i % 60 : 0);
const gc = (globalThis as { gc?: () => void }).gc;
/** `--cpu-prof FILE`: a V8 CPU profile from 1.5 s before the first boundary until that minute's last run is created. */
const PROFILE_FILE = opt.get('cpu-prof', '');

let admin: PgAdmin | null = null;
let store: Store;
if (storeKind === 'pg') {
  admin = await PgAdmin.freshDatabase(opt.get('db', 'flowrun_bench_sched'));
  store = createPostgresStores({ connectionString: admin.url, schema: 'flowrun' });
} else {
  const dir = join('bench', 'out', `schedules-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  store = createSqliteStore({ path: join(dir, 'flowrun.db') });
}

// The first burst (the first claim that finds schedules, once the measured engine polls, until its
// N-th run is created): when its claims and creations happened, in ms after the boundary (negative:
// before it), and this process's CPU over that whole span, wherever the engine does the work.
let armed = false;
const phases = { firstClaimMs: NaN, lastClaimMs: NaN, firstCreateMs: NaN, lastCreateMs: NaN, runsCreated: 0 };
let cpuAtFirstClaim: NodeJS.CpuUsage | null = null;
let cpuFirstClaimToCreated: number | null = null;
const burstCreated: (() => void)[] = [];
const claimDue = store.schedules.claimDueSchedules.bind(store.schedules);
store.schedules.claimDueSchedules = async (input) => {
  const cpuBefore = process.cpuUsage();
  const claimed = await claimDue(input);
  if (armed && claimed.length > 0 && phases.runsCreated < N) {
    phases.lastClaimMs = Date.now() - firstBoundary;
    if (cpuAtFirstClaim === null) [cpuAtFirstClaim, phases.firstClaimMs] = [cpuBefore, phases.lastClaimMs];
  }
  return claimed;
};
// Counts every call on Store.schedules (each is one statement), by method.
const calls = new Map<string, number>();
const counted = new Proxy(store.schedules, {
  get(target, name, receiver) {
    const value = Reflect.get(target, name, receiver) as unknown;
    if (typeof value !== 'function') return value;
    return (...args: unknown[]) => {
      calls.set(String(name), (calls.get(String(name)) ?? 0) + 1);
      return (value as (...a: unknown[]) => unknown).apply(target, args);
    };
  },
}) as ScheduleStore;
Object.defineProperty(store, 'schedules', { value: counted });

/** `created` runs of the burst were created just now (by a batch, or one by one: a schedule fired alone). */
function burstRunsCreated(created: number): void {
  if (armed && phases.runsCreated < N) {
    phases.lastCreateMs = Date.now() - firstBoundary;
    if (Number.isNaN(phases.firstCreateMs)) phases.firstCreateMs = phases.lastCreateMs;
    phases.runsCreated += created;
    if (phases.runsCreated >= N) {
      if (cpuAtFirstClaim) {
        const used = process.cpuUsage(cpuAtFirstClaim);
        cpuFirstClaimToCreated = used.user + used.system;
      }
      for (const done of burstCreated.splice(0)) done();
    }
  }
}
const createRuns = store.createRuns.bind(store);
store.createRuns = async (input) => {
  const outcomes = await createRuns(input);
  burstRunsCreated(outcomes.filter((o) => o === 'created').length);
  return outcomes;
};
const createRun = store.createRun.bind(store);
store.createRun = async (input) => {
  const created = await createRun(input);
  if (input.run.source === 'schedule') burstRunsCreated(1);
  return created;
};

const setup = createEngine({ stores: store, poll: false });
await setup.deployFlow({ id: 'bench/tick', actions: { main: { startAt: 'tick', steps: { tick: { stepType: 'COMPUTE', expression: '{slot: schedule.scheduledTime}' } } } } }, { publish: true });
await setup.close();

/** Creates schedules `from`…`to - 1` with `cron(i)`, many writes in flight (group commit / the pool). */
async function createSchedules(from: number, to: number, cron: (i: number) => string, prefix = 's'): Promise<void> {
  const now = Date.now();
  const one = (i: number): NewSchedule => {
    const spec = { cron: cron(i) };
    return {
    scheduleId: `${prefix}-${String(i).padStart(6, '0')}`, flowId: 'bench/tick', actionName: 'main', spec, startAt: null, endAt: null, jitterMs: 0, maxRuns: null, input: {}, runAs: null,
    overlap: 'allowAll', catchupWindowMs: 600_000, pauseAfterFailures: null, owner: '', origin: 'api', definitionVersion: null, paused: false, note: null,
    state: freshScheduleState(), nextFireAt: nextSlotAfter(spec, now)!, createdAt: now, updatedAt: now,
    };
  };
  for (let i = from; i < to; i += 500) await Promise.all(Array.from({ length: Math.min(500, to - i) }, (_, k) => store.schedules.createSchedule(one(i + k))));
}

/** Store.schedules calls and wall ms of one poll with nothing due, averaged over `polls`. */
async function idlePoll(polls: number): Promise<{ readsPerPoll: number; pollMs: number }> {
  const engine = createEngine({ stores: store, poll: false });
  await engine.schedules.pollOnce(); // warm
  calls.clear();
  const started = performance.now();
  for (let i = 0; i < polls; i++) {
    await engine.schedules.pollOnce();
    await store.schedules.nextDueAt(); // what the background poll reads after each poll
  }
  const pollMs = (performance.now() - started) / polls;
  const reads = [...calls.values()].reduce((a, b) => a + b, 0) / polls;
  await engine.close();
  return { readsPerPoll: r3(reads), pollMs: r3(pollMs) };
}

// Idle polls with N schedules stored (firing once a year: in the due index, never due), before the measured ones exist.
await createSchedules(0, N, () => '0 0 1 1 *', 'y');
const idleAtN = await idlePoll(20);
const createStarted = performance.now();
await createSchedules(0, N, (i) => `${secondOf(i)} * * * * *`);
const createMs = performance.now() - createStarted;

// The measured minutes: the engine polls on its own from before the first boundary; CPU over
// exactly MINUTES minutes, divided by the runs started within them.
const firstBoundary = nextSlotAfter({ cron: '* * * * *' }, Date.now() + 2_000)!;
armed = true;
const engine = createEngine({ stores: store });
const windowEnd = firstBoundary + MINUTES * 60_000;
const sleepUntil = (t: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, t - Date.now())));
let profiler: Session | null = null;
if (PROFILE_FILE) {
  profiler = new Session();
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
  await sleepUntil(firstBoundary - 1_500); // the engine may claim a burst up to a second ahead
  await profiler.post('Profiler.start');
  const session = profiler;
  burstCreated.push(() => {
    void session.post('Profiler.stop').then(({ profile }) => {
      writeFileSync(PROFILE_FILE, JSON.stringify(profile));
      session.disconnect();
    });
  });
}
// PostgreSQL: the server backends' CPU from 1.5 s before the boundary until the first burst's runs are created.
let serverCpuToStart: Promise<number> | null = null;
if (admin) {
  const pgAdmin = admin;
  await sleepUntil(firstBoundary - 1_500);
  const before = await pgAdmin.stats();
  serverCpuToStart = new Promise<ServerStats>((resolve) => burstCreated.push(() => void pgAdmin.stats().then(resolve))).then((after) => statsDelta(before, after).backend_cpu_us);
}
await sleepUntil(firstBoundary);
const cpu0 = process.cpuUsage();
// [time, CPU µs since the boundary], to read the CPU spent until the first burst's last run started.
const cpuSamples: [number, number][] = [];
const sampleCpu = () => {
  const used = process.cpuUsage(cpu0);
  cpuSamples.push([Date.now(), used.user + used.system]);
};
const sampler = setInterval(sampleCpu, 20);
await sleepUntil(windowEnd);
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
const startedInWindow = await store.countRuns({ flowId: 'bench/tick', startTimeFrom: firstBoundary, startTimeTo: windowEnd });

/** The slot a run was started for: the minute's second its schedule fires at (its id is in the run's tag), at most a minute before its start. */
const slotOf = (run: { startTime: number; tags: string[] }): number => {
  const offsetMs = secondOf(Number(/schedule:s-(\d+)/.exec(run.tags.join(' '))![1])) * 1000;
  return Math.floor((run.startTime - offsetMs) / 60_000) * 60_000 + offsetMs;
};
// Lateness of every slot in the window, waiting (up to a minute) for late ones.
const lateness: number[] = [];
let firstBurstEnd = 0;
let firstBurstRuns = 0;
for (let waited = 0; ; waited += 1_000) {
  lateness.length = 0;
  firstBurstEnd = 0;
  firstBurstRuns = 0;
  for (let marker: string | null = null; ; ) {
    const page = await store.listRuns({ flowId: 'bench/tick', startTimeFrom: firstBoundary, limit: 1000, orderBy: 'startTime', orderDir: 'asc', ...(marker ? { marker } : {}) });
    for (const run of page.runs) {
      const slot = slotOf(run);
      if (slot >= firstBoundary && slot < windowEnd) lateness.push(run.startTime - slot);
      if (slot === firstBoundary) {
        firstBurstRuns++;
        firstBurstEnd = Math.max(firstBurstEnd, run.startTime);
      }
    }
    if (!page.hasNextPage) break;
    marker = page.marker;
  }
  if (lateness.length >= N * MINUTES || waited >= 60_000) break;
  await sleepUntil(Date.now() + 1_000);
}
await engine.whenIdle();
const firings = lateness.length;
const cpuToStart = cpuSamples.find(([at]) => at >= firstBurstEnd)?.[1] ?? null;
const late = latencySummary(Float64Array.from(lateness));

await engine.close();

// The minute schedules paused (so nothing is due), then stored up to --stored.
for (let after: string | undefined; ; ) {
  const page = await store.schedules.listSchedules({ limit: 500, ...(after ? { after } : {}) });
  const minute = page.schedules.filter((s) => s.scheduleId.startsWith('s-'));
  await Promise.all(minute.map((s) => store.schedules.saveSchedule({ schedule: { ...s, paused: true, nextFireAt: null }, expectedVersion: s.version, releaseClaim: true })));
  if (!page.next || minute.length < page.schedules.length) break;
  after = page.next;
}
await createSchedules(N, STORED - N, () => '0 0 1 1 *', 'y');
const idleAtStored = await idlePoll(20);
const polling = createEngine({ stores: store });
gc?.();
await new Promise((resolve) => setTimeout(resolve, 3_000)); // the background poll runs meanwhile
gc?.();
const rssMb = process.memoryUsage().rss / 1024 / 1024;
await polling.close();
await store.close();
await admin?.close();

const row = {
  store: storeKind,
  mode: MODE,
  schedules: N,
  minutes: MINUTES,
  firings,
  expectedFirings: N * MINUTES,
  latenessP50Ms: late.p50,
  latenessP99Ms: late.p99,
  latenessMaxMs: late.max,
  cpuUsPerFiring: r3((cpu.user + cpu.system) / Math.max(1, startedInWindow)),
  cpuUsPerFiringUntilStarted: MODE === 'burst' && cpuToStart !== null ? r3(cpuToStart / Math.max(1, firstBurstRuns)) : null,
  // The same from the burst's first claim (which may come before the boundary) until its last run was created: comparable whenever the work is done.
  cpuUsPerFiringFromClaim: cpuFirstClaimToCreated === null ? null : r3(cpuFirstClaimToCreated / N),
  // PostgreSQL: its backends' CPU (this database's, /proc) over the same span, per firing.
  serverCpuUsPerFiringUntilStarted: MODE === 'burst' && serverCpuToStart && phases.runsCreated >= N ? r3((await serverCpuToStart) / Math.max(1, firstBurstRuns)) : null,
  readsPerIdlePollAtN: idleAtN.readsPerPoll,
  idlePollMsAtN: idleAtN.pollMs,
  stored: STORED,
  readsPerIdlePollAtStored: idleAtStored.readsPerPoll,
  idlePollMsAtStored: idleAtStored.pollMs,
  rssMbWithStored: r3(rssMb),
  createSchedulesMs: r3(createMs),
  burstPhasesMs: phases,
};
console.log(`| store | schedules | firings | lateness p50 / p99 / max ms | CPU µs per firing | reads per idle poll (${N.toLocaleString('en')} / ${STORED.toLocaleString('en')} stored) | idle poll ms | RSS MB with ${STORED.toLocaleString('en')} |`);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
console.log(`| ${storeKind} (${MODE}) | ${N} | ${firings} of ${N * MINUTES} | ${late.p50} / ${late.p99} / ${late.max} | ${row.cpuUsPerFiring} | ${idleAtN.readsPerPoll} / ${idleAtStored.readsPerPoll} | ${idleAtN.pollMs} / ${idleAtStored.pollMs} | ${row.rssMbWithStored} |`);
console.log(JSON.stringify(row));
