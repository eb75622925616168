/** Keyed validator messages: the English stays what it was, and the key travels with the issue but not into JSON. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.js';
import { checkExpression, expressionProblem } from '../expression/index.js';
import { cronIssue } from '../schedule-slots.js';
import { messageOf, renderMessage } from './messages.js';
import { validateFlow } from './validate-flow.js';

describe('keyed validator messages', () => {
  it('keys what jsep and the expression checks say, rendering to the same English', () => {
    const mistakes = ['1 +* 2', 'a.', '(1', '[1, 2', '"abc', '1 2', 'foo()', 'this', 'new Foo', '[1,,2]', '(1, 2)', '9x', '1e', '1..2', 'a ? b', '"${}"', 'input.__proto__', 'x.toFixed()', 'JSON.stringify()'];
    for (const source of mistakes) {
      const problem = expressionProblem(source);
      expect(typeof problem, source).toBe('object');
      expect(renderMessage(problem!), source).toBe(checkExpression(source));
    }
  });

  it('keys an expression that nests too deeply', () => {
    const problem = expressionProblem(`${'['.repeat(80)}1${']'.repeat(80)}`);
    expect(problem).toMatchObject({ key: 'exprIn', values: { problem: { key: 'exprTooDeep', values: { bound: 64 } } } });
    expect(renderMessage(problem!)).toMatch(/^more than 64 levels of nesting in expression "\[\[/);
  });

  it('keys croner\'s out-of-range value, in its own words', () => {
    const problem = cronIssue('99 * * * *');
    expect(problem).toMatchObject({ key: 'cronInvalidValue', values: { field: { key: 'cronMinute' }, value: '99' } });
    expect(renderMessage(problem!)).toBe('Invalid value for minute: 99');
  });

  it('keeps issues {path, message} in JSON and equality, the key readable beside them', () => {
    const result = validateFlow({ id: 'f', actions: { main: { startAt: 'a', steps: { a: { stepType: 'COMPUTE', expression: '1 +* 2', defaultNextStepInstanceId: 'b' } } } } });
    if (result.ok) throw new Error('expected issues');
    expect(result.issues).toEqual([
      { path: 'actions.main.steps.a.defaultNextStepInstanceId', message: 'unknown step "b"; known steps: a' },
      { path: 'actions.main.steps.a.expression', message: 'Expected expression after + at column 4 in expression "1 +* 2"' },
    ]);
    expect(result.issues.map((issue) => messageOf(issue))).toMatchObject([{ key: 'unknownStep', values: { name: 'b', known: 'a' } }, { key: 'exprAt' }]);
    const error = new ValidationError('INVALID_DEFINITION', result.issues);
    expect(JSON.parse(JSON.stringify(error.details))).toEqual({ issues: result.issues.map(({ path, message }) => ({ path, message })) });
    expect(Object.keys(result.issues[1]!)).toEqual(['path', 'message']);
  });
});
