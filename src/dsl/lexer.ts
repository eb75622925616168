/**
 * The lexer of the flow language: splits a program into logical lines (a line whose brackets or
 * string are still open continues on the next ones), strips `//` comments, and arranges the lines
 * into a tree by indentation. It never throws; problems become {@link LexProblem}s.
 */

/** A position in the source: 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** Where a piece of a logical line starts: its offset in the text and its place in the source. */
interface Segment {
  offset: number;
  line: number;
  column: number;
}

/** A logical line with its indented children. */
export class SourceLine {
  children: SourceLine[] = [];
  constructor(
    /** The text without indentation and comment, trailing spaces trimmed; may span physical lines. */
    public text: string,
    readonly indent: number,
    private readonly segments: Segment[],
  ) {}

  /** Where `text[offset]` is in the source. */
  positionOf(offset: number): Position {
    let seg = this.segments[0]!;
    for (let i = 1; i < this.segments.length && this.segments[i]!.offset <= offset; i++) seg = this.segments[i]!;
    return { line: seg.line, column: seg.column + Math.max(0, offset - seg.offset) };
  }
}

/** A problem found while reading lines. */
export interface LexProblem {
  at: Position;
  kind: 'indentation' | 'unclosed';
  /** The unclosed quote or bracket, or the start of the mis-indented line. */
  what: string;
}

/** The lines of a program as a tree, the language header if any, and problems. */
export interface LexResult {
  roots: SourceLine[];
  header?: { language: string; at: Position };
  problems: LexProblem[];
}

const HEADER = /^\s*\/\/\s*language\s*:\s*(\S*)\s*$/i;
const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** What is still open at the end of a scanned piece of text. */
interface ScanState {
  /** Open brackets and quotes, innermost last; a `${` in a string is pushed as '${'. */
  stack: string[];
  /** Offset where each stack entry opened. */
  opened: number[];
}

/**
 * Scans `text` from offset `from` with `state` (what was open before) and returns the offset of
 * a `//` comment outside strings, or -1. Updates `state` with what is open at the end.
 */
export function scanLine(text: string, from: number, state: ScanState): number {
  const { stack, opened } = state;
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Fast path: letters, digits, spaces and operators other than quotes, brackets and `/`.
    if (code !== 34 && code !== 39 && code !== 40 && code !== 41 && code !== 91 && code !== 93 && code !== 123 && code !== 125 && code !== 47 && code !== 92 && code !== 36 && stack.length === 0) continue;
    const ch = text[i]!;
    const top = stack[stack.length - 1];
    if (top === '"' || top === "'") {
      if (ch === '\\') i++;
      else if (ch === top) {
        stack.pop();
        opened.pop();
      } else if (ch === '$' && text[i + 1] === '{') {
        stack.push('${');
        opened.push(i);
        i++;
      }
      continue;
    }
    if (ch === '"' || ch === "'") {
      stack.push(ch);
      opened.push(i);
    } else if (ch === '(' || ch === '[' || ch === '{') {
      stack.push(ch);
      opened.push(i);
    } else if (ch === ')' || ch === ']' || ch === '}') {
      // A stray closer is left to the expression parser to report; only matching ones pop.
      if (top !== undefined && (CLOSERS[top] === ch || (top === '${' && ch === '}'))) {
        stack.pop();
        opened.pop();
      }
    } else if (ch === '/' && text[i + 1] === '/' && top !== '${') {
      // The expression language has no `//`, so outside strings it always starts a comment.
      return i;
    }
  }
  return -1;
}

/** Reads a program into a tree of logical lines. Never throws. */
export function readLines(source: string): LexResult {
  const physical = source.split(/\r\n|\r|\n/);
  const problems: LexProblem[] = [];
  let header: LexResult['header'];
  const flat: SourceLine[] = [];
  // One scan state, emptied for every logical line.
  const state: ScanState = { stack: [], opened: [] };
  let n = 0;
  while (n < physical.length) {
    const first = physical[n]!;
    if (n === 0) {
      const match = HEADER.exec(first);
      if (match) {
        header = { language: match[1]!.toLowerCase(), at: { line: 1, column: first.indexOf(match[1]!) + 1 } };
        n++;
        continue;
      }
    }
    let indent = 0;
    while (indent < first.length && (first.charCodeAt(indent) === 32 || first.charCodeAt(indent) === 9)) indent++;
    // Offsets into `text` map back to (line, column) through these segments.
    const segments: Segment[] = [];
    let text = '';
    state.stack.length = 0;
    state.opened.length = 0;
    let lineNo = n;
    let start = indent;
    for (;;) {
      const raw = physical[lineNo]!;
      const piece = start === 0 ? raw : raw.slice(start);
      const base = text.length;
      segments.push({ offset: base, line: lineNo + 1, column: start + 1 });
      text = base === 0 ? piece : text + piece;
      const comment = scanLine(text, base, state);
      if (comment >= 0) text = text.slice(0, comment);
      lineNo++;
      const open = state.stack.length > 0;
      if (!open || lineNo >= physical.length) break;
      // An open string does not continue on the next line; brackets do.
      const top = state.stack[state.stack.length - 1]!;
      if (top === '"' || top === "'") break;
      text += '\n';
      start = 0;
    }
    const line = new SourceLine(text.trimEnd(), indent, segments);
    if (state.stack.length > 0) {
      const innermost = state.stack.length - 1;
      problems.push({ at: line.positionOf(state.opened[innermost]!), kind: 'unclosed', what: state.stack[innermost]! });
    }
    n = lineNo;
    if (line.text === '') continue;
    flat.push(line);
  }
  return { roots: nest(flat, problems), ...(header ? { header } : {}), problems };
}

/** Arranges lines into a tree: a line's children are the following lines indented deeper. */
function nest(lines: SourceLine[], problems: LexProblem[]): SourceLine[] {
  const roots: SourceLine[] = [];
  // Open blocks: the line whose children are being collected, and the indent of those children.
  const stack: { line: SourceLine | null; childIndent: number | null; indent: number }[] = [{ line: null, childIndent: null, indent: -1 }];
  for (const line of lines) {
    while (stack.length > 1 && line.indent <= stack[stack.length - 1]!.indent) stack.pop();
    const parent = stack[stack.length - 1]!;
    if (parent.childIndent === null) parent.childIndent = line.indent;
    else if (line.indent !== parent.childIndent) {
      problems.push({ at: line.positionOf(0), kind: 'indentation', what: line.text.slice(0, 20) });
    }
    (parent.line ? parent.line.children : roots).push(line);
    stack.push({ line, childIndent: null, indent: line.indent });
  }
  return roots;
}
