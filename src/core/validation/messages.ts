/**
 * The validator's messages as keys and templates, so a front end can say them in another
 * language (the flow language's seven, src/dsl/keywords/). Every issue keeps its English
 * `message`, rendered here from the same template with the same values: the JSON and TypeScript
 * API and HTTP errors read exactly as before. Core holds the keys and the English; it knows
 * nothing of the languages that translate them.
 *
 * Only the messages a definition compiled from a `.flow` program can produce have a key: a
 * problem with JSON a compiler writes itself (an unknown `stepType`, a malformed `retry`) keeps a
 * plain English message, and a front end shows it as it is.
 */

/** An issue as errors.ts declares `ValidationIssue` (repeated here so errors.ts may import this file's types). */
interface KeyedIssue {
  path: string;
  message: string;
  readonly localizable?: LocalizableMessage;
}

/** The English template of every keyed message; `{name}` placeholders are filled with values. */
export const VALIDATION_MESSAGES = {
  // Parts of other messages.
  none: '(none)',
  moreNames: '{names}, … ({count} more)',
  didYouMean: '; did you mean "{name}"?',
  typeString: 'string',
  typeNumber: 'number',
  typeInteger: 'integer',
  typeBoolean: 'boolean',
  typeObject: 'object',
  typeArray: 'array',
  typeNull: 'null',
  schemaAt: ' (schema: {pointer})',
  whatEventName: 'the event name',
  whatModelId: 'a model id such as "anthropic:claude-sonnet-4-6"',
  whatServiceAccount: 'a service account id',
  whatTarget: 'a context target such as "$.vars.count"',
  // Fields, names and ids.
  invalidFlowId: 'invalid flow id {value}: expected segments of letters, digits, "_", "." and "-" joined by "/", maybe after "@scope/" (e.g. "orders/process")',
  emptyName: 'a name must not be empty',
  reservedName: 'the name "{name}" is reserved',
  requiredWhat: '"{key}" is required: {what}',
  expectedNonEmpty: 'expected {what} (a non-empty string), got {value}',
  // Steps and what they refer to.
  unknownStep: 'unknown step "{name}"; known steps: {known}',
  decideNeedsTransition: 'a DECIDE step needs at least one transition',
  invalidExpression: 'invalid expression {source}: {problem}',
  invalidMappingSource: 'invalid mapping source {source}: {problem}',
  invalidTarget: 'invalid target {target}: {problem}',
  unknownName: 'unknown name "{name}" in {source}{suggestion}; an expression reads {roots}',
  unknownRoot: 'unknown context root "{name}" in {source}{suggestion}; an expression reads {roots}',
  noSuchStep: '"{written}" in {source} names no step of this graph{suggestion}; its steps: {known} (a step reads the outputs of its own graph\'s steps only)',
  noSuchParam: '"{written}" in {source} names no param of the action{suggestion}; its params: {known} (it is undefined unless the caller passes it anyway)',
  modelFormat: 'model {value} should be "provider:model", such as "openai:gpt-4o"',
  notReturnedField: '"{name}" is not a returned field; returned fields: {known}',
  invalidEventName: 'expected an event name (1-200 letters, digits, "_", ".", ":", "/" or "-"), got {value}',
  paramDefaultMismatch: 'default of param "{name}" does not fit its type: {problem}',
  valueExpectedType: 'expected {types}, got {value}{schema}',
  valueMissingProperty: 'missing required property "{property}"{schema}',
  // Calls of other flows.
  paramNotBound: 'required param "{name}" of action "{action}" of flow "{flow}" is not bound; bind it in inputMappings ("{prefix}{name}": "$.vars.x", or one mapping per property such as "{prefix}{name}.id") or literals{note}',
  noSuchProperty: 'param "{name}" declares no property "{property}"; its properties: {known}',
  propertyNotBound: 'required property "{property}" of param "{name}" is not bound; add "{prefix}{name}.{property}" to inputMappings',
  flowNotDeployed: 'flow "{flow}" is not deployed yet: this call is checked when it runs',
  flowHasNoAction: 'flow "{flow}" has no action "{action}"{suggestion}; its actions: {known}',
  // Expressions: where, then what (jsep's own words, and the converter's).
  exprAt: '{problem} at column {column} in expression "{source}"',
  exprIn: '{problem} in expression "{source}"',
  jsepUnexpectedQuoted: 'Unexpected "{token}"',
  jsepUnexpectedToken: 'Unexpected token {token}',
  jsepUnexpectedPeriod: 'Unexpected period',
  jsepUnexpected: 'Unexpected {token}',
  // jsep's words at the end of the source: nothing follows them.
  jsepUnexpectedEnd: 'Unexpected ',
  jsepExpectedAfter: 'Expected expression after {token}',
  jsepExpectedExpression: 'Expected expression',
  jsepExpectedComma: 'Expected comma',
  jsepExpected: 'Expected {token}',
  jsepExpectedExponent: 'Expected exponent ({text})',
  jsepUnclosed: 'Unclosed {token}',
  jsepUnclosedQuoteAfter: 'Unclosed quote after "{text}"',
  jsepNameStartsWithDigit: 'Variable names cannot start with a number ({text})',
  jsepMissingOperand: 'missing unaryOp argument',
  jsepObjectProperty: 'unexpected object property',
  jsepMissingBrace: 'missing }',
  exprUnclosedQuote: 'Unclosed quote {quote}',
  exprEmptyInterpolation: 'Expected an expression inside ${}',
  exprUnclosedInterpolation: 'Expected } to close ${',
  exprInvalidEscape: 'Invalid \\{letter} escape',
  exprBlockedProperty: 'property "{name}" is not accessible',
  exprOperator: 'operator "{operator}" is not supported',
  exprEmptySlot: 'an array literal may not have empty slots',
  exprThis: '"this" is not available',
  exprEmpty: 'the expression is empty',
  exprNew: '"new" is not allowed',
  exprTwoExpressions: 'expected an operator between two expressions (only one expression is allowed)',
  exprComma: 'comma-separated expressions are not allowed outside calls, arrays and objects',
  exprUnsupported: 'unsupported syntax ({syntax})',
  exprObjectEntry: 'an object literal holds only "key: value" entries',
  exprObjectKey: 'an object key must be a name, a string or [an expression]',
  exprMethod: '.{name}() is not a method expressions may call (allowed: {allowed})',
  exprCallByName: 'only built-in functions and methods may be called, by name',
  exprFunction: '{name}() is not a function expressions may call (allowed: {allowed})',
  exprArity: '{name}() takes {expected} arguments, got {count}',
  exprTooDeep: 'more than {bound} levels of nesting',
  arityRange: '{min} to {max}',
  // JSONPath sources and write targets.
  invalidJsonPath: 'invalid JSONPath "{source}": {problem}',
  invalidJsonPathFilter: 'invalid filter in JSONPath "{source}": {problem}',
  pathStartsWithDollar: 'a JSONPath starts with "$"',
  pathExpectedName: 'expected a property name at column {column}',
  pathExpectedNameGot: 'expected a property name at column {column}, got "{name}"',
  pathUnclosed: 'unclosed {token} at column {column}',
  pathUnclosedFilter: 'unclosed filter at column {column}',
  pathEmptyBrackets: 'empty [] at column {column}',
  pathUnexpected: 'unexpected "{char}" at column {column}',
  pathNotAccessible: '"{name}" is not accessible',
  targetEmpty: 'a context target must be a path such as $.vars.x or $.outputs.x',
  targetInvalid: 'invalid target "{target}": {problem}',
  targetNotOnePlace: 'target "{target}" must name one place: no wildcards, filters, slices, unions or ".."',
  targetRoot: 'target "{target}" must start with vars (or flow_variables) or outputs',
  targetRootNot: 'target "{target}" must start with vars (or flow_variables) or outputs, not "{first}"',
  targetNoVariable: 'target "{target}" names no variable: write to $.{root}.<name>',
  // Schedules.
  invalidCron: 'invalid cron {value}: {problem}',
  cronFieldCount: 'expected 5 or 6 fields, got {count}',
  cronNickname: 'nicknames such as @daily are not accepted: write the fields',
  // Croner's words, and its names of the fields.
  cronInvalidValue: 'Invalid value for {field}: {value}',
  cronSecond: 'second',
  cronMinute: 'minute',
  cronHour: 'hour',
  cronDay: 'day',
  cronMonth: 'month',
  cronDayOfWeek: 'dayOfWeek',
  cronYear: 'year',
  unknownTimeZone: 'unknown time zone {value} (an IANA name such as "Europe/Paris")',
  invalidInterval: 'invalid interval {value}: a duration such as "15m", "1h30m" or "10s" (at least 1s)',
  notServiceAccount: 'must be a service account id',
  invalidScheduleName: 'expected a schedule name (1-128 letters, digits, "_", ".", ":" or "-"), got {value}',
  duplicateScheduleName: 'another schedule of this flow is named "{name}"',
} as const;

