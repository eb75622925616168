/**
 * Colour for the CLI's own words (`error`, `warning`, `ok`, the caret under a mistake), with
 * Node's `util.styleText`. Colour is on only on a terminal, and off with `NO_COLOR` (any value,
 * https://no-color.org), `--no-color` or `TERM=dumb`; `FORCE_COLOR` (not `0`) turns it on
 * elsewhere. What a flow or a server wrote is never styled: it goes through `printable`.
 */
import { styleText } from 'node:util';
import { printableLines } from './printable.js';

/** The styles the CLI uses; each returns its text unchanged when colour is off. */
export interface Style {
  readonly enabled: boolean;
  error(text: string): string;
  warning(text: string): string;
  ok(text: string): string;
  /** Secondary text: line numbers, the gutter, hints. */
  dim(text: string): string;
  bold(text: string): string;
}

/** Whether to colour: a terminal, no `NO_COLOR`, no `--no-color`, not `TERM=dumb`; or `FORCE_COLOR`. */
export function isColorWanted(input: { isTty: boolean; argv: readonly string[]; env: Readonly<Record<string, string | undefined>> }): boolean {
  if (input.argv.includes('--no-color')) return false;
  if (input.env.NO_COLOR !== undefined && input.env.NO_COLOR !== '') return false;
  if (input.env.FORCE_COLOR !== undefined && input.env.FORCE_COLOR !== '0') return true;
  return input.isTty && input.env.TERM !== 'dumb';
}

/** The styles, coloured or plain. */
export function createStyle(enabled: boolean): Style {
  // validateStream: false — whether to colour is decided above, for the stream the CLI writes to.
  const paint =
    (...formats: Parameters<typeof styleText>[0][]) =>
    (text: string): string =>
      enabled ? formats.reduce<string>((styled, format) => styleText(format, styled, { validateStream: false }), text) : text;
  return { enabled, error: paint('red', 'bold'), warning: paint('yellow', 'bold'), ok: paint('green'), dim: paint('dim'), bold: paint('bold') };
}

/** The escape sequences {@link createStyle} writes: the io lets exactly these through when colour is on. */
export const STYLE_SEQUENCES = /\x1b\[(?:1|2|22|31|32|33|39)m/g;

/**
 * As `printableLines`, but the style sequences of {@link createStyle} are kept: the io's last line
 * of defence when colour is on. Any other escape sequence is still written visibly.
 */
export function printableStyledLines(text: string): string {
  let result = '';
  let last = 0;
  for (const match of text.matchAll(STYLE_SEQUENCES)) {
    result += printableLines(text.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  return result + printableLines(text.slice(last));
}
