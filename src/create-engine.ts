/**
 * The engine factory with the real clock and UUIDv7 ids filled in.
 */
import type { Clock, IdSource } from './core/clock.js';
import { Engine, type EngineOptions } from './core/engine/engine.js';
import { systemClock } from './runtime/system-clock.js';
import { uuidIds } from './runtime/uuid-ids.js';

/** Options of {@link createEngine}: those of the engine, with `clock` and `ids` optional. */
export type CreateEngineOptions = Omit<EngineOptions, 'clock' | 'ids'> & { clock?: Clock; ids?: IdSource };

/**
 * Creates an engine over `stores`. It executes the runs it starts at once, resumes runs of the
 * store that nobody holds (after a crash) in the background, and stops with `close()`.
 *
 * @example
 * const engine = createEngine({ stores: createMemoryStores(), runtimeConfig: { modules } });
 * const { requestId } = await engine.startRun({ flow: 'orders/process', input: { order } });
 */
export function createEngine(options: CreateEngineOptions): Engine {
  return new Engine({ ...options, clock: options.clock ?? systemClock, ids: options.ids ?? uuidIds });
}
