/**
 * HTTP figures (issue 6):
 *
 * - **Request rate**: `POST /runs` (a durable start on the SQLite store, API-token auth, the
 *   one-step run then executes in the same server) and `GET /runs/{id}` (auth + permission check
 *   + store read), driven by autocannon over loopback with 64 connections, against the floor: a
 *   bare Hono/Node handler answering the same JSON with no engine, measured in the same run.
 *   Each server runs in its own process (bench/http-server.ts); the load generator in this one.
 *   flowrun's server is the built package (`dist/`, what `npx flowrun serve` runs), which must be
 *   built from the sources as they are (`npm run build`); `FLOWRUN_BENCH_FROM=src` measures src/ through tsx.
 *   Goals: POST ≥ 50 % of the floor, GET ≥ 80 %; and against the *least* server (issue 13), measured
 *   in the same run: POST ≥ 60 %, GET ≥ 80 %. Beside them, the least server writing flowrun's own rows for each
 *   start (`least-rows`): how much of the distance to the least server the storage format alone takes.
 * - **SSE latency**: from a module's `ctx.emitItem` to the event's arrival at an SSE client
 *   reading `GET /runs/{id}/stream` over loopback, server and engine in one process, SQLite store;
 *   transient items (live only) and persisted items (go out after their commit). Goal p99 < 25 ms.
 *
 *   node --import tsx bench/http.ts [--quick] [--requests-only]      (or: npm run bench -- --only http [--requests-only])
 *
 * `--requests-only` measures the request rates alone (no SSE latency).
 * `--before DIR [--rounds 4]`: interleaved A/B rounds of POST and GET against an older checkout DIR (its own
 * bench/http-server.ts and dist/; link node_modules and bench/node_modules into it and build it with
 * `npx tsc -p tsconfig.build.json`), each round beside the least
 * server: flowrun ÷ least, server CPU µs and bytes written per request, per round.
 *
 *   node --import tsx bench/http.ts --quick --before /tmp/base --rounds 4
 * `--cpu-prof FILE` writes CPU profiles of the flowrun server: its POST load (with warm-up) to FILE.post.cpuprofile,
 * then its GET load to FILE; and of the least server, to FILE.least.post.cpuprofile and FILE.least.cpuprofile.
 * Each rate comes with the CPU time (user + system, /proc/<pid>/stat) the server process spent per answered request,
 * and the bytes it wrote towards the disk per answered request (write_bytes of /proc/<pid>/io).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createEngine, createFilesystemStores, type FlowDefinition, type Module } from '../src/index.js';
import { serve } from '../src/server/index.js';
import { abOrder, fmt, latencySummary, markdownTable, readOptions } from './measure.js';
import { createParser } from 'eventsource-parser';

const CONNECTIONS = 64;

/** Starts bench/http-server.ts (of the checkout `root`, default this one) in its own process, `env` added to this one's; resolves with the JSON line it prints. */
export async function startTarget<T>(args: string[], root = '.', env: Record<string, string> = {}): Promise<{ info: T; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/http-server.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'], cwd: root, env: { ...process.env, ...env } });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench/http-server.ts ${args[0]} exited with ${code}`)));
  });
  return { info: JSON.parse(line) as T, child };
}

/** Stops a server started by {@link startTarget} (SIGTERM) and waits for its exit. */
export async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU (user + system) the server process spent per answered request during the measured load, µs; null off Linux. */
  cpuUsPerRequest: number | null;
  /** Bytes the server process wrote towards the disk (write_bytes of /proc/<pid>/io) per answered request; null off Linux. */
  writeBytesPerRequest: number | null;
}

