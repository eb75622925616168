/**
 * A module's writes to its run's outputs (`ctx.write` / `ctx.append`). Writes land in a copy
 * private to the step visit and reach the run's state only when the step completes, in the same
 * transition as the step: a module that fails, is retried, or is cut off by a crash leaves the
 * outputs as they were, and its next attempt starts from them (no element appended twice).
 *
 * While the module runs, writes to streamable outputs are announced live (transient `output`
 * events, at most one snapshot per output per {@link STREAM_INTERVAL_MS}), which is what callers
 * and watchers stream. Writes after the step ended are ignored.
 */
import type { Clock } from '../../clock.js';
import { FlowError } from '../../errors.js';
import { cloneJson } from '../../json.js';
import { checkValueBytes, jsonSize } from '../../json-size.js';
import { limitExceeded } from '../../budgets.js';
import type { OutputDefinition } from '../../model.js';
import { SnapshotThrottle, STREAM_INTERVAL_MS } from '../live/snapshot-throttle.js';

export { STREAM_INTERVAL_MS };

/** What an {@link OutputWriter} works on. */
export interface OutputWriterOptions {
  /** The run's outputs as committed so far; changed only by {@link OutputWriter.commit}. */
  outputs: Record<string, unknown>;
  /** The action's declared outputs; undefined when it declares none (any name may be written). */
  declared: Record<string, OutputDefinition> | undefined;
  clock: Clock;
  /** The `maxValueBytes` budget: the largest value (as JSON) one output may hold. */
  maxValueBytes: number;
  /** Announces a live snapshot of one output (the value is the writer's own copy). */
  stream: (name: string, value: unknown) => void;
}

/** The outputs one module step writes. */
export class OutputWriter {
  readonly #options: OutputWriterOptions;
  readonly #pending = new Map<string, unknown>();
  readonly #dirty = new Set<string>();
  readonly #streamed = new Set<string>();
  readonly #throttle: SnapshotThrottle;
  /** Bytes of JSON of each list being appended to, counted as it grows (never measured whole again). */
  readonly #listBytes = new Map<string, number>();
  /** The first write over the budget: the step fails even if the module caught the error. */
  #failure: FlowError | null = null;
  #open = true;

  constructor(options: OutputWriterOptions) {
    this.#options = options;
    this.#throttle = new SnapshotThrottle({ clock: options.clock, emit: () => this.#emitSnapshot() });
  }

  /**
   * Replaces output `name` with a copy of `value`. Throws UNKNOWN_OUTPUT for an undeclared output,
   * LIMIT_EXCEEDED for a value over `maxValueBytes` (measured before it is copied; nothing is written).
   */
  write(name: string, value: unknown): void {
    if (!this.#open) return;
    this.#check(name);
    this.#guard(() => checkValueBytes(value ?? null, this.#options.maxValueBytes, `ctx.write("${name}")`));
    this.#listBytes.delete(name);
    this.#pending.set(name, value === undefined ? null : cloneJson(value));
    this.#changed(name);
  }

  /**
   * Appends a copy of `element` to output `name` (a list or collection; absent counts as empty).
   * Throws UNKNOWN_OUTPUT for an undeclared output, INVALID_OUTPUT when the output is not a list,
   * LIMIT_EXCEEDED when the list would grow past `maxValueBytes` (the element is not appended).
   */
  append(name: string, element: unknown): void {
    if (!this.#open) return;
    this.#check(name);
    let list = this.#pending.get(name);
    if (!this.#pending.has(name)) {
      const committed = Object.hasOwn(this.#options.outputs, name) ? this.#options.outputs[name] : undefined;
      list = committed === undefined || committed === null ? [] : cloneJson(committed);
    }
    if (!Array.isArray(list)) throw new FlowError('INVALID_OUTPUT', `ctx.append("${name}"): output "${name}" is not a list`);
    const max = this.#options.maxValueBytes;
    const before = this.#listBytes.get(name) ?? jsonSize(list, max);
    const after = before + jsonSize(element ?? null, max) + (list.length > 0 ? 1 : 0);
    if (after > max) this.#guard(() => { throw limitExceeded('maxValueBytes', max, after, `ctx.append("${name}") makes output "${name}" larger than ${max} bytes of JSON`); });
    this.#listBytes.set(name, after);
    list.push(element === undefined ? null : cloneJson(element));
    this.#pending.set(name, list);
    this.#changed(name);
  }

  /** Throws the first budget failure of this step's writes, if any (the module may have swallowed it). */
  checkFailure(): void {
    if (this.#failure) throw this.#failure;
  }

  /** The step completed: writes its outputs into the run's state; returns the names written. */
  commit(): string[] {
    this.#close();
    for (const [name, value] of this.#pending) this.#options.outputs[name] = value;
    return [...this.#pending.keys()];
  }

  /** The step failed: drops its writes; returns the outputs it had streamed (to announce their committed value again). */
  discard(): string[] {
    this.#close();
    this.#pending.clear();
    return [...this.#streamed];
  }

  #guard(check: () => unknown): void {
    try {
      check();
    } catch (error) {
      this.#failure ??= error as FlowError;
      throw error;
    }
  }

  #check(name: string): void {
    const declared = this.#options.declared;
    if (declared && !Object.hasOwn(declared, name)) {
      throw new FlowError('UNKNOWN_OUTPUT', `no output "${name}" is declared; declared outputs: ${Object.keys(declared).join(', ') || '(none)'}`);
    }
  }

  #changed(name: string): void {
    if (this.#options.declared?.[name]?.streamable !== true) return;
    this.#dirty.add(name);
    this.#throttle.changed();
  }

  #emitSnapshot(): void {
    for (const name of this.#dirty) {
      this.#streamed.add(name);
      this.#options.stream(name, cloneJson(this.#pending.get(name)));
    }
    this.#dirty.clear();
  }

  #close(): void {
    this.#open = false;
    this.#throttle.close();
  }
}
