/**
 * The logger `flowrun serve` gives its engine and router: one JSON object per line (pino's
 * shape: `level`, `time`, `msg`, then the fields), written to stderr so stdout keeps the lines
 * people and scripts read (the URL, the token). Errors are reduced to name, code, message and
 * stack: a log line never carries a request body, a token, or a run's data beyond its id.
 */
import type { Logger } from '../core/engine/types.js';
import { FlowError } from '../core/errors.js';

/** Levels a {@link createLineLogger} writes, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of {@link createLineLogger}. */
export interface LineLoggerOptions {
  /** Receives each line, newline included. */
  write: (line: string) => void;
  /** Entries below this level are dropped (default `info`). */
  level?: LogLevel;
  /** Milliseconds since the epoch of an entry (default `Date.now`). */
  now?: () => number;
}

/**
 * A {@link Logger} writing JSON lines. A field that cannot be serialized (a cycle, a BigInt) is
 * written as a string instead of failing: logging never throws into the code that logs.
 *
 * @example
 * const logger = createLineLogger({ write: (line) => process.stderr.write(line) });
 * logger.error({ err, method: 'GET', path: '/runs' }, 'request failed');
 * // {"level":"error","time":"2026-…","msg":"request failed","method":"GET","path":"/runs","err":{…}}
 */
export function createLineLogger(options: LineLoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const now = options.now ?? Date.now;
  const entry =
    (level: LogLevel) =>
    (fields: object, msg?: string): void => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const record: Record<string, unknown> = { level, time: new Date(now()).toISOString(), msg: msg ?? '' };
      for (const [key, value] of Object.entries(fields)) record[key] = value instanceof Error ? describeError(value) : value;
      options.write(`${safeStringify(record)}\n`);
    };
  return { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') };
}

/** What a log line keeps of an error: no `details` (they may echo request input). */
function describeError(error: Error, depth = 0): Record<string, unknown> {
  const described: Record<string, unknown> = { name: error.name, message: error.message };
  if (error instanceof FlowError) described.code = error.code;
  // A FlowError is an answer the server gave on purpose; anything else is a bug worth its stack.
  else if (error.stack) described.stack = error.stack;
  if (error.cause instanceof Error && depth < 3) described.cause = describeError(error.cause, depth + 1);
  return described;
}

function safeStringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record);
  } catch {
    return JSON.stringify(Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === 'object' && v !== null ? String(v) : v])), (_k, v: unknown) =>
      typeof v === 'bigint' ? String(v) : v,
    );
  }
}
