/**
 * Checks of a RUN_FLOW call against the action it calls (seed 000, DESIGN.md §3 "Input mapping",
 * "Return mapping"): every required param of the callee is bound, and every return mapping names
 * a returned output whose type fits its target — a collection a collection of the same class
 * (of the same structure, when the classes come from two flows), a variable a variable of the
 * same type, a schema a schema of the same structure.
 *
 * When they run: a call of the same flow is checked when the definition is validated, since the
 * callee is part of it. A call of another flow is checked when the call runs, against the callee
 * version that actually runs, before the child run starts (the step fails with
 * INVALID_DEFINITION, with the same paths and messages): the callee is resolved per call
 * (`LATEST_PUBLISHED` moves with every publish), and flows may be deployed in any order. Its
 * params are checked on their values then: a missing one fails the step with INVALID_INPUT naming it.
 */
import { describeValue, joinPath } from '../describe-value.js';
import type { ValidationIssue } from '../errors.js';
import { isObj, list, type Obj } from './field-checker.js';
import { stableStringify } from '../json.js';
import { parseContextTarget } from '../mapping.js';
import { issueOf, msg, namesValue } from './messages.js';

/** A call to check: the RUN_FLOW step, where it is, the callee's action and the caller's declarations. */
export interface CallToCheck {
  step: Obj;
  /** The step's path in the caller (`actions.main.steps.call`). */
  path: string;
  callee: { flowId: string; actionName: string; action: Obj; classes: Obj | undefined };
  /** The caller's vars and (the calling action's, or in a subflow every action's) outputs; undefined when undeclared. */
  caller: { vars: Obj | undefined; outputs: Obj | undefined; classes: Obj | undefined };
  /** Check that required params are bound (definition time); at call time their values are checked instead. */
  checkParams: boolean;
  /** Where the params sit in the step's input: '' for a call, `initialContextData.` for a launch (START_FLOW_EXECUTION). */
  paramsPrefix?: string;
}

/** Every problem of the call, each with the path of the mapping at fault. */
export function checkCall(call: CallToCheck): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (call.checkParams) checkParamsBound(call, issues);
  checkReturnMappings(call, issues);
  return issues;
}

function checkParamsBound(call: CallToCheck, issues: ValidationIssue[]): void {
  const { step, path, callee } = call;
  const literals = isObj(step.literals) ? step.literals : {};
  const mapped = isObj(step.inputMappings) ? Object.keys(step.inputMappings) : [];
  const params = isObj(callee.action.params) ? callee.action.params : {};
  const at = joinPath(path, 'inputMappings');
  const p = call.paramsPrefix ?? '';
  for (const [name, def] of Object.entries(params)) {
    if (!isObj(def)) continue;
    const whole = Object.hasOwn(literals, name) || mapped.includes(name);
    const properties = mapped.filter((key) => key.startsWith(`${name}.`)).map((key) => key.slice(name.length + 1).split('.')[0]!);
    if (!whole && properties.length === 0) {
      if (def.required === true && def.default === undefined) {
        issues.push(issueOf(at, msg('paramNotBound', { name, action: callee.actionName, flow: callee.flowId, prefix: p, note: p === '' ? '' : ` (${p.slice(0, -1)})` })));
      }
      continue;
    }
    // Bound property by property: each property must exist on the schema, each required one be bound.
    const schema = isObj(def.schema) ? def.schema : undefined;
    if (whole || !schema || !isObj(schema.properties)) continue;
    const declared = schema.properties;
    if (schema.additionalProperties === false) {
      for (const property of new Set(properties)) {
        if (!Object.hasOwn(declared, property)) issues.push(issueOf(joinPath(at, `${p}${name}.${property}`), msg('noSuchProperty', { name, property, known: namesValue(Object.keys(declared)) })));
      }
    }
    const required = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : [];
    for (const property of required) {
      if (!properties.includes(property) && def.default === undefined) {
        issues.push(issueOf(at, msg('propertyNotBound', { property, name, prefix: p })));
      }
    }
  }
}

