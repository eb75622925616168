/**
 * How a run's state is stored: a small *header* (counters, flags, the frames' scalar fields)
 * plus *slots*, each one JSON value under a string key — a completed step's output, a var, an
 * action output, a frame's item, the event, the suspension. A transition then writes only the
 * slots it changed ({@link StateChanges}) and the header, so its cost does not grow with what the
 * run already carries (its input, every earlier step's output).
 *
 * Keys: `v:<var>`, `o:<output>`, `x:<field>` (a top-level field of the state that is neither a
 * counter nor a flag: `event`, `suspension`, `receivedEventIds`, …), and per frame at stack index
 * i: `f<i>:s:<stepId>` (a step's output), `f<i>:i` (its item), `f<i>:l` (its `last`, only when it
 * is not a step output). Every key of frame i starts with `f<i>:`, so popping or replacing a frame
 * deletes one key range.
 *
 * A frame's `last` is the output of the step it completed last: the header names that step
 * (`lastStep`) instead of storing the value twice; a frame whose item is the very object of a
 * frame below it (a subflow called with the caller's item) names that frame (`itemFrom`). The
 * state rebuilt from a header and its slots shares those objects the same way.
 *
 * Slots come back in the order they were first written (a put of an existing key keeps its
 * place), so vars, outputs and step outputs keep the key order of the objects they came from.
 *
 * A small state (at most {@link INLINE_STATE_MAX_BYTES} of JSON) is written whole in the run's
 * row instead ({@link InlineState}): one row per transition and no slot rows, which for a state
 * that small costs less to build and to store than a header and its slots. A state that outgrows
 * the bound moves to slots with one whole write ({@link wholeStateChanges}); both forms read back
 * the same ({@link storedState}).
 */
import { jsonSize } from './json-size.js';
import type { Frame, RunState } from './run.js';

/** The header's mark: a `state` column holding it is a header, anything else a whole state stored before slots existed. */
export const STATE_HEADER_FORMAT = 'slots-1';

/** The fields of a frame stored in the header: everything but its step outputs, item and `last`. */
export type FrameHeader = Omit<Frame, 'steps' | 'item' | 'last'> & {
  /** The step whose output is the frame's `last`. */
  lastStep?: string;
  /** The index of the frame below whose item (the same object) this frame's item is. */
  itemFrom?: number;
};

/** A run's state without its slots: small, rewritten by every transition that changes the state. */
export interface StateHeader {
  format: typeof STATE_HEADER_FORMAT;
  frames: FrameHeader[];
  /** The counters and flags of {@link RunState} (stepSeq, stepCount, stepLogs, historyCount, …). */
  fields: Record<string, unknown>;
}

/** One slot: a key and its value. */
export interface StateSlot {
  key: string;
  value: unknown;
}

/**
 * What one transition changes in a run's stored state: the new header, the slots it writes
 * (created, or replaced in place) and those it deletes. Deletes never name a key that `put`
 * writes, so the order in which a store applies them does not matter.
 */
export interface StateChanges {
  header: StateHeader;
  put: StateSlot[];
  /** Keys deleted. */
  delete: string[];
  /** Key prefixes (`f<i>:`) whose every slot is deleted. */
  deletePrefixes: string[];
  /** Every slot not in `put` is deleted: the state is written whole. */
  replace: boolean;
}

/**
 * The largest state, as bytes of JSON, written whole in the run row ({@link InlineState}); a
 * larger one is a header and slots. Small enough that rewriting it whole costs about what a header
 * and one slot do.
 */
export const INLINE_STATE_MAX_BYTES = 8192;

/**
 * A transition's state written whole in the run row (the transition's `patch.state`), with no
 * header and no slots: for a state of at most {@link INLINE_STATE_MAX_BYTES}. `dropSlots`: the
 * run may have slots (its state was stored as a header before), which the write deletes; false
 * when the writer knows the row holds its state whole already.
 */
export interface InlineState {
  inline: true;
  dropSlots: boolean;
}

/** How a transition writes the run's state: whole in the row ({@link InlineState}) or as changes to its slots. */
export type StateWrite = StateChanges | InlineState;

/** True when `write` stores the state whole in the run row. */
export function isInline(write: StateWrite): write is InlineState {
  return (write as Partial<InlineState>).inline === true;
}

