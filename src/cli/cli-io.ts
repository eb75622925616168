/**
 * Where the CLI writes: the process's stdout and stderr, or a buffer in tests.
 */

import { createStyle, type Style } from './style.js';

/** Output of the CLI. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (colour and symbols). */
  isTty: boolean;
  /** The CLI's colours; `main` sets it from the terminal, `NO_COLOR` and `--no-color` (plain when absent). */
  style?: Style;
  /** Whether stderr (where logs go) is a terminal: `--log-format` defaults to pretty there. */
  errIsTty?: boolean;
  /**
   * Where log lines go, as they are (default `err`): not escaped like `err`, so pino-pretty's
   * colours reach the terminal. Log lines escape what users wrote themselves (JSON strings).
   */
  log?(text: string): void;
}

/** The io's style, plain when it has none. */
export function styleOf(io: CliIo): Style {
  return io.style ?? PLAIN;
}

const PLAIN = createStyle(false);

/** The real process streams. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  isTty: Boolean(process.stdout.isTTY),
  errIsTty: Boolean(process.stderr.isTTY),
  log: (text) => void process.stderr.write(text),
};
