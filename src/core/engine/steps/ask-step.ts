/**
 * Execution of an ASK step: resolve the model through `runtimeConfig.modelResolver`, evaluate the
 * task, stream the generated text as updates of one transient item, and check the generated
 * fields against their declared types. A failed type check is retryable (a model may answer
 * better next time, under the step's `retry`); a missing model is not.
 */
import { StepFailedError, TimeoutError, ValidationError, toFlowError } from '../../errors.js';
import { evaluateExpression, type ExpressionScope } from '../../expression/index.js';
import type { AskStep, JsonSchema } from '../../model.js';
import { typeRefToSchema, validateValue } from '../../params.js';
import type { ItemHandle } from '../types.js';
import type { ModelResolver } from './model-resolver.js';
import { untilAborted } from './until-aborted.js';
import { leaseLostError } from './module-step.js';

/** What the ASK step needs from the step runner. */
export interface AskStepArgs {
  step: AskStep;
  stepId: string;
  runId: string;
  scope: ExpressionScope;
  input: Record<string, unknown>;
  resolver: ModelResolver | undefined;
  signal: AbortSignal;
  /** Whether the run's lease lets this process call out now (EngineCore.confirmLease): the model is asked only then. */
  confirmLease(): boolean | Promise<boolean>;
  emitItem(spec: { type: string; content?: unknown; transient?: boolean }): ItemHandle;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
}

/** The item type of an ASK step's generated text. */
export const ASK_TEXT_ITEM = 'ask.text';

/**
 * Runs an ASK step; resolves to the generated fields or throws a FlowError
 * (`MODEL_NOT_CONFIGURED`, `ASK_INVALID_OUTPUT`, the model's own error, `TIMEOUT`, `CANCELED`).
 */
export async function executeAskStep(args: AskStepArgs): Promise<Record<string, unknown>> {
  const { step, stepId, runId } = args;
  if (!args.resolver) {
    throw new StepFailedError('MODEL_NOT_CONFIGURED', `step ${stepId} asks model "${step.model}", but no runtimeConfig.modelResolver is configured (use assumingModelResolver offline)`, { runId, stepId, retryable: false });
  }
  const model = await args.resolver(step.model);
  if (!model) {
    throw new StepFailedError('MODEL_NOT_CONFIGURED', `step ${stepId} asks model "${step.model}", which the modelResolver does not know`, { runId, stepId, retryable: false, details: { model: step.model } });
  }
  const task = step.task === undefined ? '' : textOf(evaluateExpression(step.task, args.scope));
  // Asked only under a lease with time to spare, as a module is called (lease-keeper.ts).
  if (!(await args.confirmLease())) throw leaseLostError(args.signal, runId);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(args.signal.reason);
  if (args.signal.aborted) onAbort();
  else args.signal.addEventListener('abort', onAbort, { once: true });
  const timer = step.timeoutMs
    ? args.setTimeout(() => controller.abort(new TimeoutError(`step ${stepId} timed out after ${step.timeoutMs} ms`, { runId, stepId })), step.timeoutMs)
    : null;
  let text = '';
  let item: ItemHandle | undefined;
  try {
    const generation = model.generate({
      modelId: step.model,
      task,
      input: args.input,
      returns: step.returns,
      schema: objectSchema(step),
      assuming: step.assuming,
      signal: controller.signal,
      onText(delta: string): void {
        if (controller.signal.aborted || typeof delta !== 'string' || delta === '') return;
        text += delta;
        if (item) item.update({ text, model: step.model });
        else item = args.emitItem({ type: ASK_TEXT_ITEM, content: { text, model: step.model }, transient: true });
      },
    });
    const answer = await untilAborted(generation, controller.signal);
    item?.done({ text, model: step.model });
    return checkAnswer(step, stepId, runId, answer);
  } catch (error) {
    item?.done({ text, model: step.model, failed: true });
    throw controller.signal.aborted ? toFlowError(controller.signal.reason, 'CANCELED') : toFlowError(error, 'MODEL_FAILED');
  } finally {
    timer?.cancel();
    args.signal.removeEventListener('abort', onAbort);
  }
}

/** The generated object: exactly the returned fields, each of its type. */
function checkAnswer(step: AskStep, stepId: string, runId: string, answer: unknown): Record<string, unknown> {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw new StepFailedError('ASK_INVALID_OUTPUT', `model "${step.model}" answered step ${stepId} with ${JSON.stringify(answer)?.slice(0, 80)}, not an object of fields`, { runId, stepId, retryable: true });
  }
  const output: Record<string, unknown> = {};
  const issues = [];
  for (const [name, ref] of Object.entries(step.returns)) {
    const value = Object.hasOwn(answer, name) ? (answer as Record<string, unknown>)[name] : undefined;
    if (value === undefined) issues.push({ path: name, message: `is missing` });
    else issues.push(...validateValue(value, ref, undefined, name));
    output[name] = value;
  }
  if (issues.length > 0) {
    const list = issues.map((i) => `${i.path} ${i.message}`).join('; ');
    throw new StepFailedError('ASK_INVALID_OUTPUT', `model "${step.model}" gave step ${stepId} fields that do not fit "returns": ${list}`, {
      runId,
      stepId,
      retryable: true,
      cause: new ValidationError('INVALID_INPUT', issues),
      details: { issues },
    });
  }
  return output;
}

function objectSchema(step: AskStep): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [name, ref] of Object.entries(step.returns)) properties[name] = typeRefToSchema(ref) ?? {};
  return { type: 'object', properties, required: Object.keys(step.returns), additionalProperties: false };
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
}
