/**
 * A cursor over one logical line: words, names, quoted strings, punctuation, expressions (up to
 * the end of the line or the next `key:` argument) and literal values. Keywords are matched
 * through the program's keyword table, so the grammar never sees a spelling.
 */
import { DiagnosticSink, generic, keywords, type Localized } from './diagnostics.js';
import type { KeywordKey } from './keywords/keyword-table.js';
import type { KeywordIndex } from './keywords/languages.js';
import type { Position, SourceLine } from './lexer.js';

/** A keyword occurrence: where a keyword was read, for translation. */
export interface KeywordSpan {
  at: Position;
  length: number;
  key: KeywordKey;
}

const WORD = /[\p{L}\p{N}_]+/uy;
const NAME = /[\p{L}_][\p{L}\p{N}_]*/uy;
const MACHINE_ID = /@?[\p{L}\p{N}_.-]+(\/[\p{L}\p{N}_.-]+)*/uy;
const ARG_KEY = /([\p{L}_][\p{L}\p{N}_]*)\s*:(?!:)/uy;
/** An argument key inside a line of arguments: no space before its colon. */
const TIGHT_ARG_KEY = /[\p{L}_][\p{L}\p{N}_]*:(?!:)/uy;
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const SPACE = /[ \t\n\u3000]*/y;
/** Full-width punctuation → the ASCII the grammar uses (keyword syntax only; expressions keep their own rules). */
const FULL_WIDTH: Record<string, string> = { '（': '(', '）': ')', '：': ':', '，': ',', '、': ',' };

/** Reads one logical line; reports problems to the sink and returns undefined on failure. */
export class LineReader {
  pos = 0;
  constructor(
    readonly line: SourceLine,
    private readonly index: KeywordIndex,
    private readonly sink: DiagnosticSink,
    /** Where keywords were read (for translation); null when nobody needs them. */
    private readonly spans: KeywordSpan[] | null,
  ) {}

  get text(): string {
    return this.line.text;
  }

  at(offset = this.pos): Position {
    return this.line.positionOf(offset);
  }

  skipSpace(): void {
    SPACE.lastIndex = this.pos;
    SPACE.exec(this.text);
    this.pos = SPACE.lastIndex;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.pos >= this.text.length;
  }

  /** The next token as written, for "found …" in messages. */
  found(): string {
    this.skipSpace();
    const rest = this.text.slice(this.pos);
    if (rest === '') return '';
    WORD.lastIndex = this.pos;
    const w = WORD.exec(this.text);
    return w ? w[0] : rest.slice(0, Math.min(rest.length, 12)).split('\n')[0]!;
  }

  /** Reports "expected …, found <next token>" here. */
  fail(expected: Localized): undefined {
    const found = this.found();
    this.sink.expected(this.at(), expected, found);
    return undefined;
  }

  /** The key of the keyword at the cursor among `keys`, consuming it; undefined (nothing consumed) if none matches. */
  keyword(...keys: KeywordKey[]): KeywordKey | undefined {
    this.skipSpace();
    WORD.lastIndex = this.pos;
    const first = WORD.exec(this.text);
    if (!first) return undefined;
    const entries = this.index.byFirstWord.get(first[0].toLowerCase());
    if (!entries) return undefined;
    for (const { key, rest } of entries) {
      if (!keys.includes(key)) continue;
      let p = WORD.lastIndex;
      let ok = true;
      for (const part of rest) {
        SPACE.lastIndex = p;
        SPACE.exec(this.text);
        WORD.lastIndex = SPACE.lastIndex;
        const m = WORD.exec(this.text);
        if (!m || m[0].toLowerCase() !== part) {
          ok = false;
          break;
        }
        p = WORD.lastIndex;
      }
      if (ok) {
        this.spans?.push({ at: this.at(), length: p - this.pos, key });
        this.pos = p;
        return key;
      }
    }
    return undefined;
  }

