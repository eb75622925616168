/** The ASK step: models from runtimeConfig.modelResolver, typed fields, streamed text. */
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowDefinition } from '../../model.js';
import { createMemoryStores } from '../../../store/memory/memory-store.js';
import { createManualClock, createSequentialIds } from '../../../testing/manual-clock.js';
import { Engine } from '../engine.js';
import { assumingModelResolver, type AskRequest, type ModelResolver } from './model-resolver.js';
import type { ItemEvent } from '../types.js';

const flow: FlowDefinition = {
  id: 'ask/demo',
  actions: {
    main: {
      params: { title: { type: 'text', required: true } },
      startAt: 'rate',
      steps: {
        rate: {
          stepType: 'ASK',
          model: 'test:model',
          task: '"Rate the title " + input.title',
          inputMappings: { title: 'input.title' },
          returns: { score: { type: 'number' }, tags: { type: 'list' } },
          assuming: { score: 3, tags: ['ok'] },
          defaultNextStepInstanceId: 'after',
        },
        after: { stepType: 'COMPUTE', expression: '{score: steps.rate.score, first: steps.rate.tags[0]}' },
      },
    },
  },
};

let engine: Engine | undefined;
afterEach(async () => {
  await engine?.close();
  engine = undefined;
});

function start(modelResolver?: ModelResolver): Engine {
  engine = new Engine({ stores: createMemoryStores(), clock: createManualClock(), ids: createSequentialIds(), poll: false, runtimeConfig: modelResolver ? { modelResolver } : {} });
  return engine;
}

/** A model that streams `chunks` and answers `answer`, recording what it was asked. */
function scripted(answer: unknown, chunks: string[] = [], seen: AskRequest[] = []): ModelResolver {
  return (modelId) =>
    modelId === 'test:model'
      ? {
          async generate(request) {
            seen.push(request);
            for (const chunk of chunks) request.onText(chunk);
            return answer as Record<string, unknown>;
          },
        }
      : undefined;
}

describe('ASK step', () => {
  it('fails with MODEL_NOT_CONFIGURED when the engine has no model resolver', async () => {
    const result = await start().runAction({ flow, input: { title: 'x' } });
    expect(result.status).toBe('FAILED');
    expect(result.error).toMatchObject({ code: 'MODEL_NOT_CONFIGURED' });
    expect(result.error!.message).toContain('test:model');
  });

  it('fails with MODEL_NOT_CONFIGURED when the resolver does not know the model', async () => {
    const result = await start(scripted({})).runAction({ flow: { ...flow, actions: { main: { ...flow.actions.main!, steps: { ...flow.actions.main!.steps, rate: { ...flow.actions.main!.steps.rate!, model: 'other:model' } as never } } } }, input: { title: 'x' } });
    expect(result.error).toMatchObject({ code: 'MODEL_NOT_CONFIGURED' });
  });

  it('answers offline with the assuming values through assumingModelResolver', async () => {
    const result = await start(assumingModelResolver).runAction({ flow, input: { title: 'x' } });
    expect(result.output).toEqual({ score: 3, first: 'ok' });
  });

  it('gives the model the task, the input and a schema of the fields, and keeps only the declared fields', async () => {
    const seen: AskRequest[] = [];
    const result = await start(scripted({ score: 5, tags: ['a', 'b'], extra: 'dropped' }, [], seen)).runAction({ flow, input: { title: 'Dune' } });
    expect(result.output).toEqual({ score: 5, first: 'a' });
    expect(seen[0]).toMatchObject({
      modelId: 'test:model',
      task: 'Rate the title Dune',
      input: { title: 'Dune' },
      schema: { type: 'object', properties: { score: { type: 'number' }, tags: { type: 'array' } }, required: ['score', 'tags'] },
    });
  });

  it('fails with ASK_INVALID_OUTPUT naming each field that does not fit its type', async () => {
    const result = await start(scripted({ score: 'high' })).runAction({ flow, input: { title: 'x' } });
    expect(result.error).toMatchObject({ code: 'ASK_INVALID_OUTPUT' });
    expect(result.error!.message).toMatch(/score .*expected number/);
    expect(result.error!.message).toContain('tags is missing');
  });

  it('streams the generated text as updates of one item, transient, then done', async () => {
    const events: ItemEvent[] = [];
    const result = await start(scripted({ score: 1, tags: [] }, ['{"sco', 're": 1,', ' "tags": []}'])).runAction({ flow, input: { title: 'x' }, onItem: (e) => events.push(e) });
    expect(result.status).toBe('SUCCEEDED');
    expect(events.map((e) => [e.change, e.type, (e.item.content as { text: string }).text, e.transient])).toEqual([
      ['added', 'ask.text', '{"sco', true],
      ['updated', 'ask.text', '{"score": 1,', true],
      ['updated', 'ask.text', '{"score": 1, "tags": []}', true],
      ['done', 'ask.text', '{"score": 1, "tags": []}', true],
    ]);
    // Transient: never in the persisted items.
    expect(result.items).toEqual([]);
  });

  it('turns a model error into the step failure, and retries it under the step\'s retry policy', async () => {
    let calls = 0;
    const flaky: ModelResolver = () => ({
      generate() {
        calls++;
        return calls === 1 ? Promise.reject(new Error('rate limited')) : Promise.resolve({ score: 2, tags: ['x'] });
      },
    });
    const retrying: FlowDefinition = { ...flow, actions: { main: { ...flow.actions.main!, steps: { ...flow.actions.main!.steps, rate: { ...flow.actions.main!.steps.rate!, retry: { maxAttempts: 2 } } } } } };
    const result = await start(flaky).runAction({ flow: retrying, input: { title: 'x' } });
    expect(result.output).toEqual({ score: 2, first: 'x' });
    expect(calls).toBe(2);
    await engine?.close();
    const broken: ModelResolver = () => ({ generate: () => Promise.reject(new Error('rate limited')) });
    const failed = await start(broken).runAction({ flow, input: { title: 'x' } });
    expect(failed.error).toMatchObject({ code: 'MODEL_FAILED', message: 'rate limited' });
  });

  it('aborts the model call when the run is canceled', async () => {
    let aborted = false;
    let started!: () => void;
    const generating = new Promise<void>((resolve) => (started = resolve));
    const hanging: ModelResolver = () => ({
      generate(request) {
        started();
        return new Promise((_, reject) => request.signal.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('aborted'));
        }));
      },
    });
    const e = start(hanging);
    const { requestId } = await e.startRun({ flow, input: { title: 'x' } });
    await generating;
    await e.cancelRun(requestId);
    const run = await e.waitForRun(requestId);
    expect(run.status).toBe('CANCELED');
    expect(aborted).toBe(true);
  });

  it('is rejected at deploy time when assuming does not fit returns', async () => {
    const bad = { ...flow, actions: { main: { ...flow.actions.main!, steps: { ...flow.actions.main!.steps, rate: { ...flow.actions.main!.steps.rate!, assuming: { score: 'x', nope: 1 } } } } } };
    await expect(start().deployFlow(bad as FlowDefinition)).rejects.toMatchObject({
      code: 'INVALID_DEFINITION',
      issues: expect.arrayContaining([
        expect.objectContaining({ path: 'actions.main.steps.rate.assuming.score' }),
        expect.objectContaining({ path: 'actions.main.steps.rate.assuming.nope', message: expect.stringContaining('not a returned field') }),
      ]),
    });
  });
});
