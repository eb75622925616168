/**
 * CPU per request of the flowrun request path without sockets or a load generator (issue 13): the
 * API router (`createFlowApiRouter(...).fetch`) called in process over a SQLite store, API-token
 * authentication, the same one-step flow as bench/http.ts. On a shared machine this is far
 * steadier than bench/http.ts's server CPU, where autocannon and other processes compete for the
 * same cores; it leaves out what both servers of bench/http.ts pay alike (HTTP parsing, the socket).
 *
 * - `GET /runs/{id}` of an ended run, sequentially (the answer cache's path): through `router.fetch`, and
 *   as `serve()` answers it (`router.answerNow`, where the checkout has it, before `fetch`).
 * - `POST /runs` from 32 concurrent callers, each run executed to its end in the same process
 *   (both of its group commits, fsync included), CPU counted until every run has ended.
 * - `floor`: the same loop around a handler that only answers the GET's body: what building the
 *   Request and reading the Response cost here, to subtract.
 *
 *   node --import tsx bench/http-router-cpu.ts [--before DIR] [--rounds 4]
 *
 * Each measurement runs in a fresh process; with `--before DIR` (an older checkout with its
 * node_modules linked) its router is measured too, the order alternating between rounds.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { markdownTable, readOptions } from './measure.js';

interface Measured {
  getUs: number;
  /** The same GETs as `serve()` answers them: `router.answerNow` first (where the checkout has it), else `fetch`. */
  serveGetUs: number;
  postUs: number;
  floorUs: number;
}

const GETS = 40_000;
const POSTS = 4_000;
const CALLERS = 32;

/** Runs in the child: measures the router of the checkout at `root`. */
async function measureChild(root: string): Promise<Measured> {
  const { createEngine, createFilesystemStores } = (await import(join(root, 'src/index.js'))) as typeof import('../src/index.js');
  const { createFlowApiRouter, hashApiToken, newApiToken } = (await import(join(root, 'src/server/index.js'))) as typeof import('../src/server/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'flowrun-bench-router-'));
  const stores = createFilesystemStores({ rootDir: dir, developmentOnly: true });
  const engine = createEngine({ stores, runtimeConfig: { budgets: { maxStartsPerSecond: 1e9 } } });
  await engine.principals.createUser({ id: 'bench' });
  const token = newApiToken();
  await stores.principals.createToken({ tokenId: 'bench', principalId: 'bench', tokenHash: await hashApiToken(token), at: Date.now() });
  const flowId = 'bench/start';
  await engine.deployFlow({ id: flowId, actions: { main: { params: { n: { type: 'number' } }, startAt: 'done', steps: { done: { stepType: 'COMPUTE', expression: '{n: input.n}' } } } } }, { deployedBy: 'bench', publish: true });
  const router = createFlowApiRouter({ engine });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const startBody = JSON.stringify({ flowId, input: { n: 1 } });
  // Declared, as every client sends a body of known size and serve() hands it over (a router may take such a start directly).
  const postHeaders = { ...headers, 'content-length': String(Buffer.byteLength(startBody)) };
  const first = await router.fetch(new Request('http://bench/runs', { method: 'POST', headers, body: JSON.stringify({ flowId, input: { n: 1 }, wait: true }) }));
  const { run } = (await first.json()) as { run: { runId: string } };
  const getUrl = `http://bench/runs/${run.runId}`;
  const cpu = (from: NodeJS.CpuUsage): number => {
    const used = process.cpuUsage(from);
    return used.user + used.system;
  };
  const gets = async (fetch: (request: Request) => Response | Promise<Response>, n: number): Promise<number> => {
    const from = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const response = await fetch(new Request(getUrl, { headers }));
      if (response.status !== 200) throw new Error(`GET answered ${response.status}`);
      await response.text();
    }
    return cpu(from) / n;
  };
  const posts = async (n: number): Promise<number> => {
    const from = process.cpuUsage();
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        for (let i = 0; i < n / CALLERS; i++) {
          const response = await router.fetch(new Request('http://bench/runs', { method: 'POST', headers: postHeaders, body: startBody }));
          if (response.status !== 201) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
          ids.push(((await response.json()) as { run: { runId: string } }).run.runId);
        }
      }),
    );
    // Every run executed to its end (its second commit) before the CPU is read.
    for (const id of ids) await engine.waitForRun(id);
    return cpu(from) / n;
  };
  const body = await (await router.fetch(new Request(getUrl, { headers }))).text();
  const floor = (): Promise<Response> => Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }));
  const answerNow = (router as { answerNow?: (request: Request) => Response | undefined }).answerNow;
  const serveFetch = (request: Request): Response | Promise<Response> => answerNow?.(request) ?? router.fetch(request);
  await gets(router.fetch, GETS / 4); // warm-up: JIT, caches
  await gets(serveFetch, GETS / 4);
  await gets(floor, GETS / 4);
  await posts(POSTS / 4);
  const measured = { getUs: await gets(router.fetch, GETS), serveGetUs: await gets(serveFetch, GETS), postUs: await posts(POSTS), floorUs: await gets(floor, GETS) };
  await engine.close();
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
  return measured;
}

const opt = readOptions(process.argv.slice(2));
const child = opt.get('child', '');
if (child) {
  process.stdout.write(`${JSON.stringify(await measureChild(child))}\n`);
  process.exit(0);
}
const before = opt.get('before', '');
const rounds = opt.num('rounds', 4);
const rows: string[][] = [];
for (let round = 1; round <= rounds; round++) {
  const sides: [string, string][] = [['after', resolve('.')]];
  if (before) sides[round % 2 === 1 ? 'unshift' : 'push'](['before', resolve(before)]);
  for (const [side, root] of sides) {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'bench/http-router-cpu.ts', '--child', root], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (result.status !== 0) throw new Error(`the ${side} child exited with ${result.status}`);
    const m = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Measured;
    rows.push([String(round), side, m.getUs.toFixed(1), (m.getUs - m.floorUs).toFixed(1), m.serveGetUs.toFixed(1), (m.serveGetUs - m.floorUs).toFixed(1), m.postUs.toFixed(0), m.floorUs.toFixed(1)]);
  }
}
console.log(
  markdownTable(['round', 'side', 'GET /runs/{id} CPU µs (fetch)', 'GET above floor µs', 'GET as serve() answers it (answerNow, else fetch) µs', 'its part above floor µs', 'POST /runs CPU µs (run executed, both commits)', 'floor µs (Request + Response only)'], rows) +
    `\n\n${GETS} sequential GETs of an ended run; ${POSTS} POSTs from ${CALLERS} concurrent callers, CPU (user + system, every thread) until every run ended; SQLite store in a temporary folder; a fresh process per measurement${before ? `; before = ${before}, order alternating by round` : ''}.`,
);
