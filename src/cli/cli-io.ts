/**
 * Where the CLI writes: the process's stdout and stderr, or a buffer in tests.
 */

/** Output of the CLI. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (colour and symbols). */
  isTty: boolean;
}

/** The real process streams. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  isTty: Boolean(process.stdout.isTTY),
};
