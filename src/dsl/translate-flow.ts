/**
 * `translateFlow`: rewrites a program's keywords in another of the seven languages, leaving names,
 * strings, expressions, comments and layout as they are, so the result compiles to the identical
 * FlowDefinition.
 */
import { compileFlow, parseProgram, type CompileFlowOptions } from './compile-flow.js';
import type { Diagnostic } from './diagnostics.js';
import { LANGUAGE_CODES, languageOf } from './keywords/languages.js';

/** Options of {@link translateFlow}. */
export interface TranslateFlowOptions extends CompileFlowOptions {
  /** The target language code. */
  to: string;
  /**
   * Write a `// language: xx` first line (default true). An existing header is always rewritten;
   * a program without one gets a new first line, which shifts every line number by one.
   */
  header?: boolean;
}

/** The translated text, or the problems that stop the program from compiling. */
export type TranslateFlowResult = { ok: true; text: string } | { ok: false; diagnostics: Diagnostic[] };

/**
 * Translates a program that compiles into language `to`. Never throws; a program with errors (or
 * an unknown target language) comes back as diagnostics.
 */
export function translateFlow(text: string, options: TranslateFlowOptions): TranslateFlowResult {
  const compiled = compileFlow(text, options);
  if (!compiled.ok) return compiled;
  const target = languageOf(String(options.to).toLowerCase());
  if (!target) {
    const message = `unknown language "${String(options.to)}"; known languages: ${LANGUAGE_CODES.join(', ')}`;
    return { ok: false, diagnostics: [{ line: 1, column: 1, code: 'UNKNOWN_LANGUAGE', message, localizedMessage: message, language: 'en', found: String(options.to) }] };
  }
  const parsed = parseProgram(text, { ...options, recordSpans: true });
  const lines = text.split(/\r\n|\r|\n/);
  // Replace right to left within a line so earlier columns stay valid.
  const spans = [...(parsed.spans ?? [])].sort((a, b) => a.at.line - b.at.line || b.at.column - a.at.column);
  for (const span of spans) {
    const i = span.at.line - 1;
    const line = lines[i]!;
    const start = span.at.column - 1;
    lines[i] = line.slice(0, start) + target.words[span.key][0]! + line.slice(start + span.length);
  }
  const header = `// language: ${target.language}`;
  if (parsed.header) lines[0] = header;
  else if (options.header !== false) lines.unshift(header);
  return { ok: true, text: lines.join('\n') };
}
