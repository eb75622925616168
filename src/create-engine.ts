/**
 * The engine factory with the real clock and UUIDv7 ids filled in, and OpenTelemetry tracing when
 * `@opentelemetry/api` is installed.
 */
import type { Clock, IdSource } from './core/clock.js';
import type { Tracing } from './core/tracing.js';
import { Engine, type EngineOptions } from './core/engine/engine.js';
import { systemClock } from './runtime/system-clock.js';
import { uuidIds } from './runtime/uuid-ids.js';
import { loadOpenTelemetryTracing } from './tracing/open-telemetry-tracing.js';

/**
 * Options of {@link createEngine}: those of the engine, with `clock` and `ids` optional, and
 * `tracing: false` to leave runs untraced even when `@opentelemetry/api` is installed.
 */
export type CreateEngineOptions = Omit<EngineOptions, 'clock' | 'ids' | 'tracing'> & { clock?: Clock; ids?: IdSource; tracing?: Tracing | false };

/**
 * Creates an engine over `stores`. It executes the runs it starts at once, resumes runs of the
 * store that nobody holds (after a crash) in the background, and stops with `close()`. Runs are
 * traced through `@opentelemetry/api` when it is installed (an optional peer dependency): spans
 * are recorded once an application registers an OpenTelemetry SDK, and cost next to nothing until
 * then (README, Tracing).
 *
 * @example
 * const engine = createEngine({ stores: createMemoryStores(), runtimeConfig: { modules } });
 * const { requestId } = await engine.startRun({ flow: 'orders/process', input: { order } });
 */
export function createEngine(options: CreateEngineOptions): Engine {
  const { tracing, ...rest } = options;
  const tracer = tracing === false ? undefined : (tracing ?? loadOpenTelemetryTracing());
  return new Engine({ ...rest, clock: options.clock ?? systemClock, ids: options.ids ?? uuidIds, ...(tracer ? { tracing: tracer } : {}) });
}