/** One keyed validator message. */
export type ValidationMessageKey = keyof typeof VALIDATION_MESSAGES;

/** Templates for every key, in one language: what a translation must provide (a missing key does not compile). */
export type ValidationTemplates = Readonly<Record<ValidationMessageKey, string>>;

/**
 * A value filled into a template: text as written (a name from the definition, a quoted value, a
 * list of names), a number, or another keyed message rendered in the same language.
 */
export type MessageValue = string | number | LocalizableMessage;

/** A message as a key and its values, to be rendered in any language. */
export interface LocalizableMessage {
  readonly key: ValidationMessageKey;
  readonly values: Readonly<Record<string, MessageValue>>;
}

/** What a check reports: a keyed message, or plain English text (kept as it is in every language). */
export type IssueMessage = string | LocalizableMessage;

/** A keyed message with its values. */
export function msg(key: ValidationMessageKey, values: Record<string, MessageValue> = {}): LocalizableMessage {
  return { key, values };
}

/**
 * Renders a message with `templates` (English by default). Plain text comes back as it is; a
 * placeholder without a value stays as written, so a template never loses text.
 */
export function renderMessage(message: IssueMessage, templates: ValidationTemplates = VALIDATION_MESSAGES): string {
  if (typeof message === 'string') return message;
  return templates[message.key].replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (!Object.hasOwn(message.values, name)) return whole;
    const value = message.values[name]!;
    return typeof value === 'object' ? renderMessage(value, templates) : String(value);
  });
}

/**
 * An issue whose `message` is the English rendering of `message`. A keyed message is attached as
 * `localizable`, a property that is not enumerable: JSON (HTTP bodies, `--json`), spreads and
 * equality see `{path, message}` as before, and a front end reads it with {@link localizableOf}.
 */
export function issueOf(path: string, message: IssueMessage): KeyedIssue {
  const issue: KeyedIssue = { path, message: renderMessage(message) };
  if (typeof message !== 'string') Object.defineProperty(issue, 'localizable', { value: message, enumerable: false });
  return issue;
}

/** The keyed message of an issue, or its plain English text when it has none. */
export function messageOf(issue: Omit<KeyedIssue, 'path'>): IssueMessage {
  return issue.localizable ?? issue.message;
}

/** Names joined for a message: `(none)` when empty, the first 20 and a count of the rest when long. */
export function namesValue(names: readonly string[]): MessageValue {
  if (names.length === 0) return msg('none');
  return names.length > 20 ? msg('moreNames', { names: names.slice(0, 20).join(', '), count: names.length - 20 }) : names.join(', ');
}