/** write_bytes of /proc/<pid>/io (counted when pages are dirtied, so WAL appends count before any checkpoint); null off Linux. */
function processWriteBytes(pid: number | undefined): number | null {
  try {
    const match = /^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds of a process so far, from /proc/<pid>/stat; null off Linux. */
function processCpuSeconds(pid: number | undefined): number | null {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
  } catch {
    return null;
  }
}

async function load(url: string, options: { method: 'GET' | 'POST'; token?: string | undefined; body?: unknown; seconds: number; pid: number | undefined }): Promise<Load> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  // Loaded here, not at the top: run-all.ts imports this file before bench/node_modules may exist.
  const { default: autocannon } = await import('autocannon');
  const base = { url, connections: CONNECTIONS, method: options.method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) };
  await autocannon({ ...base, duration: 1 }); // warm-up: JIT, connections, SQLite page cache
  const cpuBefore = processCpuSeconds(options.pid);
  const writtenBefore = processWriteBytes(options.pid);
  const r = await autocannon({ ...base, duration: options.seconds });
  const cpuAfter = processCpuSeconds(options.pid);
  const writtenAfter = processWriteBytes(options.pid);
  const answered = r.requests.total;
  const cpuUsPerRequest = cpuBefore === null || cpuAfter === null || answered === 0 ? null : Math.round(((cpuAfter - cpuBefore) * 1e6) / answered);
  const writeBytesPerRequest = writtenBefore === null || writtenAfter === null || answered === 0 ? null : Math.round((writtenAfter - writtenBefore) / answered);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, cpuUsPerRequest, writeBytesPerRequest };
}

/** Request rates of flowrun and of the floor, and flowrun's share of the floor. */
export async function benchHttpRequests(options: { quick: boolean; cpuProfile?: string }): Promise<string> {
  const seconds = options.quick ? 3 : 10;
  const flowrun = await startTarget<{ url: string; token: string; flowId: string; runId: string; run: unknown }>(['flowrun', ...(options.cpuProfile ? [options.cpuProfile] : [])]);
  const { token, flowId, runId } = flowrun.info;
  const postLoad = (target: { info: { url: string }; child: ChildProcess }, auth?: string): Promise<Load> =>
    load(`${target.info.url}/runs`, { method: 'POST', token: auth, body: { flowId, input: { n: 1 } }, seconds, pid: target.child.pid });
  /** POST /runs alone against a started server, which is stopped afterwards. */
  const measurePost = async (target: { info: { url: string }; child: ChildProcess }): Promise<Load> => {
    try {
      return await postLoad(target);
    } finally {
      await stop(target.child);
    }
  };
  /** POST /runs then GET /runs/{id} against a started server, which is stopped afterwards. */
  const measure = async (target: { info: { url: string }; child: ChildProcess }, auth?: string, profiled = false): Promise<{ post: Load; get: Load }> => {
    try {
      const post = await postLoad(target, auth);
      if (profiled) {
        // The server writes the POST part of its profile to FILE.post.cpuprofile on SIGUSR2.
        target.child.kill('SIGUSR2');
        await new Promise((r) => setTimeout(r, 500));
      }
      const get = await load(`${target.info.url}/runs/${runId}`, { method: 'GET', token: auth, seconds, pid: target.child.pid });
      return { post, get };
    } finally {
      await stop(target.child);
    }
  };
  const { post, get } = await measure(flowrun, token, options.cpuProfile !== undefined);
  const { post: floorPost, get: floorGet } = await measure(await startTarget<{ url: string }>(['floor', JSON.stringify(flowrun.info.run)]));
  const leastProfile = options.cpuProfile?.replace(/(\.cpuprofile)?$/, '.least.cpuprofile');
  const { post: leastPost, get: leastGet } = await measure(await startTarget<{ url: string }>(['least', JSON.stringify(flowrun.info.run), ...(leastProfile ? [leastProfile] : [])]), undefined, leastProfile !== undefined);
  const leastRowsPost = await measurePost(await startTarget<{ url: string }>(['least-rows']));
  const inproc = await startTarget<{ rps: number }>(['inproc', String(seconds)]);
  await new Promise((r) => inproc.child.once('exit', r));
  const pct = (a: Load, b: Load): string => `${((100 * a.rps) / b.rps).toFixed(0)} %`;
  const cpu = (l: Load): string => (l.cpuUsPerRequest === null ? '–' : String(l.cpuUsPerRequest));
  const written = (l: Load): string => (l.writeBytesPerRequest === null ? '–' : fmt(l.writeBytesPerRequest));
  const row = (name: string, l: Load, f: Load, m: Load, goal: string, leastGoal: string) => [
    name,
    fmt(l.rps),
    fmt(f.rps),
    pct(l, f),
    goal,
    fmt(m.rps),
    pct(m, f),
    pct(l, m),
    leastGoal,
    `${l.p50} / ${l.p99}`,
    `${f.p50} / ${f.p99}`,
    `${cpu(l)} / ${cpu(m)} / ${cpu(f)}`,
    `${written(l)} / ${written(m)}`,
    String(l.non2xx + l.errors),
  ];
  return markdownTable(
    ['request', 'flowrun req/s', 'floor req/s', 'flowrun / floor', 'goal', 'least req/s', 'least / floor', 'flowrun / least', 'goal (issue 13)', 'flowrun p50 / p99 ms', 'floor p50 / p99 ms', 'server CPU µs / request: flowrun / least / floor', 'bytes written / request: flowrun / least', 'flowrun non-2xx + errors'],
    [row('POST /runs (durable start, SQLite)', post, floorPost, leastPost, '≥ 50 %', '≥ 60 %'), row('GET /runs/{id}', get, floorGet, leastGet, '≥ 80 %', '≥ 80 %')],
  ) +
    `\n\n*least*: no engine, no authentication — a start writes its run twice (created, ended) in group commits with fsync, a read makes the one check an exact read of a shared SQLite file needs (\`PRAGMA data_version\`) and answers prepared JSON (bench/http-server.ts): an upper bound for any durable, exact implementation here.` +
    ` *least with flowrun's rows* (\`least-rows\`): the least server writing, for each POST, what flowrun's schema holds for this run — its row with every index and its five events, once, in the same group commits — and nothing else: **${fmt(leastRowsPost.rps)} POST/s, ${pct(leastRowsPost, leastPost)} of least** (${cpu(leastRowsPost)} µs of server CPU a request); flowrun reaches ${pct(post, leastRowsPost)} of it.` +
    `\n\n${CONNECTIONS} connections, ${seconds} s each after a 1 s warm-up; autocannon in the bench process, each server in its own process on the same machine; flowrun's is the built package (\`dist/\`), as \`npx flowrun serve\` runs it.` +
    ` Reference without HTTP: the same durable start called in-process by 64 callers (\`engine.startRun\`, same flow and store, own process): **${fmt(inproc.info.rps)} starts/s**, so POST /runs reaches ${((100 * post.rps) / inproc.info.rps).toFixed(0)} % of what the engine itself sustains.`;
}

