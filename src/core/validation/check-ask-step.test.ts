/** Validation of ASK steps: model, task, typed returns, assuming values that fit. */
import { describe, expect, it } from 'vitest';
import { validateFlow } from './validate-flow.js';

function issuesOf(step: Record<string, unknown>): { path: string; message: string }[] {
  const result = validateFlow({ id: 'f', actions: { main: { startAt: 'a', steps: { a: { stepType: 'ASK', ...step } } } } });
  return result.ok ? [] : result.issues;
}

describe('ASK step validation', () => {
  it('accepts a model, a task expression, typed returns and fitting assuming values', () => {
    expect(issuesOf({ model: 'openai:gpt-4o', task: '"Rate " + input.x', returns: { score: { type: 'number' }, tags: { type: 'list' }, extra: { schema: { type: 'object' } } }, assuming: { score: 1, tags: [] } })).toEqual([]);
  });

  it('names every problem: model, task, returns, assuming', () => {
    const issues = issuesOf({ model: 'gpt', task: '1 +', returns: { score: { type: 'float' } }, assuming: { score: 1, other: 2 } });
    expect(issues.map((i) => i.path)).toEqual([
      'actions.main.steps.a.model',
      'actions.main.steps.a.task',
      'actions.main.steps.a.returns.score.type',
      'actions.main.steps.a.assuming.other',
    ]);
    expect(issues[0]!.message).toContain('"provider:model"');
    expect(issues[2]!.message).toContain('unknown type "float"');
  });

  it('needs returns, and checks assuming values against their type', () => {
    expect(issuesOf({ model: 'a:b' }).map((i) => i.path)).toEqual(['actions.main.steps.a.returns']);
    const issues = issuesOf({ model: 'a:b', returns: { ok: { type: 'boolean' } }, assuming: { ok: 'yes' } });
    expect(issues).toEqual([expect.objectContaining({ path: 'actions.main.steps.a.assuming.ok', message: expect.stringContaining('boolean') })]);
  });

  it('refuses fields an ASK step does not have', () => {
    expect(issuesOf({ model: 'a:b', returns: {}, prompt: 'x' }).map((i) => i.path)).toEqual(['actions.main.steps.a.prompt']);
  });
});
