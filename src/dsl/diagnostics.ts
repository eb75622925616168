/**
 * Diagnostics of the flow language: every problem with its line and column, what was expected and
 * what was found, in English and in the program's own language.
 */
import { en } from './keywords/en.js';
import type { DiagnosticMessages, KeywordKey, KeywordTable } from './keywords/keyword-table.js';
import type { Position } from './lexer.js';
import { closestName } from '../core/validation/did-you-mean.js';
import { renderMessage, type IssueMessage, type LocalizableMessage } from '../core/validation/messages.js';
import { languageOf } from './keywords/languages.js';

/** The kinds of problems `compileFlow` reports. */
export type DiagnosticCode = 'SYNTAX' | 'INDENTATION' | 'UNCLOSED' | 'DUPLICATE' | 'UNKNOWN_FLOW' | 'UNKNOWN_LANGUAGE' | 'INVALID_DEFINITION';

/** One problem in a program. Lines and columns are 1-based. */
export interface Diagnostic {
  line: number;
  column: number;
  code: DiagnosticCode;
  /** The message in English. */
  message: string;
  /** The same message in the program's language (equal to `message` for English programs). */
  localizedMessage: string;
  /** The program's language code. */
  language: string;
  /** What the compiler expected here (English), for syntax errors. */
  expected?: string;
  /** What it found instead (as written). */
  found?: string;
  /** `compileFlow`'s `file` option. */
  file?: string;
  /** For INVALID_DEFINITION: the path of the problem in the compiled definition. */
  path?: string;
}

/** Renders one message part in a given language. */
export type Localized = (table: KeywordTable) => string;

/** Fills `{name}` placeholders. */
function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** The first spelling of a keyword in a language. */
export function word(table: KeywordTable, key: KeywordKey): string {
  return table.words[key][0]!;
}

/** A localized list of keywords: `compute, decide, run…`. */
export function keywords(...keys: KeywordKey[]): Localized {
  return (t) => keys.map((k) => word(t, k)).join(', ');
}

/** A localized generic word (`a name`, `an expression`…). */
export function generic(name: keyof DiagnosticMessages['words']): Localized {
  return (t) => t.messages.words[name];
}

/**
 * A flow validator issue's message in one of the flow language's languages: its keyed template
 * from that language's table, or its English text when the validator gave it no key (or the
 * language is unknown). What `flowrun check` prints for the problems of a program that compiled.
 */
export function localizedIssueMessage(issue: { message: string; localizable?: LocalizableMessage | undefined }, language: string): string {
  const table = languageOf(language);
  return table && issue.localizable ? renderMessage(issue.localizable, table.validation) : issue.message;
}

/** Collects diagnostics in the program's language and in English. */
export class DiagnosticSink {
  readonly diagnostics: Diagnostic[] = [];
  constructor(
    public table: KeywordTable,
    private readonly file: string | undefined,
  ) {}

  private push(
    at: Position,
    code: DiagnosticCode,
    message: keyof Omit<DiagnosticMessages, 'words'>,
    values: Record<string, string | Localized>,
    extra: Partial<Diagnostic> = {},
    suggestion?: Localized,
  ): void {
    const render = (t: KeywordTable): string => {
      const filled: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) filled[k] = typeof v === 'function' ? v(t) : v;
      const suggested = suggestion?.(t);
      return fill(t.messages[message], filled) + (suggested ? `; ${fill(t.messages.didYouMean, { name: suggested })}` : '');
    };
    this.diagnostics.push({
      line: at.line,
      column: at.column,
      code,
      message: render(en),
      localizedMessage: render(this.table),
      language: this.table.language,
      ...(this.file !== undefined ? { file: this.file } : {}),
      ...extra,
    });
  }

  /** `expected X, found Y`. `found` is the text as written (or the end of the line when empty). */
  expected(at: Position, expected: Localized, found: string): void {
    const foundText: Localized = (t) => (found === '' ? t.messages.words.endOfLine : `"${found}"`);
    // A misspelt keyword: the closest of the keywords expected here, in the program's language.
    const suggestion: Localized = (t) => (found === '' ? '' : (closestName(found, expected(t).split(', ')) ?? ''));
    this.push(at, 'SYNTAX', 'expected', { expected, found: foundText }, { expected: expected(en), found: found === '' ? en.messages.words.endOfLine : found }, suggestion);
  }

  /** A line indented to a column no enclosing block uses. */
  indentation(at: Position, found: string): void {
    this.push(at, 'INDENTATION', 'indentation', { found });
  }

  /** A string or bracket still open at the end of its line (or of the program). */
  unclosed(at: Position, what: string): void {
    this.push(at, 'UNCLOSED', 'unclosed', { what: what === '${' ? '${' : what });
  }

  /** A flow, step or param defined twice. */
  duplicate(at: Position, what: Localized, name: string, line: number): void {
    this.push(at, 'DUPLICATE', 'duplicate', { what, name, line: String(line) });
  }

  /** `run`, `goto` or a subscription naming a flow the machine does not have. */
  unknownFlow(at: Position, name: string, known: string[]): void {
    const closest = closestName(name, known) ?? '';
    this.push(at, 'UNKNOWN_FLOW', 'unknownFlow', { name, known: known.length ? known.join(', ') : '—' }, { found: name }, () => closest);
  }

  /** A language code that is not one of the seven. */
  unknownLanguage(at: Position, found: string, known: string[]): void {
    this.push(at, 'UNKNOWN_LANGUAGE', 'unknownLanguage', { found, known: known.join(', ') }, { found });
  }

  /**
   * A problem `validateFlow` found in the compiled definition, at the line of its step, in the
   * program's language when the validator keyed it (core/validation/messages.ts; plain English
   * text stays as it is). The message leaves out the definition path (kept in `path`): the line
   * and column say where it is in the program, and the path names JSON the author never wrote.
   */
  invalid(at: Position, path: string, message: IssueMessage): void {
    this.push(at, 'INVALID_DEFINITION', 'invalid', { message: (t) => renderMessage(message, t.validation) }, { path });
  }
}