/**
 * Interleaved A/B rounds: each round measures the flowrun server of an older checkout (`before`,
 * its own bench/http-server.ts and src/), this checkout's, and the least server, POST then GET
 * each, the order of the two flowrun servers alternating between rounds. One row per round and
 * side: flowrun ÷ least (same round), server CPU µs and bytes written per request.
 */
export async function benchHttpAB(options: { before: string; rounds: number; quick: boolean }): Promise<string> {
  const seconds = options.quick ? 3 : 10;
  const rows: string[][] = [];
  type Info = { url: string; token: string; flowId: string; runId: string; run: unknown };
  const measure = async (target: { info: Info | { url: string }; child: ChildProcess }, flowId: string, runId: string, auth?: string): Promise<{ post: Load; get: Load }> => {
    try {
      const post = await load(`${target.info.url}/runs`, { method: 'POST', token: auth, body: { flowId, input: { n: 1 } }, seconds, pid: target.child.pid });
      const get = await load(`${target.info.url}/runs/${runId}`, { method: 'GET', token: auth, seconds, pid: target.child.pid });
      return { post, get };
    } finally {
      await stop(target.child);
    }
  };
  const pct = (a: Load, b: Load): string => `${((100 * a.rps) / b.rps).toFixed(0)} %`;
  const perRequest = (l: Load): string => `${l.cpuUsPerRequest ?? '–'} µs, ${l.writeBytesPerRequest === null ? '–' : fmt(l.writeBytesPerRequest)} B`;
  for (let round = 1; round <= options.rounds; round++) {
    const sides = abOrder(round, ['before', options.before], ['after', '.']);
    const measured = new Map<string, { post: Load; get: Load }>();
    let runJson = '';
    for (const [side, root] of sides) {
      const server = await startTarget<Info>(['flowrun'], root);
      runJson = JSON.stringify(server.info.run);
      measured.set(side!, await measure(server, server.info.flowId, server.info.runId, server.info.token));
    }
    const least = await measure(await startTarget<{ url: string }>(['least', runJson]), 'bench/start', 'least');
    for (const side of ['before', 'after']) {
      const { post, get } = measured.get(side)!;
      rows.push([String(round), side, fmt(post.rps), pct(post, least.post), perRequest(post), fmt(get.rps), pct(get, least.get), perRequest(get), `${fmt(least.post.rps)} / ${fmt(least.get.rps)}`, `${perRequest(least.post)} / ${perRequest(least.get)}`, String(post.non2xx + post.errors + get.non2xx + get.errors)]);
    }
  }
  return (
    markdownTable(['round', 'side', 'POST req/s', 'POST ÷ least', 'POST server CPU, bytes written / request', 'GET req/s', 'GET ÷ least', 'GET server CPU, bytes written / request', 'least POST / GET req/s', 'least CPU, bytes / request (POST / GET)', 'non-2xx + errors'], rows) +
    `\n\nbefore = ${options.before}; ${CONNECTIONS} connections, ${seconds} s per load after a 1 s warm-up; the two flowrun servers alternate their order between rounds, least measured once a round after them.`
  );
}

