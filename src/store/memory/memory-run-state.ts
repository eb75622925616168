/**
 * One run's stored state in the memory store: its header and its slots (core/state-slots.ts),
 * each a private copy. A transition copies only what it changes — never the whole state — and a
 * read copies the whole state out, so no caller ever holds an object the store keeps.
 */
import { cloneJson } from '../../core/json.js';
import type { RunState } from '../../core/run.js';
import { joinState, wholeStateChanges, type StateChanges, type StateHeader } from '../../core/state-slots.js';

/** A run's state as the memory store keeps it. */
export class MemoryRunState {
  #header: StateHeader;
  /** Slot values by key, in the order they were first written (a Map keeps it). */
  readonly #slots = new Map<string, unknown>();

  /** Stores a copy of `state` whole (a run being created). */
  constructor(state: RunState) {
    const whole = wholeStateChanges(state);
    this.#header = whole.header;
    this.apply(whole);
  }

  /** Applies one transition's changes, copying the header and the values it puts. */
  apply(changes: StateChanges): void {
    const kept = changes.replace || changes.deletePrefixes.length > 0 ? new Set(changes.put.map((slot) => slot.key)) : null;
    if (kept) {
      for (const key of this.#slots.keys()) {
        if (!kept.has(key) && (changes.replace || changes.deletePrefixes.some((prefix) => key.startsWith(prefix)))) this.#slots.delete(key);
      }
    }
    for (const key of changes.delete) this.#slots.delete(key);
    for (const { key, value } of changes.put) this.#slots.set(key, cloneJson(value));
    this.#header = cloneJson(changes.header);
  }

  /** A copy of the whole state (copied slot by slot, then joined: a frame's `last` is its step's output object, as stored). */
  read(): RunState {
    const slots: [string, unknown][] = [];
    for (const [key, value] of this.#slots) slots.push([key, cloneJson(value)]);
    return joinState(cloneJson(this.#header), slots);
  }
}
