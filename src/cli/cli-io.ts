/**
 * Where the CLI writes: the process's stdout and stderr, or a buffer in tests.
 */

/** Output of the CLI. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (colour and symbols). */
  isTty: boolean;
  /** Whether stderr (where logs go) is a terminal: `--log-format` defaults to pretty there. */
  errIsTty?: boolean;
  /**
   * Where log lines go, as they are (default `err`): not escaped like `err`, so pino-pretty's
   * colours reach the terminal. Log lines escape what users wrote themselves (JSON strings).
   */
  log?(text: string): void;
}

/** The real process streams. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  isTty: Boolean(process.stdout.isTTY),
  errIsTty: Boolean(process.stderr.isTTY),
  log: (text) => void process.stderr.write(text),
};
