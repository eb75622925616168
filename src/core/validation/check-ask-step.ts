/**
 * Checks of an ASK step (DESIGN.md §2): a model id, a task expression that parses, the typed
 * fields it returns, and `assuming` values that name returned fields and fit their types.
 */
import { checkTypeRef } from './check-type-ref.js';
import { describeValue, joinPath } from '../describe-value.js';
import { expressionProblem } from '../expression/index.js';
import { messageOf, msg, namesValue } from './messages.js';
import { guarded, isObj, naming, type FieldChecker, type Obj } from './field-checker.js';
import type { TypeRef } from '../model.js';
import { validateValue } from '../params.js';


/** Checks the ASK-specific fields of `step`, reporting through `checker`. */
export function checkAskStep(checker: FieldChecker, step: Obj, path: string, classNames: string[] | undefined): void {
  if (checker.nonEmptyString(step, 'model', path, msg('whatModelId'))) {
    const model = step.model as string;
    if (!model.includes(':')) checker.add(joinPath(path, 'model'), msg('modelFormat', { value: describeValue(model) }));
  }
  if (checker.present(step, 'task')) {
    const task = step.task;
    if (typeof task !== 'string') checker.add(joinPath(path, 'task'), `expected an expression (a string), got ${describeValue(task)}`);
    else {
      const error = guarded(() => expressionProblem(task));
      if (error !== undefined) checker.add(joinPath(path, 'task'), naming(task, error, (problem) => msg('invalidExpression', { source: describeValue(task), problem })));
    }
  }
  const returnsPath = joinPath(path, 'returns');
  if (!checker.present(step, 'returns')) {
    checker.add(returnsPath, '"returns" is required: the fields to generate, such as {"report": {"type": "text"}}');
    return;
  }
  const returns = checker.namedObjects(step, 'returns', path, true);
  if (!returns) return;
  for (const [name, def] of Object.entries(returns)) {
    checkTypeRef(checker, { def, path: joinPath(returnsPath, name), kind: 'field', name, classNames, classes: undefined });
  }
  if (!checker.present(step, 'assuming')) return;
  const assumingPath = joinPath(path, 'assuming');
  if (!checker.object(step.assuming, assumingPath)) return;
  for (const [name, value] of Object.entries(step.assuming as Obj)) {
    const def = Object.hasOwn(returns, name) ? returns[name] : undefined;
    if (!isObj(def)) {
      checker.add(joinPath(assumingPath, name), msg('notReturnedField', { name, known: namesValue(Object.keys(returns)) }));
      continue;
    }
    for (const issue of validateValue(value, def as TypeRef, undefined, joinPath(assumingPath, name))) checker.add(issue.path, messageOf(issue));
  }
}
