/** The AI SDK adapter, against the SDK's own mock model (never the network). */
import { MockLanguageModelV3 } from 'ai/test';
import { simulateReadableStream } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../core/engine/engine.js';
import type { ItemEvent } from '../core/engine/types.js';
import { compileFlow } from '../dsl/compile-flow.js';
import { createMemoryStores } from '../store/memory/memory-store.js';
import { createManualClock, createSequentialIds } from '../testing/manual-clock.js';
import { aiSdkModelResolver } from './ai-sdk-model-resolver.js';

const usage = { inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 5, text: 5, reasoning: undefined } };

/** A mock model streaming `chunks` of text. */
function mockModel(chunks: string[]): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    doStream: async () => ({
      stream: simulateReadableStream({
        chunks: [
          { type: 'stream-start' as const, warnings: [] },
          { type: 'text-start' as const, id: 't' },
          ...chunks.map((delta) => ({ type: 'text-delta' as const, id: 't', delta })),
          { type: 'text-end' as const, id: 't' },
          { type: 'finish' as const, finishReason: { unified: 'stop' as const, raw: 'stop' }, usage },
        ],
      }),
    }),
  });
}

const program = [
  'machine rater',
  '  accepts',
  '    title as text, is required',
  '  implements',
  '    ask rate, using: "mock:rater"',
  '      with task "Rate the book " + input.title',
  '      title: input.title',
  '      returns score as number, verdict as text',
  '    compute result {score: steps.rate.score, verdict: steps.rate.verdict}',
].join('\n');

let engine: Engine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

function compiled() {
  const result = compileFlow(program);
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.flow;
}

describe('aiSdkModelResolver', () => {
  it('runs an ask on an AI SDK model: structured output, streamed text as item updates, the prompt it was given', async () => {
    const model = mockModel(['{"score"', ': 4, "verdict": ', '"a classic"}']);
    const modelResolver = aiSdkModelResolver({ languageModel: (id) => (id === 'mock:rater' ? model : undefined) });
    engine = new Engine({ stores: createMemoryStores(), clock: createManualClock(), ids: createSequentialIds(), poll: false, runtimeConfig: { modelResolver } });
    const events: ItemEvent[] = [];
    const result = await engine.runAction({ flow: compiled(), input: { title: 'Dune' }, onItem: (e) => events.push(e) });
    expect(result.error).toBeUndefined();
    expect(result.output).toEqual({ score: 4, verdict: 'a classic' });
    expect(events.map((e) => [e.change, (e.item.content as { text: string }).text])).toEqual([
      ['added', '{"score"'],
      ['updated', '{"score": 4, "verdict": '],
      ['updated', '{"score": 4, "verdict": "a classic"}'],
      ['done', '{"score": 4, "verdict": "a classic"}'],
    ]);
    const call = model.doStreamCalls[0]!;
    expect(call.responseFormat).toMatchObject({ type: 'json', schema: { type: 'object', required: ['score', 'verdict'] } });
    expect(JSON.stringify(call.prompt)).toContain('Rate the book Dune');
    expect(JSON.stringify(call.prompt)).toContain('\\"title\\": \\"Dune\\"');
  });

  it('fails the step when the model answers something that is not the requested object', async () => {
    const modelResolver = aiSdkModelResolver({ languageModel: () => mockModel(['not json']), maxRetries: 0 });
    engine = new Engine({ stores: createMemoryStores(), clock: createManualClock(), ids: createSequentialIds(), poll: false, runtimeConfig: { modelResolver } });
    const result = await engine.runAction({ flow: compiled(), input: { title: 'Dune' } });
    expect(result.status).toBe('FAILED');
    expect(result.error!.code).toBe('MODEL_FAILED');
  });

  it('leaves unknown model ids to MODEL_NOT_CONFIGURED', async () => {
    const modelResolver = aiSdkModelResolver({ languageModel: () => undefined });
    engine = new Engine({ stores: createMemoryStores(), clock: createManualClock(), ids: createSequentialIds(), poll: false, runtimeConfig: { modelResolver } });
    const result = await engine.runAction({ flow: compiled(), input: { title: 'Dune' } });
    expect(result.error!.code).toBe('MODEL_NOT_CONFIGURED');
  });
});
