// Seed 002's job: starts one run fire-and-forget with runAction, with its own requestId, over the
// store named by FLOWRUN_STORE, and exits when the run has ended. Its module logs while it runs,
// emits COUNT transient items and streams an output — after the file `go` appears in CONTROL_DIR
// (a watcher is attached by then) — then logs `DigestWaiting` and runs on until `release` appears.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createFilesystemStores, runAction, type FlowDefinition } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';

const [requestId, controlDir, count] = process.argv.slice(2) as [string, string, string];
const spec = process.env.FLOWRUN_STORE!;
// A SQLite file is opened the way seed 002 shows it: createFilesystemStores on its folder.
const stores = spec.startsWith('sqlite:') ? createFilesystemStores({ rootDir: dirname(spec.slice('sqlite:'.length)), developmentOnly: true }) : openStoreSpec(spec);
const until = async (file: string): Promise<void> => {
  while (!existsSync(join(controlDir, file))) await new Promise((r) => setTimeout(r, 10));
};
const digestFlow: FlowDefinition = {
  id: 'nightly/digest',
  actions: {
    run: {
      params: { since: { type: 'text' } },
      outputs: { report: { type: 'text', returned: true, streamable: true } },
      startAt: 'digest',
      steps: { digest: { stepType: 'MODULE', moduleIdentifier: 'digest' } },
    },
  },
};
const result = runAction({
  flow: digestFlow,
  actionName: 'run',
  input: { since: '2026-05-01' },
  userId: 'user_42',
  sessionId: 'nightly-digest',
  source: 'manual',
  stores,
  requestId,
  runtimeConfig: {
    modules: {
      digest: async (_input, ctx) => {
        ctx.log('DigestStarted', 'collecting since 2026-05-01');
        await until('go');
        for (let i = 0; i < Number(count); i++) {
          ctx.emitItem({ type: 'typing', content: { i }, transient: true });
          ctx.write('report', `line ${i}`);
          if (i % 10 === 9) ctx.log('Progress', `${i + 1} lines`);
          await new Promise((r) => setImmediate(r));
        }
        ctx.log('DigestWaiting', 'waiting for release');
        await until('release');
        return { lines: Number(count) };
      },
    },
  },
});
void result.then(async (r) => {
  await stores.close();
  process.stdout.write(`${r.status}\n`);
});
