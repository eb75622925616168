/**
 * Test fixtures of schedules: an engine on a manual clock, a flow that records the schedule it
 * sees, and a gate module whose runs go on until the test releases them (long-running runs).
 * Test code only (no production file imports it).
 */
import { createEngine } from '../../src/create-engine.js';
import { createMemoryStores } from '../../src/store/memory/memory-store.js';
import { createManualClock, createSequentialIds, type ManualClock } from '../../src/testing/manual-clock.js';
import type { FlowDefinition } from '../../src/core/model.js';
import type { Store } from '../../src/core/store.js';
import type { Engine } from '../../src/core/engine/engine.js';

/** A flow whose `main` returns what its run sees of the schedule; `slow` waits at the gate. */
export const reportFlow: FlowDefinition = {
  id: 'reports/daily',
  actions: {
    main: { startAt: 'see', steps: { see: { stepType: 'COMPUTE', expression: '{schedule: schedule, region: input.region}' } } },
    slow: { startAt: 'wait', steps: { wait: { stepType: 'MODULE', moduleIdentifier: 'test/gate' } } },
    failing: { startAt: 'fail', steps: { fail: { stepType: 'FAIL', code: 'BROKEN', description: 'always fails' } } },
  },
};

/** Runs of the gate module wait until released, in start order. */
export class Gate {
  readonly #waiting: (() => void)[] = [];
  /** Releases the oldest waiting run (or all). */
  release(all = false): void {
    for (const resume of all ? this.#waiting.splice(0) : this.#waiting.splice(0, 1)) resume();
  }
  get waiting(): number {
    return this.#waiting.length;
  }
  module = (): Promise<unknown> => new Promise((resolve) => this.#waiting.push(() => resolve({ done: true })));
}

/** An engine on a manual clock (no background polling: tests poll by hand), with the report flow deployed and published. */
export async function scheduleEngine(options: { start?: number; stores?: Store; clock?: ManualClock; gate?: Gate } = {}): Promise<{ engine: Engine; clock: ManualClock; gate: Gate }> {
  const clock = options.clock ?? createManualClock(options.start);
  const gate = options.gate ?? new Gate();
  const engine = createEngine({ stores: options.stores ?? createMemoryStores(), clock, ids: createSequentialIds(`${Math.random().toString(36).slice(2, 6)}-`), poll: false, modules: { 'test/gate': gate.module } });
  await engine.deployFlow(reportFlow, { publish: true });
  return { engine, clock, gate };
}

/** Moves the clock in steps of `stepMs` up to `totalMs`, polling the engines' schedules after each. */
export async function advancePolling(clock: ManualClock, engines: Engine[], totalMs: number, stepMs: number): Promise<void> {
  for (let moved = 0; moved < totalMs; moved += stepMs) {
    await clock.advance(Math.min(stepMs, totalMs - moved));
    await Promise.all(engines.map((e) => e.schedules.pollOnce()));
  }
}