  /** Consumes a keyword or reports what was expected. */
  expectKeyword(key: KeywordKey): boolean {
    if (this.keyword(key)) return true;
    this.fail(keywords(key));
    return false;
  }

  /** True (consumed) if the next character is `ch`, or its full-width form (`（`, `）`, `：`, `，`/`、`) as CJK keyboards type them. */
  punct(ch: string): boolean {
    this.skipSpace();
    const next = this.text[this.pos];
    if (next === ch || (next !== undefined && FULL_WIDTH[next] === ch)) {
      this.pos += 1;
      return true;
    }
    return false;
  }

  expectPunct(ch: string): boolean {
    if (this.punct(ch)) return true;
    this.fail(() => `"${ch}"`);
    return false;
  }

  name(): { name: string; at: Position } | undefined {
    this.skipSpace();
    NAME.lastIndex = this.pos;
    const m = NAME.exec(this.text);
    // Names become keys of the definition; prototype keys would not be data.
    if (!m || RESERVED.has(m[0])) return this.fail(generic('aName'));
    const at = this.at();
    this.pos = NAME.lastIndex;
    return { name: m[0], at };
  }

  /** A machine id: a quoted string or `@org/path/name`. */
  machineId(): { name: string; at: Position } | undefined {
    this.skipSpace();
    const at = this.at();
    if (this.text[this.pos] === '"' || this.text[this.pos] === "'") {
      const s = this.string();
      return s === undefined ? undefined : { name: s, at };
    }
    MACHINE_ID.lastIndex = this.pos;
    const m = MACHINE_ID.exec(this.text);
    if (!m) return this.fail(generic('aName'));
    this.pos = MACHINE_ID.lastIndex;
    return { name: m[0], at };
  }

  /** A quoted string literal without `${}`, decoded. */
  string(): string | undefined {
    this.skipSpace();
    const start = this.pos;
    const value = readQuoted(this.text, start);
    if (value === undefined) return this.fail(generic('aString'));
    this.pos = value.end;
    return value.value;
  }

  /**
   * The source of an expression from the cursor: to the end of the line, or (with `stopAtArg`)
   * up to the next `key:` at bracket depth 0 outside strings.
   */
  expression(stopAtArg: boolean): { source: string; at: Position } | undefined {
    this.skipSpace();
    const start = this.pos;
    const end = stopAtArg ? nextArgKey(this.text, start) : this.text.length;
    const source = this.text.slice(start, end).trim();
    if (source === '') return this.fail(generic('anExpression'));
    this.pos = end;
    return { source, at: this.at(start) };
  }

  /** `key: expr` pairs up to the end of the line. */
  args(into: { key: string; source: string; at: Position }[]): boolean {
    while (!this.atEnd()) {
      ARG_KEY.lastIndex = this.pos;
      const m = ARG_KEY.exec(this.text);
      if (!m) {
        this.fail(() => 'key: value');
        return false;
      }
      if (RESERVED.has(m[1]!)) {
        this.fail(generic('aName'));
        return false;
      }
      const at = this.at();
      this.pos = ARG_KEY.lastIndex;
      const value = this.expression(true);
      if (!value) return false;
      into.push({ key: m[1]!, source: value.source, at });
    }
    return true;
  }

  /** True if the cursor is at `key:` (an argument). */
  atArgKey(): boolean {
    this.skipSpace();
    ARG_KEY.lastIndex = this.pos;
    return ARG_KEY.test(this.text);
  }

  /** A literal value: string, number, true/false/null, [..] or {key: ..}; used by `assuming` and defaults. */
  literal(): { value: unknown } | undefined {
    this.skipSpace();
    const result = readLiteral(this.text, this.pos);
    if (!result) return this.fail(generic('aValue'));
    this.pos = result.end;
    return { value: result.value };
  }

  rest(): string {
    this.skipSpace();
    return this.text.slice(this.pos);
  }
}