/** True when `state` is at most {@link INLINE_STATE_MAX_BYTES} of JSON (measured up to that bound, never further). */
export function fitsInline(state: RunState): boolean {
  return jsonSize(state, INLINE_STATE_MAX_BYTES) <= INLINE_STATE_MAX_BYTES;
}

/** How a new run's state is written: whole in its row when small, else its header and every slot. */
export function newRunStateWrite(state: RunState): StateWrite {
  return fitsInline(state) ? { inline: true, dropSlots: false } : wholeStateChanges(state);
}

/** The state a transition writes inline: its `patch.state`, which an inline write requires. */
export function inlineState(t: { runId: string; patch: { state?: RunState } }): RunState {
  if (t.patch.state === undefined) throw new Error(`run "${t.runId}": a state written inline must be the transition's patch.state`);
  return t.patch.state;
}

/** What a run's `state` column holds after `write` of `state`: the state itself (inline) or the header. */
export function stateColumn(write: StateWrite, state: RunState): unknown {
  return isInline(write) ? state : write.header;
}

/** The fields of {@link RunState} kept in the header: small counters and flags (and the outbox, empty once committed). */
const HEADER_FIELDS = new Set(['stepSeq', 'stepCount', 'stepLogs', 'historyCount', 'historyTruncated', 'hasItems', 'outbox']);

/** Key of a var's slot. */
export function varKey(name: string): string {
  return `v:${name}`;
}

/** Key of an action output's slot. */
export function outputKey(name: string): string {
  return `o:${name}`;
}

/** Key of the slot of a top-level state field that is not in the header. */
export function fieldKey(name: string): string {
  return `x:${name}`;
}

/** The prefix of every key of the frame at stack index `index`. */
export function framePrefix(index: number): string {
  return `f${index}:`;
}

/** Key of a step output's slot in the frame at `index`. */
export function stepKey(index: number, stepId: string): string {
  return `f${index}:s:${stepId}`;
}

/** Key of the item slot of the frame at `index`. */
export function itemKey(index: number): string {
  return `f${index}:i`;
}

/** Key of the `last` slot of the frame at `index` (only when `last` is no step output). */
export function lastKey(index: number): string {
  return `f${index}:l`;
}

/** The end of a prefix's key range: every key starting with `prefix` sorts at or after it and before this. */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** True when `value` is a header (a `state` column written since slots), false for a whole state stored before. */
export function isStateHeader(value: unknown): value is StateHeader {
  return typeof value === 'object' && value !== null && (value as { format?: unknown }).format === STATE_HEADER_FORMAT;
}

/** The top-level fields of a state that live in `x:` slots. */
export function slottedFields(state: RunState): string[] {
  return Object.keys(state).filter((name) => name !== 'frames' && name !== 'vars' && name !== 'outputs' && !HEADER_FIELDS.has(name) && (state as unknown as Record<string, unknown>)[name] !== undefined);
}

/** The step of `frame` whose output is its `last` (the same object), or undefined; the latest steps are looked at first. */
export function findLastStep(frame: Frame): string | undefined {
  if (frame.last === undefined || frame.last === null) return undefined;
  const ids = Object.keys(frame.steps);
  for (let i = ids.length - 1; i >= 0; i--) if (frame.steps[ids[i]!] === frame.last) return ids[i];
  return undefined;
}

/** The index of a frame below `index` holding the same item object, or undefined. */
export function sharedItemFrom(frames: readonly Frame[], index: number): number | undefined {
  const item = frames[index]!.item;
  if (item === undefined || item === null || typeof item !== 'object') return undefined;
  for (let j = 0; j < index; j++) if (frames[j]!.item === item) return j;
  return undefined;
}

/** The header of a frame, given which step's output is its `last`. */
export function frameHeader(frames: readonly Frame[], index: number, lastStep: string | undefined): FrameHeader {
  const { steps: _steps, item: _item, last: _last, ...scalars } = frames[index]!;
  const header: FrameHeader = scalars;
  if (lastStep !== undefined) header.lastStep = lastStep;
  const from = sharedItemFrom(frames, index);
  if (from !== undefined) header.itemFrom = from;
  return header;
}

/** The header of `state`; `lastStepOf` names each frame's `last` step (see {@link findLastStep}). */
export function stateHeader(state: RunState, lastStepOf: (frame: Frame, index: number) => string | undefined = findLastStep): StateHeader {
  const fields: Record<string, unknown> = {};
  for (const name of HEADER_FIELDS) {
    const value = (state as unknown as Record<string, unknown>)[name];
    if (value !== undefined) fields[name] = value;
  }
  return { format: STATE_HEADER_FORMAT, frames: state.frames.map((frame, i) => frameHeader(state.frames, i, lastStepOf(frame, i))), fields };
}

