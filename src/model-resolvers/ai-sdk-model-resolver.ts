/**
 * `flowrun/ai-sdk`: ASK steps on any model of the Vercel AI SDK (package `ai`, an optional peer
 * dependency). The step's `returns` become a JSON Schema the SDK asks the model to follow; the
 * text the model streams reaches the run as item updates; the parsed object is the step's output,
 * which flowrun then checks against `returns` again.
 */
import { Output, jsonSchema, streamText, type LanguageModel } from 'ai';
import type { AskRequest, ModelResolver } from '../core/engine/steps/model-resolver.js';

/** Options of {@link aiSdkModelResolver}. */
export interface AiSdkModelResolverOptions {
  /**
   * The AI SDK model for a step's model id (`provider:model`), or undefined when unknown (the
   * step then fails with MODEL_NOT_CONFIGURED). With a provider registry:
   * `(id) => registry.languageModel(id)` — the registry's `provider:model` ids are the DSL's.
   */
  languageModel: (modelId: string) => LanguageModel | undefined;
  /** A system prompt for every ask (default: tells the model to answer with the requested fields). */
  system?: string;
  /** The SDK's retries of a failed model call (default 2, the SDK's own). Step-level retries come on top. */
  maxRetries?: number;
  /** Sampling temperature, passed through. */
  temperature?: number;
}

const DEFAULT_SYSTEM = 'You are a step of an automated flow. Do the task and answer only with a JSON object with exactly the requested fields.';

/**
 * A model resolver over the AI SDK. Each ask streams one structured-output generation; an
 * aborted run aborts the request.
 *
 * @example
 * import { createProviderRegistry } from 'ai';
 * import { aiSdkModelResolver } from 'flowrun/ai-sdk';
 * const registry = createProviderRegistry({ anthropic, openai });
 * createEngine({ stores, runtimeConfig: { modelResolver: aiSdkModelResolver({ languageModel: (id) => registry.languageModel(id as never) }) } });
 */
export function aiSdkModelResolver(options: AiSdkModelResolverOptions): ModelResolver {
  return (modelId) => {
    const model = options.languageModel(modelId);
    if (model === undefined) return undefined;
    return {
      async generate(request: AskRequest): Promise<Record<string, unknown>> {
        const result = streamText({
          model,
          system: options.system ?? DEFAULT_SYSTEM,
          prompt: promptOf(request),
          output: Output.object({ schema: jsonSchema<Record<string, unknown>>(request.schema as Parameters<typeof jsonSchema>[0]) }),
          abortSignal: request.signal,
          ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
          // Errors surface through the awaited output below; the default handler would only log them.
          onError: () => undefined,
        });
        for await (const delta of result.textStream) request.onText(delta);
        return await result.output;
      },
    };
  };
}

/** The task, then the step's input as JSON (when it has any), then the fields to produce. */
function promptOf(request: AskRequest): string {
  const parts = [request.task];
  if (Object.keys(request.input).length > 0) parts.push(`Input:\n${JSON.stringify(request.input, null, 2)}`);
  parts.push(`Answer with these fields: ${Object.keys(request.returns).join(', ')}.`);
  return parts.filter((p) => p !== '').join('\n\n');
}
