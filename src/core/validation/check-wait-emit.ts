/**
 * Checks of WAIT and EMIT steps (DESIGN.md §2): a WAIT names exactly one of a duration, a time
 * or an event (with `match` expressions and a `timeoutMs` only for events); an EMIT names its
 * event and an optional payload expression.
 */
import { describeValue, joinPath } from '../describe-value.js';
import { expressionProblem } from '../expression/index.js';
import { msg } from './messages.js';
import { guarded, naming, type FieldChecker, type Obj } from './field-checker.js';

import { EVENT_NAME_PATTERN as EVENT_NAME } from './flow-shape.js';

/** Checks the WAIT-specific fields of `step`. */
export function checkWaitStep(checker: FieldChecker, step: Obj, path: string): void {
  const kinds = ['durationMs', 'until', 'event'].filter((k) => checker.present(step, k));
  if (kinds.length !== 1) {
    checker.add(path, `a WAIT step needs exactly one of "durationMs", "until" or "event", got ${kinds.length ? kinds.map((k) => `"${k}"`).join(' and ') : 'none'}`);
  }
  if (checker.present(step, 'durationMs')) checker.number(step, 'durationMs', path, { min: 0 });
  if (checker.present(step, 'until')) expression(checker, step, 'until', path);
  if (checker.present(step, 'event')) eventName(checker, step, path);
  if (checker.present(step, 'match')) {
    if (!checker.present(step, 'event')) checker.add(joinPath(path, 'match'), '"match" applies only to a WAIT for an event');
    const match = checker.namedObjects(step, 'match', path);
    for (const key of Object.keys(match ?? {})) expression(checker, match!, key, joinPath(path, 'match'));
  }
  if (checker.present(step, 'timeoutMs') && !checker.present(step, 'event')) {
    checker.add(joinPath(path, 'timeoutMs'), '"timeoutMs" of a WAIT step bounds a wait for an event; a timer needs none');
  }
}

/** Checks the EMIT-specific fields of `step`. */
export function checkEmitStep(checker: FieldChecker, step: Obj, path: string): void {
  if (!checker.present(step, 'event')) checker.add(joinPath(path, 'event'), '"event" is required: the name of the event to publish');
  else eventName(checker, step, path);
  if (checker.present(step, 'payload')) expression(checker, step, 'payload', path);
}

function eventName(checker: FieldChecker, step: Obj, path: string): void {
  if (typeof step.event !== 'string' || !EVENT_NAME.test(step.event)) {
    checker.add(joinPath(path, 'event'), msg('invalidEventName', { value: describeValue(step.event) }));
  }
}

function expression(checker: FieldChecker, obj: Obj, key: string, path: string): void {
  const source = obj[key];
  if (typeof source !== 'string') {
    checker.add(joinPath(path, key), `expected an expression (a string), got ${describeValue(source)}`);
    return;
  }
  const error = guarded(() => expressionProblem(source));
  if (error !== undefined) checker.add(joinPath(path, key), naming(source, error, (problem) => msg('invalidExpression', { source: describeValue(source), problem })));
}