/** The slots of the frame at `index`, given the header's `lastStep` of it. */
export function frameSlots(frames: readonly Frame[], index: number, lastStep: string | undefined): StateSlot[] {
  const frame = frames[index]!;
  const slots: StateSlot[] = [];
  if (frame.item !== undefined && sharedItemFrom(frames, index) === undefined) slots.push({ key: itemKey(index), value: frame.item });
  // A value JSON cannot hold (undefined) has no slot: read back, it is absent, as a stored JSON object drops it.
  for (const [stepId, value] of Object.entries(frame.steps)) if (value !== undefined) slots.push({ key: stepKey(index, stepId), value });
  if (lastStep === undefined && frame.last !== undefined) slots.push({ key: lastKey(index), value: frame.last });
  return slots;
}

/** The changes that write `state` whole: its header and every slot, every other slot deleted. */
export function wholeStateChanges(state: RunState): StateChanges {
  const lastSteps = state.frames.map((frame) => findLastStep(frame));
  const put: StateSlot[] = [];
  for (const [name, value] of Object.entries(state.vars)) if (value !== undefined) put.push({ key: varKey(name), value });
  for (const [name, value] of Object.entries(state.outputs)) if (value !== undefined) put.push({ key: outputKey(name), value });
  for (const name of slottedFields(state)) put.push({ key: fieldKey(name), value: (state as unknown as Record<string, unknown>)[name] });
  state.frames.forEach((_, i) => put.push(...frameSlots(state.frames, i, lastSteps[i])));
  return { header: stateHeader(state, (_, i) => lastSteps[i]), put, delete: [], deletePrefixes: [], replace: true };
}

/**
 * What a transition writes of the state: its own changes (or inline write), or — without them —
 * its whole new state as slots; null when it does not change the state.
 */
export function transitionStateChanges(t: { patch: { state?: RunState }; stateChanges?: StateWrite }): StateWrite | null {
  if (t.stateChanges) return t.stateChanges;
  return t.patch.state === undefined ? null : wholeStateChanges(t.patch.state);
}

/**
 * Rebuilds a state from its header and its slots (in the order they were first written). The
 * values are used as they are: a caller that hands them on copies first.
 */
export function joinState(header: StateHeader, slots: Iterable<readonly [string, unknown]>): RunState {
  const state = { ...header.fields, frames: [], vars: {}, outputs: {} } as unknown as RunState;
  const frames: Frame[] = header.frames.map(({ lastStep: _l, itemFrom: _i, ...scalars }) => ({ ...scalars, steps: {}, last: undefined }));
  const fields = state as unknown as Record<string, unknown>;
  for (const [key, value] of slots) {
    const kind = key.charCodeAt(0);
    if (kind === 118 /* v */) state.vars[key.slice(2)] = value;
    else if (kind === 111 /* o */) state.outputs[key.slice(2)] = value;
    else if (kind === 120 /* x */) fields[key.slice(2)] = value;
    else if (kind === 102 /* f */) {
      const colon = key.indexOf(':');
      const frame = frames[Number(key.slice(1, colon))];
      if (!frame) continue; // a slot of a frame the header no longer has: never written so, ignored
      const part = key.charCodeAt(colon + 1);
      if (part === 115 /* s */) frame.steps[key.slice(colon + 3)] = value;
      else if (part === 105 /* i */) frame.item = value;
      else if (part === 108 /* l */) frame.last = value;
    }
  }
  header.frames.forEach((h, i) => {
    const frame = frames[i]!;
    if (h.lastStep !== undefined) frame.last = frame.steps[h.lastStep];
    if (h.itemFrom !== undefined) frame.item = frames[h.itemFrom]?.item;
    if (frame.last === undefined) delete (frame as { last?: unknown }).last;
  });
  state.frames = frames;
  return state;
}

/**
 * The state stored in a `state` column and its slots: a header joined with them, or — for a
 * state stored whole before slots existed — that state as it is.
 */
export function storedState(column: unknown, slots: Iterable<readonly [string, unknown]>): RunState {
  return isStateHeader(column) ? joinState(column, slots) : (column as RunState);
}
