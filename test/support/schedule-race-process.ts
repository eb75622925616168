// One engine process of the schedule race: opens the store named by FLOWRUN_STORE, keeps its own
// manual clock, and on each line "<ms>" from stdin sets the clock to that time, polls the
// schedules once and answers "polled <fired>"; "end" waits for its runs and exits.
import { createInterface } from 'node:readline';
import { createEngine } from '../../src/index.js';
import { openStoreSpec } from '../../src/cli/store-spec.js';
import { createManualClock } from '../../src/testing/manual-clock.js';

const store = openStoreSpec(process.env.FLOWRUN_STORE!);
const clock = createManualClock(Number(process.env.FLOWRUN_CLOCK_START));
const engine = createEngine({ stores: store, clock, poll: false });
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line === 'end') break;
  await clock.advance(Number(line) - clock.now());
  const fired = await engine.schedules.pollOnce();
  process.stdout.write(`polled ${fired}\n`);
}
await engine.whenIdle();
await engine.close();
await store.close();
process.stdout.write('closed\n');