function checkReturnMappings(call: CallToCheck, issues: ValidationIssue[]): void {
  const { step, path, callee, caller } = call;
  if (!Array.isArray(step.returnMappings)) return;
  const outputs = isObj(callee.action.outputs) ? callee.action.outputs : {};
  step.returnMappings.forEach((mapping, i) => {
    if (!isObj(mapping) || typeof mapping.output !== 'string') return;
    const itemPath = `${joinPath(path, 'returnMappings')}[${i}]`;
    const output = mapping.output;
    const outputDef = Object.hasOwn(outputs, output) ? outputs[output] : undefined;
    if (!isObj(outputDef) || outputDef.returned !== true) {
      const returned = Object.keys(outputs).filter((name) => isObj(outputs[name]) && (outputs[name] as Obj).returned === true);
      issues.push({ path: joinPath(itemPath, 'output'), message: `output "${output}" is not a returned output of action "${callee.actionName}"; returned outputs: ${list(returned)}` });
      return;
    }
    const target = typeof mapping.target === 'string' ? parseContextTarget(mapping.target) : undefined;
    // A nested target (`$.vars.report.lines`) has no declaration of its own to compare with.
    if (target === undefined || typeof target === 'string' || target.path.length !== 1) return;
    const name = target.path[0]!;
    const declared = target.root === 'vars' ? caller.vars : caller.outputs;
    const targetDef = declared && Object.hasOwn(declared, name) ? declared[name] : undefined;
    if (!isObj(targetDef)) return;
    const mismatch = typeMismatch({ def: outputDef, classes: callee.classes }, { def: targetDef, classes: caller.classes });
    if (mismatch !== null) {
      const targetName = `${target.root === 'vars' ? 'var' : 'output'} "${name}"`;
      issues.push({ path: joinPath(itemPath, 'target'), message: `returned output "${output}" is ${describeType(outputDef)} but ${targetName} is ${describeType(targetDef)}${mismatch}` });
    }
  });
}

/** Null when a value of type `a` fits a target of type `b`; otherwise what differs ('' when the types themselves say it). */
function typeMismatch(a: { def: Obj; classes: Obj | undefined }, b: { def: Obj; classes: Obj | undefined }): string | null {
  const untyped = (d: Obj): boolean => (d.type === undefined && d.schema === undefined && d.collection === undefined) || d.type === 'any';
  if (untyped(a.def) || untyped(b.def)) return null;
  if (a.def.collection !== undefined || b.def.collection !== undefined) {
    if (a.def.collection !== b.def.collection) return '';
    // Classes of one name in two flows must describe the same thing.
    const name = String(a.def.collection);
    const classA = a.classes && Object.hasOwn(a.classes, name) ? a.classes[name] : undefined;
    const classB = b.classes && Object.hasOwn(b.classes, name) ? b.classes[name] : undefined;
    if (classA === classB || classA === undefined || classB === undefined) return null;
    const diff = structureDifference(classA, classB, '');
    return diff === null ? null : `; class "${name}" differs between the flows: ${diff}`;
  }
  if (a.def.schema !== undefined || b.def.schema !== undefined) {
    if (a.def.schema === undefined || b.def.schema === undefined) return '';
    const diff = structureDifference(a.def.schema, b.def.schema, '');
    return diff === null ? null : `, of another structure: ${diff}`;
  }
  return a.def.type === b.def.type ? null : '';
}

/**
 * Where two schemas differ in structure — `type`, the names and structure of `properties`, and
 * `items` (and `$ref`s, compared as written) — or null when they match. Titles, descriptions,
 * formats and bounds are not structure.
 */
export function structureDifference(a: unknown, b: unknown, at: string): string | null {
  const where = at === '' ? 'at the top' : `at ${at}`;
  if (!isObj(a) || !isObj(b)) return stableStringify(a) === stableStringify(b) ? null : `${where}: ${describeValue(a)} vs ${describeValue(b)}`;
  const typeOf = (s: Obj): string => stableStringify(Array.isArray(s.type) ? [...(s.type as unknown[])].map(String).sort() : (s.type ?? null));
  if (typeOf(a) !== typeOf(b)) return `${where}: type ${typeOf(a)} vs ${typeOf(b)}`;
  if (stableStringify(a.$ref ?? null) !== stableStringify(b.$ref ?? null)) return `${where}: $ref ${describeValue(a.$ref)} vs ${describeValue(b.$ref)}`;
  const propsA = isObj(a.properties) ? a.properties : {};
  const propsB = isObj(b.properties) ? b.properties : {};
  const namesA = Object.keys(propsA).sort();
  const namesB = Object.keys(propsB).sort();
  const onlyA = namesA.filter((n) => !Object.hasOwn(propsB, n));
  const onlyB = namesB.filter((n) => !Object.hasOwn(propsA, n));
  if (onlyA.length || onlyB.length) {
    const parts = [onlyA.length ? `only the returned value has ${list(onlyA)}` : '', onlyB.length ? `only the target has ${list(onlyB)}` : ''].filter(Boolean);
    return `${where}: properties differ (${parts.join('; ')})`;
  }
  for (const name of namesA) {
    const diff = structureDifference(propsA[name], propsB[name], joinPath(at === '' ? 'properties' : `${at}.properties`, name));
    if (diff !== null) return diff;
  }
  if ((a.items === undefined) !== (b.items === undefined)) return `${where}: only one of them declares items`;
  return a.items === undefined ? null : structureDifference(a.items, b.items, at === '' ? 'items' : `${at}.items`);
}

function describeType(def: Obj): string {
  if (def.collection !== undefined) return `a collection of ${describeValue(def.collection)}`;
  if (def.type !== undefined) return `of type ${describeValue(def.type)}`;
  if (def.schema !== undefined) return 'a schema type';
  return 'untyped';
}
