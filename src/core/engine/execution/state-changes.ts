/**
 * What one run's next transition changes in its stored state (core/state-slots.ts), tracked as
 * the executor makes the changes, so a transition writes the header and the slots it changed —
 * never the whole state. Its cost is that of the change plus the depth of the frame stack, not
 * what the run already carries.
 *
 * Frames are compared by identity with those last written: a frame pushed, or the one a `goto`
 * put in place of the top, is written whole (its step outputs, its item unless a frame below holds
 * the same object); a popped one is deleted by its key prefix. Within a frame that stayed, the
 * executor names every step output it records ({@link StateChangeTracker.stepWritten}); vars and
 * outputs are named by whoever writes them, since a write may change them in place (`$.vars.a.b`).
 * Top-level fields in slots (`event`, `suspension`, …) are replaced, never changed in place, and are
 * compared by reference.
 *
 * While the state is small ({@link INLINE_STATE_MAX_BYTES}, by the caller's measure) each transition
 * writes it whole in the run row instead ({@link InlineState}); the first write past that bound is
 * a whole write to slots, and the run stays in slots for as long as this tracker lives.
 */
import { parseContextTarget } from '../../mapping.js';
import type { StepDefinition } from '../../model.js';
import type { Frame, RunState } from '../../run.js';
import { INLINE_STATE_MAX_BYTES, fieldKey, findLastStep, framePrefix, frameSlots, itemKey, lastKey, outputKey, sharedItemFrom, slottedFields, stateHeader, stepKey, varKey, wholeStateChanges, type InlineState, type StateChanges, type StateSlot, type StateWrite } from '../../state-slots.js';

/** A frame as last written: the object, and the item and `last` it had. */
interface WrittenFrame {
  frame: Frame;
  item: unknown;
  last: unknown;
  /** The step whose output `last` was (none: `last` was in its own slot). */
  lastStep: string | undefined;
}

/** Tracks one run's state changes between two transitions. One per executor. */
export class StateChangeTracker {
  readonly #state: RunState;
  #frames: WrittenFrame[] = [];
  #fields = new Map<string, unknown>();
  /** Step outputs recorded since the last write, per frame. */
  #steps = new Map<Frame, Set<string>>();
  /** The step whose output each frame's `last` is, as recorded. */
  readonly #lastSteps = new WeakMap<Frame, string>();
  #vars = new Set<string>();
  #outputs = new Set<string>();
  /** The next write is the whole state (the first one after a refused transition). */
  #whole = false;
  /** What {@link take} handed out, to remember once {@link recorded}. */
  #taken: { frames: WrittenFrame[]; fields: Map<string, unknown> } | null = null;
  /** The state may still be written inline: no write of this tracker went to slots yet. */
  #mayInline = true;
  /** How the row holds the state: whole (true), as slots (false), or not known (a claim, a refused write). */
  #storedInline: boolean | undefined = undefined;
  /** The form of the write {@link take} handed out. */
  #takenInline = false;

  /** `state` is the run's state as it is stored now (as a claim read it, or as the transition that created the run wrote it). */
  constructor(state: RunState) {
    this.#state = state;
    this.#apply(this.#snapshot());
  }

  /** A step's output was recorded as `frame.steps[stepId]` (and as the frame's `last`). */
  stepWritten(frame: Frame, stepId: string): void {
    let ids = this.#steps.get(frame);
    if (!ids) this.#steps.set(frame, (ids = new Set()));
    ids.add(stepId);
    this.#lastSteps.set(frame, stepId);
  }

