/**
 * Models for ASK steps: the interface a model implements, the resolver that finds one by id
 * (`runtimeConfig.modelResolver`), and {@link assumingModelResolver}, an offline resolver that
 * answers with the step's `assuming` values.
 */
import type { JsonSchema, JsonValue, TypeRef } from '../../model.js';

/** What an ASK step asks of a model. */
export interface AskRequest {
  /** The id the step names (`provider:model`). */
  modelId: string;
  /** The task, as text (empty when the step has none). */
  task: string;
  /** The step's input (`inputMappings` + `literals`): data the model sees beside the task. */
  input: Record<string, unknown>;
  /** The fields to generate and their types. */
  returns: Record<string, TypeRef>;
  /** A JSON Schema of the object to generate (`returns` as one object schema, every field required). */
  schema: JsonSchema;
  /** The step's `assuming` values, if any. */
  assuming: Record<string, JsonValue> | undefined;
  /** Aborted when the run is canceled or times out, or the step times out. */
  signal: AbortSignal;
  /** Call with each piece of generated text as it arrives; flowrun streams it as item updates. */
  onText(delta: string): void;
}

/** A model an ASK step can use. */
export interface AskModel {
  /**
   * Generates the fields; resolves to an object with a value for each field of `returns`
   * (flowrun checks the values against their types; extra fields are dropped).
   */
  generate(request: AskRequest): Promise<Record<string, unknown>>;
}

/**
 * Finds the model for a model id; `undefined` means "no such model" (the step fails with
 * `MODEL_NOT_CONFIGURED`). Called once per ASK step execution.
 */
export type ModelResolver = (modelId: string) => AskModel | undefined | Promise<AskModel | undefined>;

/**
 * An offline resolver: every model id resolves to a model that answers with the step's
 * `assuming` values, streamed as their JSON text. For tests, demos and `flowrun run --assume`;
 * a step without `assuming` for a returned field fails the type check like a bad answer would.
 *
 * @example runAction({ flow, input, runtimeConfig: { modelResolver: assumingModelResolver } })
 */
export const assumingModelResolver: ModelResolver = () => ({
  generate(request: AskRequest): Promise<Record<string, unknown>> {
    const answer: Record<string, unknown> = { ...request.assuming };
    request.onText(JSON.stringify(answer));
    return Promise.resolve(answer);
  },
});
