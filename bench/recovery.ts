/**
 * Issue 3, part 3: recovery. A child process (recovery-seed.ts) starts `runs` runs on one SQLite
 * file and is SIGKILLed once every run is recorded and blocked mid-way in its module step; then a
 * fresh process (recovery-resume.ts) is started at once, as a supervisor would restart a crashed
 * worker, and timed from its spawn until no run is ACTIVE. Each resuming configuration gets its
 * own seeded-and-killed file, so each starts the same time after the kill. Returns markdown.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { fmt, lastJsonLine, markdownTable } from './measure.js';

interface Seeded {
  runs: number;
  seed_s: number;
  store_commits: number;
  store_writes: number;
}

interface Resumed {
  process_start: number;
  engine_ready: number;
  first_resumed_call: number | null;
  done: number;
  module_calls: number;
  succeeded: number;
  store_commits: number;
  store_writes: number;
  peak_rss_mb: number;
}

const DIR = 'bench/out/recovery';

/** Starts the seeder, waits for READY, SIGKILLs it; returns its report and the kill time. */
async function seedAndKill(runs: number, leaseMs: number): Promise<{ seeded: Seeded; killedAt: number }> {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/recovery-seed.ts', '--path', `${DIR}/flowrun.db`, '--runs', String(runs), '--lease-ms', String(leaseMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let buffered = '';
  const seeded = await new Promise<Seeded>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const line = buffered.split('\n').find((l) => l.startsWith('READY '));
      if (line) resolve(JSON.parse(line.slice('READY '.length)) as Seeded);
    });
    child.on('exit', (code) => reject(new Error(`seeder exited (${code}) before READY: ${buffered}`)));
  });
  child.kill('SIGKILL');
  const killedAt = Date.now();
  await exited;
  return { seeded, killedAt };
}

/** Times a fresh resuming process over the killed file. */
function resume(leaseMs: number, extra: string[]): { result: Resumed; spawnedAt: number } {
  const spawnedAt = Date.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', 'bench/recovery-resume.ts', '--path', `${DIR}/flowrun.db`, '--lease-ms', String(leaseMs), ...extra], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
  });
  const result = lastJsonLine<Resumed>(child.stdout ?? '');
  if (child.status !== 0 || !result) throw new Error(`resume failed: ${child.stdout}\n${child.stderr}`);
  return { result, spawnedAt };
}

/** Runs the recovery scenario; returns the markdown section body. */
export async function benchRecovery(options: { quick: boolean }): Promise<string> {
  const runs = options.quick ? 2_000 : 10_000;
  const leaseMs = 1000;
  const variants: { name: string; label: string; extra: string[] }[] = [
    { name: 'defaults', label: 'engine defaults (maxConcurrentRuns 256, pollIntervalMs 1000), leaseMs 1000', extra: [] },
    { name: 'tuned', label: 'maxConcurrentRuns 2048, pollIntervalMs 100, leaseMs 1000', extra: ['--max-concurrent', '2048', '--poll-ms', '100'] },
  ];
  const rows: string[][] = [];
  const seeds: Seeded[] = [];
  for (const variant of variants) {
    const { seeded, killedAt } = await seedAndKill(runs, leaseMs);
    seeds.push(seeded);
    const { result, spawnedAt } = resume(leaseMs, variant.extra);
    if (result.succeeded !== runs || result.module_calls !== runs) throw new Error(`recovery incomplete: ${JSON.stringify(result)}`);
    const total = (result.done - spawnedAt) / 1000;
    rows.push([
      variant.label,
      runs.toLocaleString('en'),
      fmt((spawnedAt - killedAt) / 1000),
      fmt(total),
      fmt((result.engine_ready - spawnedAt) / 1000),
      result.first_resumed_call === null ? '–' : fmt((result.first_resumed_call - spawnedAt) / 1000),
      fmt(runs / total),
      fmt(result.store_writes / runs),
      fmt(result.store_commits),
      fmt(result.peak_rss_mb),
    ]);
    console.error(`  [recovery] ${variant.name}: ${total.toFixed(2)} s for ${runs} runs`);
  }
  rmSync(DIR, { recursive: true, force: true });
  return [
    `${runs.toLocaleString('en')} runs of \`bench/recover\` (COMPUTE → MODULE that blocks → COMPUTE) started by a process that is SIGKILLed once all of them are recorded and blocked in the module step ` +
      `(seeding took ${seeds.map((s) => fmt(s.seed_s)).join(' and ')} s, ${seeds[0]!.store_writes.toLocaleString('en')} store writes in ${seeds[0]!.store_commits.toLocaleString('en')} commits). ` +
      `Right after the kill a fresh \`node --import tsx bench/recovery-resume.ts\` is timed from its spawn until no run is ACTIVE. ` +
      `The leases the killed process held (leaseMs ${leaseMs}, renewed every ${Math.floor(leaseMs / 3)} ms) expire at most ${leaseMs} ms after the kill, so the first claims wait for that.`,
    '',
    markdownTable(
      ['resuming engine', 'runs', 'kill → spawn s', 'spawn → none ACTIVE s', 'spawn → engine created s', 'spawn → first resumed module call s', 'runs recovered / s', 'store writes / run', 'commits', 'peak RSS MB'],
      rows,
    ),
  ].join('\n');
}