  /** A var or an action output was written (maybe in place). */
  written(root: 'vars' | 'outputs', name: string): void {
    (root === 'vars' ? this.#vars : this.#outputs).add(name);
  }

  /** The state as it is now is being written whole, by the run's creation (run-creation.ts): from here on this tracker is as a new one over it. */
  reset(): void {
    this.#steps = new Map();
    this.#vars = new Set();
    this.#outputs = new Set();
    this.#whole = false;
    this.#taken = null;
    this.#storedInline = undefined;
    this.#mayInline = true;
    this.#apply(this.#snapshot());
  }

  /** The state was replaced in ways not tracked (a refused transition undone): the next write is whole. */
  writeWhole(): void {
    this.#whole = true;
    this.#storedInline = undefined;
  }

  /**
   * The changes since the last write, to record with the next transition; marks made after this
   * belong to the next one. Call {@link recorded} once it is recorded; if it is not, {@link writeWhole}.
   * `fitsInline(max)` says whether the state is at most `max` bytes of JSON (asked only while the
   * run has not gone to slots); without it, every write goes to slots.
   */
  take(fitsInline: (max: number) => boolean = () => false): StateWrite {
    // Marks made from here on belong to the next transition.
    const reset = (): void => {
      this.#steps = new Map();
      this.#vars = new Set();
      this.#outputs = new Set();
    };
    if (this.#mayInline && fitsInline(INLINE_STATE_MAX_BYTES)) {
      reset();
      // No snapshot: the next write to slots after an inline one is whole.
      this.#taken = null;
      this.#takenInline = true;
      const inline: InlineState = { inline: true, dropSlots: this.#storedInline !== true };
      return inline;
    }
    this.#mayInline = false;
    // A row holding the state whole takes a whole write; one not known is taken to be in slots
    // (a store holding it whole writes the changes whole instead, as for rows of older schemas).
    const changes = this.#whole || this.#storedInline === true ? wholeStateChanges(this.#state) : this.#changes();
    reset();
    this.#taken = this.#snapshot();
    this.#takenInline = false;
    return changes;
  }

  /**
   * The vars and outputs a completed step's definition may have written: its `outputMappings`
   * targets, a SET's target, a call's `returnMappings` targets. Marks them written; returns the
   * names of the outputs its `outputMappings` write (they are announced as output events).
   */
  stepTargetsWritten(step: StepDefinition): string[] {
    const mapped = Object.keys(step.outputMappings ?? {});
    const targets = [...mapped, ...(step.stepType === 'SET' ? [step.target] : []), ...(step.stepType === 'RUN_FLOW' ? (step.returnMappings ?? []).map((m) => m.target) : [])];
    const outputs: string[] = [];
    targets.forEach((target, i) => {
      const parsed = parseContextTarget(target);
      if (typeof parsed === 'string' || !parsed.path[0]) return;
      this.written(parsed.root, parsed.path[0]);
      if (parsed.root === 'outputs' && i < mapped.length) outputs.push(parsed.path[0]);
    });
    return outputs;
  }

  #changes(): StateChanges {
    const state = this.#state;
    const put: StateSlot[] = [];
    const deleted: string[] = [];
    const deletePrefixes: string[] = [];
    const frames = state.frames;
    const lastSteps: (string | undefined)[] = [];
    for (let i = 0; i < Math.max(frames.length, this.#frames.length); i++) {
      const frame = frames[i];
      const before = this.#frames[i];
      if (!frame) {
        deletePrefixes.push(framePrefix(i));
        continue;
      }
      const lastStep = this.#lastStepOf(frame);
      lastSteps.push(lastStep);
      if (before?.frame !== frame) {
        // A frame that replaced the one here (`goto`) with the same item object keeps that slot.
        const keepsItem = before !== undefined && frame.item !== undefined && frame.item === before.item;
        const slots = frameSlots(frames, i, lastStep).filter((slot) => !keepsItem || slot.key !== itemKey(i));
        if (keepsItem) {
          deletePrefixes.push(stepKey(i, ''));
          if (!slots.some((slot) => slot.key === lastKey(i))) deleted.push(lastKey(i));
        } else if (before) deletePrefixes.push(framePrefix(i));
        put.push(...slots);
        continue;
      }
      for (const stepId of this.#steps.get(frame) ?? []) {
        if (frame.steps[stepId] === undefined) deleted.push(stepKey(i, stepId));
        else put.push({ key: stepKey(i, stepId), value: frame.steps[stepId] });
      }
      if (frame.item !== before.item && sharedItemFrom(frames, i) === undefined) {
        if (frame.item === undefined) deleted.push(itemKey(i));
        else put.push({ key: itemKey(i), value: frame.item });
      }
      if (lastStep === undefined && frame.last !== before.last) {
        if (frame.last === undefined) deleted.push(lastKey(i));
        else put.push({ key: lastKey(i), value: frame.last });
      } else if (lastStep !== undefined && before.lastStep === undefined && before.last !== undefined) deleted.push(lastKey(i));
    }
    this.#named('vars', this.#vars, varKey, put, deleted);
    this.#named('outputs', this.#outputs, outputKey, put, deleted);
    const fields = state as unknown as Record<string, unknown>;
    const present = new Set(slottedFields(state));
    for (const name of present) if (this.#fields.get(name) !== fields[name]) put.push({ key: fieldKey(name), value: fields[name] });
    for (const name of this.#fields.keys()) if (!present.has(name)) deleted.push(fieldKey(name));
    return { header: stateHeader(state, (_, i) => lastSteps[i]), put, delete: deleted, deletePrefixes, replace: false };
  }

  /** The changes {@link take} returned were recorded: they are the stored state now. */
  recorded(): void {
    this.#whole = false;
    this.#storedInline = this.#takenInline;
    if (this.#taken) this.#apply(this.#taken);
    this.#taken = null;
  }

  #named(root: 'vars' | 'outputs', names: Set<string>, keyOf: (name: string) => string, put: StateSlot[], deleted: string[]): void {
    const values = this.#state[root];
    for (const name of names) {
      if (Object.hasOwn(values, name) && values[name] !== undefined) put.push({ key: keyOf(name), value: values[name] });
      else deleted.push(keyOf(name));
    }
  }

  #lastStepOf(frame: Frame): string | undefined {
    const recorded = this.#lastSteps.get(frame);
    if (recorded !== undefined && frame.steps[recorded] === frame.last && frame.last !== undefined && frame.last !== null) return recorded;
    return undefined;
  }

  /** The stored form of the state as it is now: its frames, their items and `last`, the slotted fields. */
  #snapshot(): { frames: WrittenFrame[]; fields: Map<string, unknown> } {
    const state = this.#state;
    const frames = state.frames.map((frame) => {
      if (!this.#lastSteps.has(frame)) {
        const found = findLastStep(frame);
        if (found !== undefined) this.#lastSteps.set(frame, found);
      }
      return { frame, item: frame.item, last: frame.last, lastStep: this.#lastStepOf(frame) };
    });
    const fields = state as unknown as Record<string, unknown>;
    return { frames, fields: new Map(slottedFields(state).map((name) => [name, fields[name]])) };
  }

  #apply(stored: { frames: WrittenFrame[]; fields: Map<string, unknown> }): void {
    this.#frames = stored.frames;
    this.#fields = stored.fields;
  }
}
