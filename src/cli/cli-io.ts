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

let endsQuietly = false;

/**
 * A reader that went away (`flowrun --help | head -1`, `flowrun runs list | grep -q …`) ends the
 * output: the process exits with the code it has so far, not with an EPIPE stack trace and code 1.
 * Any other error of stdout stays what it was. Installed once, for the real process only.
 */
export function endQuietlyWhenStdoutCloses(): void {
  if (endsQuietly) return;
  endsQuietly = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}
