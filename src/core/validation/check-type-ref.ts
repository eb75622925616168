/**
 * Checks of the types a flow declares for its vars, action params and action outputs
 * (DESIGN.md §3): the fields each kind allows, the one way of typing it, and a default that fits.
 */
import { checkJsonSchema } from './check-json-schema.js';
import { describeValue, joinPath } from '../describe-value.js';
import { list, type FieldChecker, type Obj } from './field-checker.js';
import { validateValue } from '../params.js';
import { messageOf, msg } from './messages.js';
import { TYPE_REF_SHAPES, VAR_TYPES as VAR_TYPE_NAMES, fieldsOf } from './flow-shape.js';

/** What a type ref declares: a flow var, an action param, an action output or a field an ASK step generates. */
export type TypeRefKind = 'var' | 'param' | 'output' | 'field';

// Field lists and types from the one shape of a definition (flow-shape.ts).
const TYPE_REF_KEYS: Record<TypeRefKind, string[]> = {
  var: fieldsOf(TYPE_REF_SHAPES.var),
  param: fieldsOf(TYPE_REF_SHAPES.param),
  output: fieldsOf(TYPE_REF_SHAPES.output),
  field: fieldsOf(TYPE_REF_SHAPES.field),
};
const VAR_TYPES: readonly string[] = VAR_TYPE_NAMES;

/** One declaration for {@link checkTypeRef}. */
export interface TypeRefDeclaration {
  def: unknown;
  path: string;
  kind: TypeRefKind;
  /** The declared name, as messages quote it. */
  name: string;
  /** The flow's class names; undefined when `classes` is malformed (already reported), so collections are not checked. */
  classNames: string[] | undefined;
  classes: Obj | undefined;
}

/**
 * Checks a var, param or output declaration and reports every problem through `checker`: known
 * fields for its kind, at most one of `type`/`schema`/`collection`, each valid (a known type, a
 * usable JSON Schema, a declared class), and a `default` that fits the type. The default is only
 * checked when the type itself is usable, so one mistake is not reported twice.
 */
export function checkTypeRef(checker: FieldChecker, declaration: TypeRefDeclaration): void {
  const { def, path, kind, name, classNames, classes } = declaration;
  if (!checker.object(def, path)) return;
  checker.keys(def, TYPE_REF_KEYS[kind], path, `a ${kind}`);
  checker.optString(def, 'description', path);
  let usable = true;
  const kinds = ['type', 'schema', 'collection'].filter((k) => checker.present(def, k));
  if (kinds.length > 1) {
    usable = false;
    checker.add(path, `${kind} "${name}" declares ${kinds.map((k) => `"${k}"`).join(' and ')}; a ${kind} takes at most one of type, schema, collection`);
  }
  if (checker.present(def, 'type') && !(typeof def.type === 'string' && VAR_TYPES.includes(def.type))) {
    usable = false;
    checker.add(joinPath(path, 'type'), `unknown type ${describeValue(def.type)}; known types: ${VAR_TYPES.join(', ')}`);
  }
  if (checker.present(def, 'schema')) {
    const schemaIssues = checkJsonSchema(def.schema, joinPath(path, 'schema'));
    for (const issue of schemaIssues) checker.add(issue.path, messageOf(issue));
    if (schemaIssues.length > 0) usable = false;
  }
  if (checker.present(def, 'collection')) {
    const collection = def.collection;
    if (typeof collection !== 'string' || (classNames && !classNames.includes(collection))) {
      usable = false;
      const known = classNames && classNames.length > 0 ? `known classes: ${list(classNames)}` : 'the flow declares no classes';
      checker.add(joinPath(path, 'collection'), `unknown class ${describeValue(collection)}; ${known}`);
    }
  }
  if (kind === 'param') checker.optBoolean(def, 'required', path);
  if (kind === 'output') {
    checker.optBoolean(def, 'returned', path);
    checker.optBoolean(def, 'streamable', path);
    if (def.streamable === true && def.returned !== true) {
      checker.add(joinPath(path, 'streamable'), `output "${name}" is streamable but not returned; only a returned output can stream (set "returned": true)`);
    }
  }
  if (usable && checker.present(def, 'default')) {
    for (const issue of validateValue(def.default, def, classes as Record<string, Obj> | undefined, joinPath(path, 'default'))) {
      checker.add(issue.path, kind === 'param' ? msg('paramDefaultMismatch', { name, problem: messageOf(issue) }) : `default of ${kind} "${name}" does not fit its type: ${issue.message}`);
    }
  }
}
