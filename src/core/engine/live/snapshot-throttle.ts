/**
 * The batching rule of streamed outputs (DESIGN.md §3 "Streaming"): however often a value
 * changes, its holder emits at most one snapshot per {@link STREAM_INTERVAL_MS}. A change starts
 * a timer (0 ms after a quiet period, else at the end of the current interval); every change
 * before it fires rides in the same snapshot. Emitting from a timer, never inside the write,
 * keeps listeners out of the writer's call stack.
 */
import type { Clock, TimerHandle } from '../../clock.js';

/** The shortest time between two streamed snapshots of one call, in milliseconds. */
export const STREAM_INTERVAL_MS = 10;

/** Coalesces changes into snapshots, at most one per interval. */
export class SnapshotThrottle {
  readonly #clock: Clock;
  readonly #emit: () => void;
  readonly #intervalMs: number;
  #lastAt = Number.NEGATIVE_INFINITY;
  #timer: TimerHandle | null = null;
  #closed = false;

  constructor(options: { clock: Clock; emit: () => void; intervalMs?: number }) {
    this.#clock = options.clock;
    this.#emit = options.emit;
    this.#intervalMs = options.intervalMs ?? STREAM_INTERVAL_MS;
  }

  /** Something changed: a snapshot follows, at most one per interval. Ignored once closed. */
  changed(): void {
    if (this.#closed || this.#timer) return;
    const waitMs = Math.max(0, this.#lastAt + this.#intervalMs - this.#clock.now());
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      if (this.#closed) return;
      this.#lastAt = this.#clock.now();
      this.#emit();
    }, waitMs);
  }

  /** Drops a pending snapshot and ignores every later change. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
  }
}