/** The offset of the next `key:` at depth 0 outside strings (preceded by a space), or the end. */
function nextArgKey(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'") {
      const q = readQuotedEnd(text, i);
      i = q - 1;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth = Math.max(0, depth - 1);
    else if (depth === 0 && i > from && /\s/.test(text[i - 1]!)) {
      TIGHT_ARG_KEY.lastIndex = i;
      // `cond ? a : b` has a space before its colon, so `name:` right after a space starts an argument.
      if (TIGHT_ARG_KEY.test(text)) return i;
    }
  }
  return text.length;
}

/** The offset just past a quoted string starting at `start` (with `${}` parts), or the end of the text. */
export function readQuotedEnd(text: string, start: number): number {
  const quote = text[start];
  let depth = 0;
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i]!;
    if (depth === 0) {
      if (ch === '\\') i++;
      else if (ch === quote) return i + 1;
      else if (ch === '$' && text[i + 1] === '{') {
        depth = 1;
        i++;
      }
    } else if (ch === '"' || ch === "'") i = readQuotedEnd(text, i) - 1;
    else if (ch === '{') depth++;
    else if (ch === '}') depth--;
  }
  return text.length;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0' };

/** A quoted string at `start`, decoded (`\n`, `\uXXXX`, `\"`…); `${` stays as written. */
export function readQuoted(text: string, start: number): { value: string; end: number } | undefined {
  const quote = text[start];
  if (quote !== '"' && quote !== "'") return undefined;
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === quote) return { value, end: i + 1 };
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) return undefined;
      if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 5;
      } else {
        value += ESCAPES[next] ?? next;
        i++;
      }
      continue;
    }
    value += ch;
  }
  return undefined;
}

const NUMBER = /-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/y;

/** A literal value at `start` (JSON-like: bare object keys allowed). Nesting is bounded. */
function readLiteral(text: string, start: number, depth = 0): { value: unknown; end: number } | undefined {
  if (depth > 64) return undefined;
  const skip = (p: number): number => {
    SPACE.lastIndex = p;
    SPACE.exec(text);
    return SPACE.lastIndex;
  };
  let p = skip(start);
  const ch = text[p];
  if (ch === '"' || ch === "'") return readQuoted(text, p);
  if (ch === '[' || ch === '{') {
    const isList = ch === '[';
    const close = isList ? ']' : '}';
    const out: unknown[] = [];
    const obj: Record<string, unknown> = {};
    p = skip(p + 1);
    if (text[p] === close) return { value: isList ? out : obj, end: p + 1 };
    for (;;) {
      let key = '';
      if (!isList) {
        const quoted = readQuoted(text, p);
        if (quoted) {
          key = quoted.value;
          p = quoted.end;
        } else {
          NAME.lastIndex = p;
          const m = NAME.exec(text);
          if (!m) return undefined;
          key = m[0];
          p = NAME.lastIndex;
        }
        p = skip(p);
        if (text[p] !== ':') return undefined;
        p++;
      }
      const item = readLiteral(text, p, depth + 1);
      if (!item) return undefined;
      if (isList) out.push(item.value);
      else if (key !== '__proto__') obj[key] = item.value;
      p = skip(item.end);
      if (text[p] === ',') {
        p = skip(p + 1);
        continue;
      }
      if (text[p] === close) return { value: isList ? out : obj, end: p + 1 };
      return undefined;
    }
  }
  NUMBER.lastIndex = p;
  const n = NUMBER.exec(text);
  if (n) return { value: Number(n[0]), end: NUMBER.lastIndex };
  WORD.lastIndex = p;
  const w = WORD.exec(text);
  if (w && (w[0] === 'true' || w[0] === 'false' || w[0] === 'null')) {
    return { value: w[0] === 'null' ? null : w[0] === 'true', end: WORD.lastIndex };
  }
  return undefined;
}
