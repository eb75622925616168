/**
 * Runs a flow with flowrun in a process where @opentelemetry/api cannot be found (preloaded
 * hide-opentelemetry.mjs) and prints one JSON line: whether the package was reachable (by import, by require), whether the
 * engine traces, and the run's status.
 */
import { createRequire } from 'node:module';
import { createEngine, createMemoryStores } from '../../src/index.js';

const reachable = { byImport: true, byRequire: true };
try {
  await import('@opentelemetry/api');
} catch {
  reachable.byImport = false;
}
try {
  createRequire(import.meta.url)('@opentelemetry/api');
} catch {
  reachable.byRequire = false;
}
const engine = createEngine({ stores: createMemoryStores(), poll: false });
await engine.deployFlow({ id: 'plain/echo', actions: { main: { startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '{ok: true}' } } } } }, { publish: true });
const result = await engine.runAction({ flow: 'plain/echo' });
await engine.close();
process.stdout.write(`${JSON.stringify({ reachable, traced: engine.tracing !== undefined, status: result.status, output: result.output })}\n`);
