/**
 * What the CLI prints of text it did not write itself — labels, tags, log descriptions, flow
 * ids, item content, error messages from a server — goes through {@link printable}: a run's
 * label `"\x1b[2J evil"` must not clear the reader's terminal, retitle the window, or forge lines.
 */

// C0 controls, DEL, C1 controls (U+0080–U+009F: 8-bit CSI and OSC), and the bidirectional
// overrides and isolates that reorder what follows them on screen ("Trojan source").
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * The text with every control character written visibly as an escape: ESC → `\x1b`, newline →
 * `\n`, U+202E → `\u202e`. For one field of a line (a label, a table cell, an error message).
 * A backslash is left as it is, so paths stay readable; the escapes are for eyes, not for parsing
 * (`--json` is for scripts).
 */
export function printable(text: string): string {
  return text.replace(CONTROL, escapeOne);
}

/**
 * As {@link printable}, but newlines and tabs are kept: for whole blocks of output. The CLI's
 * io applies it to everything it writes, so even a path that forgot {@link printable} cannot
 * send an escape sequence to the terminal.
 */
export function printableLines(text: string): string {
  return text.replace(CONTROL_BUT_LINES, escapeOne);
}

function escapeOne(char: string): string {
  const named = NAMED[char];
  if (named) return named;
  const code = char.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
