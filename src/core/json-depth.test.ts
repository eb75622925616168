import { describe, expect, it } from 'vitest';
import { describePath, findTooDeep, nestingIssue } from './json-depth.js';

/** `{a: {a: … 1}}` nested `levels` objects deep, built without recursion. */
function nested(levels: number, key = 'a'): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { [key]: value };
  return value;
}

describe('findTooDeep', () => {
  it('accepts a value exactly at the limit and refuses one level more, naming its path', () => {
    expect(findTooDeep(nested(5), 5)).toBeNull();
    expect(findTooDeep(nested(6), 5)).toEqual(['a', 'a', 'a', 'a', 'a']);
    expect(findTooDeep([[[[]]]], 3)).toEqual([0, 0, 0]);
    expect(findTooDeep({ x: 1, y: [1, 2, { z: {} }] }, 4)).toBeNull();
    expect(findTooDeep({ x: 1, y: [1, 2, { z: {} }] }, 3)).toEqual(['y', 2, 'z']);
    expect(findTooDeep({ x: 1, y: [1, 2, { z: {} }] }, 2)).toEqual(['y', 2]);
    expect(findTooDeep('text', 1)).toBeNull();
  });

  it('checks a 100,000-level value without exhausting the stack', () => {
    expect(findTooDeep(nested(100_000), 100)).toHaveLength(100);
    expect(findTooDeep(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 100)).toHaveLength(100);
  });

  it('ends on a cycle, reporting it as too deep', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(findTooDeep(cyclic, 10)).toHaveLength(10);
  });

  it('walks shared references a bounded number of times (a doubling value is not exponential)', () => {
    let value: unknown = [];
    for (let i = 0; i < 60; i++) value = [value, value]; // 2^60 paths, 61 levels
    expect(findTooDeep(value, 100)).toBeNull();
    expect(findTooDeep(value, 50)).toHaveLength(50);
  });
});

describe('nestingIssue', () => {
  it('names where the limit was crossed, abbreviated', () => {
    expect(nestingIssue(nested(200), { path: 'input', maxDepth: 100 })).toEqual({ path: 'input.a.a.a.a.a.a…(100 levels)', message: expect.stringContaining('more than 100 levels') });
    expect(describePath('payload', ['a', 0, 'b c'])).toBe('payload.a[0]["b c"]');
    expect(nestingIssue({ a: 1 }, { path: 'input', maxDepth: 100 })).toBeNull();
  });
});

describe('validateFlow on a hostile definition', () => {
  it('reports a 100,000-level schema as an issue instead of exhausting the stack', async () => {
    const { validateFlow } = await import('./validation/validate-flow.js');
    let schema: unknown = { type: 'string' };
    for (let i = 0; i < 100_000; i++) schema = { type: 'object', properties: { a: schema } };
    const result = validateFlow({ id: 't/x', classes: { C: schema }, actions: { main: { startAt: 'e', steps: { e: { stepType: 'COMPUTE', expression: '1' } } } } });
    expect(result).toMatchObject({ ok: false, issues: [{ path: 'classes.C.properties.a.properties.a…(1000 levels)', message: expect.stringContaining('1000 levels') }] });
  });
});
