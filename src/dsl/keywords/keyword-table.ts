/**
 * The shape of one language of the flow language: its keywords and its diagnostic messages.
 * Each language lives in its own file (`en.ts`, `es.ts`, …); programs in any of them compile to
 * the same FlowDefinition, because the parser works on the canonical keys below, never on words.
 */
import type { ValidationTemplates } from '../../core/validation/messages.js';

/** The canonical keys of the language's words (the English spelling, except `required`). */
export const KEYWORD_KEYS = [
  'machine', 'accepts', 'implements', 'flows', 'flow', 'subscribes', 'on',
  'run', 'goto', 'launch', 'decide', 'when', 'otherwise', 'compute', 'set', 'fail',
  'ask', 'using', 'from', 'with', 'task', 'returns', 'as', 'assuming', 'action', 'call',
  'wait', 'emit', 'for', 'until',
  'schedule', 'every', 'in',
  'required', 'default',
  'text', 'number', 'boolean', 'map', 'list', 'any',
] as const;

/** One canonical keyword. */
export type KeywordKey = (typeof KEYWORD_KEYS)[number];

/** The diagnostic messages of the compiler; `{name}` placeholders are filled in. */
export interface DiagnosticMessages {
  /** `{expected}`, `{found}` */
  expected: string;
  /** `{found}`: what the line starts with. */
  indentation: string;
  /** `{what}`: a quote or a bracket. */
  unclosed: string;
  /** `{what}` (flow, step, param), `{name}`, `{line}` */
  duplicate: string;
  /** `{name}`, `{known}` */
  unknownFlow: string;
  /** `{found}`, `{known}` */
  unknownLanguage: string;
  /** `{message}`: a problem the flow validator found in the compiled definition, rendered from `validation`. */
  invalid: string;
  /** `{name}`: the known keyword or name closest to a misspelt one, appended to another message. */
  didYouMean: string;
  /** Words used inside messages. */
  words: { endOfLine: string; aStatement: string; aName: string; aString: string; anExpression: string; aType: string; aValue: string; nothing: string };
}

/**
 * A language: the word (or words, the first one canonical) for each key. A key whose spelling
 * has a space (`is required`) is matched as consecutive words.
 */
export interface KeywordTable {
  /** The code in `// language: xx` and `compileFlow(text, {language})`. */
  language: string;
  /** The language's name, in English. */
  name: string;
  words: Record<KeywordKey, readonly string[]>;
  messages: DiagnosticMessages;
  /**
   * The flow validator's messages (core/validation/messages.ts) in this language: a template for
   * every key, with the English template's placeholders (a missing key does not compile).
   */
  validation: ValidationTemplates;
}