const emitterFlow: FlowDefinition = {
  id: 'bench/emitter',
  actions: { main: { params: { count: { type: 'number' }, gapMs: { type: 'number' }, transient: { type: 'boolean' } }, startAt: 'emit', steps: { emit: { stepType: 'MODULE', moduleIdentifier: 'bench/emit', inputMappings: { count: '$.input.count', gapMs: '$.input.gapMs', transient: '$.input.transient' } } } } },
};

const emit: Module = async (input, ctx) => {
  const count = Number(input.count);
  for (let i = 0; i < count; i++) {
    ctx.emitItem({ type: 'tick', content: { i, at: performance.now() }, transient: input.transient === true });
    await new Promise((r) => setTimeout(r, Number(input.gapMs)));
  }
  return { count };
};

/** Latency from emitItem to an SSE client in the same process, SQLite store. */
export async function benchSseLatency(options: { quick: boolean }): Promise<string> {
  const count = options.quick ? 500 : 2_000;
  const stores = createFilesystemStores({ rootDir: mkdtempSync(join(tmpdir(), 'flowrun-bench-sse-')), developmentOnly: true });
  const engine = createEngine({ stores, modules: { 'bench/emit': emit } });
  await engine.deployFlow(emitterFlow, { publish: true });
  const server = await serve({ engine, authenticate: () => ({ userId: 'bench' }) });
  const rows: string[][] = [];
  try {
    for (const transient of [true, false]) {
      const started = await fetch(`${server.url}/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ flowId: 'bench/emitter', input: { count, gapMs: 2, transient } }) });
      const { run } = (await started.json()) as { run: { runId: string } };
      const response = await fetch(`${server.url}/runs/${run.runId}/stream`);
      const latencies = new Float64Array(count);
      let seen = 0;
      await forEachAddedItem<{ i: number; at: number }>(response.body!, () => performance.now(), (event, now) => {
        latencies[event.item.content.i] = now - event.item.content.at;
        seen++;
      });
      const s = latencySummary(latencies.subarray(0, seen));
      rows.push([transient ? 'transient items (live only)' : 'persisted items (after their commit)', String(seen), String(s.p50), String(s.p99), String(s.max)]);
    }
  } finally {
    await server.close();
    await engine.close();
    await stores.close();
  }
  return markdownTable(['items', 'received', 'p50 ms', 'p99 ms', 'max ms'], rows) + `\n\n${count} items per run, one every 2 ms; emitItem → SSE client over loopback, same process, SQLite store (WAL). Goal: p99 < 25 ms.`;
}

/**
 * Latency from emitItem in another process (runAction over the same store) to an SSE client of
 * this process's server: persisted and transient items over SQLite (transient ones through the
 * side channel beside the file) and PostgreSQL. Goal p99 < 100 ms. bench/live.ts measures
 * transient items and in-step log entries alone, 10,000 per run.
 */
export async function benchSseLatencyAcrossProcesses(options: { quick: boolean; pgUrl: string | null }): Promise<string> {
  const count = options.quick ? 300 : 1_000;
  const rows: string[][] = [];
  const targets: { name: string; spec: string; drop?: () => Promise<void> }[] = [{ name: 'SQLite file', spec: `sqlite:${join(mkdtempSync(join(tmpdir(), 'flowrun-bench-sse-x-')), 'flowrun.db')}` }];
  if (options.pgUrl) {
    const schema = `flowrun_bench_sse_${process.pid}`;
    const url = new URL(options.pgUrl);
    url.searchParams.set('schema', schema);
    const pg = (await import('pg')).default;
    targets.push({
      name: 'PostgreSQL',
      spec: url.toString(),
      drop: async () => {
        const client = new pg.Client({ connectionString: options.pgUrl! });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await client.end();
      },
    });
  }
  const { openStoreSpec } = await import('../src/cli/store-spec.js');
  for (const target of targets) {
    const stores = openStoreSpec(target.spec);
    const engine = createEngine({ stores, poll: false });
    const server = await serve({ engine, authenticate: () => ({ userId: 'bench' }) });
    const requestId = crypto.randomUUID();
    const writer = spawn(process.execPath, ['--import', 'tsx', 'bench/http-writer.ts', target.spec, requestId, String(count), '2', '1500'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise((r) => writer.once('exit', r));
    try {
      let response: Response | null = null;
      for (let i = 0; i < 200; i++) {
        response = await fetch(`${server.url}/runs/${requestId}/stream`);
        if (response.status === 200) break;
        await response.body?.cancel();
        await new Promise((r) => setTimeout(r, 20));
      }
      const persisted: number[] = [];
      const transient: number[] = [];
      await forEachAddedItem<{ at: number }>(response!.body!, () => performance.timeOrigin + performance.now(), (event, now) => {
        (event.transient ? transient : persisted).push(now - event.item.content.at);
      });
      for (const [kind, values] of [['persisted items', persisted], ['transient items', transient]] as const) {
        if (values.length === 0) {
          rows.push([target.name, kind, '0', '–', '–', '–']);
          continue;
        }
        const s = latencySummary(Float64Array.from(values));
        rows.push([target.name, kind, String(values.length), String(s.p50), String(s.p99), String(s.max)]);
      }
    } finally {
      await exited;
      await server.close();
      await engine.close();
      await stores.close();
      await target.drop?.();
    }
  }
  return markdownTable(['store', 'items', 'received', 'p50 ms', 'p99 ms', 'max ms'], rows) + `\n\n${count} items (+ as many transient ones) per run, one every 2 ms, emitted by runAction in another process; the server here streams them (store notifications: SQLite data_version polling, PostgreSQL LISTEN/NOTIFY). Goal: p99 < 100 ms.`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const opt = readOptions(process.argv.slice(2));
  const quick = opt.has('quick');
  const cpuProfile = opt.get('cpu-prof', '');
  const before = opt.get('before', '');
  if (before) {
    console.log(await benchHttpAB({ before, rounds: Number(opt.get('rounds', '4')), quick }));
    process.exit(0);
  }
  console.log(await benchHttpRequests({ quick, ...(cpuProfile ? { cpuProfile } : {}) }));
  if (opt.has('requests-only')) process.exit(0);
  console.log();
  console.log(await benchSseLatency({ quick }));
  console.log();
  console.log(await benchSseLatencyAcrossProcesses({ quick, pgUrl: process.env.FLOWRUN_BENCH_PG_URL ?? process.env.FLOWRUN_TEST_PG_URL ?? null }));
}

/** Calls `onAdded` for every `item` event with change `added` of an SSE body, with the time it was read (`now()`). */
async function forEachAddedItem<C>(body: NonNullable<Response['body']>, now: () => number, onAdded: (event: { transient?: boolean; item: { content: C } }, at: number) => void): Promise<void> {
  let readAt = 0;
  const parser = createParser({
    onEvent: (message) => {
      if (message.event !== 'item') return;
      const event = JSON.parse(message.data) as { change: string; transient?: boolean; item: { content: C } };
      if (event.change === 'added') onAdded(event, readAt);
    },
  });
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    readAt = now();
    parser.feed(value);
  }
}

