/**
 * One worker process of bench/workers.ts: opens the PostgreSQL store (FLOWRUN_BENCH_URL, schema
 * `flowrun`), says `ready`, starts an engine executing up to FLOWRUN_BENCH_CONCURRENCY runs when it
 * reads `go`, and on `stop` closes it and prints ONE JSON line with the CPU it used since `go`.
 */
import { createInterface } from 'node:readline';
import { createEngine, createPostgresStores, type Engine } from '../src/index.js';
import { benchModules } from './bench-flows.js';

const stores = createPostgresStores({ connectionString: process.env.FLOWRUN_BENCH_URL!, schema: 'flowrun' });
await stores.ping();
process.stdout.write('ready\n');
let engine: Engine | null = null;
let cpu0 = process.cpuUsage();
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'go') {
    cpu0 = process.cpuUsage();
    engine = createEngine({ stores, modules: benchModules, maxConcurrentRuns: Number(process.env.FLOWRUN_BENCH_CONCURRENCY), workerId: `bench-worker-${process.pid}` });
  } else if (line === 'stop') {
    const cpu = process.cpuUsage(cpu0);
    await engine?.close();
    await stores.close();
    process.stdout.write(`${JSON.stringify({ cpu_us: cpu.user + cpu.system })}\n`);
    break;
  }
}
process.stdin.destroy(); // the parent's pipe would keep this process alive
