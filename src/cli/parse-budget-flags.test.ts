import { describe, expect, it } from 'vitest';
import { DEFAULT_BUDGETS } from '../core/budgets.js';
import { parseBudgetFlags } from './parse-budget-flags.js';

describe('--budget NAME=VALUE', () => {
  it('sets any budget, the last of a repeated one winning', () => {
    expect(parseBudgetFlags(['maxStateBytes=1048576', 'maxStepsPerRun=5_000', 'maxStateBytes=2048'])).toEqual({ maxStateBytes: 2048, maxStepsPerRun: 5000 });
    expect(parseBudgetFlags([])).toEqual({});
    for (const name of Object.keys(DEFAULT_BUDGETS)) expect(parseBudgetFlags([`${name}=7`])).toEqual({ [name]: 7 });
  });

  it('refuses with INVALID_INPUT naming each bad flag', () => {
    let error: unknown;
    try {
      parseBudgetFlags(['maxStateByte=10', 'maxValueBytes=-1', 'maxStepsPerRun', 'maxRunDurationMs=1e9', 'maxValueBytes=0']);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({
      code: 'INVALID_INPUT',
      issues: [
        { path: '--budget maxStateByte=10', message: expect.stringContaining('"maxStateByte" is not a budget; the budgets are maxValueBytes') },
        { path: '--budget maxValueBytes=-1', message: expect.stringContaining('positive number') },
        { path: '--budget maxStepsPerRun', message: expect.stringContaining('NAME=VALUE') },
        { path: '--budget maxRunDurationMs=1e9', message: expect.stringContaining('positive number') },
        { path: '--budget maxValueBytes=0', message: expect.stringContaining('positive number') },
      ],
    });
  });
});
