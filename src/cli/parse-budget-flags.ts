/**
 * `--budget NAME=VALUE` (repeatable) of `flowrun serve`: the budgets of every run the process
 * executes, over their defaults (README "Budgets").
 */
import { BUDGET_NAMES, resolveBudgets, type Budgets } from '../core/budgets.js';
import { ValidationError, type ValidationIssue } from '../core/errors.js';

/** Commander's collector for a repeatable option: each occurrence is added to the list. */
export function collectBudgetFlag(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/**
 * Parses `--budget` values (`maxStateBytes=1048576`) into budgets, checked as the engine checks
 * them. Throws INVALID_INPUT naming each bad flag: not `NAME=VALUE`, a name that is not a budget
 * (listing the budgets), or a value that is not a positive number. A budget given twice takes the last.
 */
export function parseBudgetFlags(flags: readonly string[]): Partial<Budgets> {
  const issues: ValidationIssue[] = [];
  const budgets: Partial<Budgets> = {};
  for (const flag of flags) {
    const at = flag.indexOf('=');
    const name = at < 0 ? flag : flag.slice(0, at).trim();
    const text = at < 0 ? '' : flag.slice(at + 1).trim().replaceAll('_', '');
    if (at < 0) issues.push({ path: `--budget ${flag}`, message: `must be NAME=VALUE, e.g. maxStateBytes=1048576; the budgets are ${BUDGET_NAMES.join(', ')}` });
    else if (!(BUDGET_NAMES as string[]).includes(name)) issues.push({ path: `--budget ${flag}`, message: `"${name}" is not a budget; the budgets are ${BUDGET_NAMES.join(', ')}` });
    else if (!/^\d+(\.\d+)?$/.test(text) || !(Number(text) > 0)) issues.push({ path: `--budget ${flag}`, message: `${name} must be a positive number, got ${JSON.stringify(flag.slice(at + 1))}` });
    else budgets[name as keyof Budgets] = Number(text);
  }
  if (issues.length) throw new ValidationError('INVALID_INPUT', issues);
  resolveBudgets(budgets);
  return budgets;
}
