/**
 * The logger `flowrun serve` and `flowrun worker` give their engine and router: pino, writing one
 * JSON object per line (`level` as a word, `time` in ISO 8601, `msg`, then the fields) or, with
 * `format: 'pretty'`, pino-pretty's coloured lines for a terminal. Written to stderr so stdout
 * keeps the lines people and scripts read (the URL, the token). Errors are reduced to name, code,
 * message and stack, and fields named like credentials are censored: a log line never carries a
 * request body, a token, or a run's data beyond its id.
 */
import { pino, type Logger as PinoLogger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Logger } from '../core/engine/types.js';
import { FlowError } from '../core/errors.js';

/** Levels a {@link createLineLogger} writes, least to most severe. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How lines look: one JSON object each, or pino-pretty's human form. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Options of {@link createLineLogger}. */
export interface LineLoggerOptions {
  /** Receives each line, newline included. */
  write: (line: string) => void;
  /** Entries below this level are dropped (default `info`). */
  level?: LogLevel;
  /** Default `json`. `pretty` colours its lines when `colorize` is true. */
  format?: LogFormat;
  colorize?: boolean;
  /** Milliseconds since the epoch of an entry (default `Date.now`). */
  now?: () => number;
  /** Fields written on every line (e.g. `{role: 'worker'}`). */
  base?: Record<string, unknown>;
}

/**
 * Field names whose values are replaced by `[redacted]` wherever they appear at the top level or
 * one object down: nothing flowrun logs is named so, but a field added later must not leak.
 */
const REDACTED_FIELDS = ['authorization', 'token', 'password', 'secret', 'cookie'];

/**
 * A {@link Logger} over pino. A field that cannot be serialized (a cycle, a BigInt) is written
 * in a safe form instead of failing: logging never throws into the code that logs.
 *
 * @example
 * const logger = createLineLogger({ write: (line) => process.stderr.write(line) });
 * logger.error({ err, method: 'GET', route: '/runs' }, 'request failed');
 * // {"level":"error","time":"2026-…","msg":"request failed","method":"GET","route":"/runs","err":{…}}
 */
export function createLineLogger(options: LineLoggerOptions): Logger {
  const now = options.now ?? Date.now;
  const prettify = options.format === 'pretty' ? pinoPretty.prettyFactory({ colorize: options.colorize ?? false, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : null;
  const logger: PinoLogger = pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? null,
      messageKey: 'msg',
      timestamp: () => `,"time":"${new Date(now()).toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => {
          const out: Record<string, unknown> = {};
          for (const [key, value] of Object.entries(fields)) out[key] = value instanceof Error ? describeError(value) : value;
          return out;
        },
      },
      // Replaces pino's own `err` serializer, which keeps every enumerable field (a FlowError's details).
      serializers: { err: (value: unknown) => (value instanceof Error ? describeError(value) : value) },
      redact: { paths: REDACTED_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: '[redacted]' },
    },
    // pino-pretty's prettyFactory reads pino's JSON line; the `pretty` format stays in this thread (no transport worker).
    { write: (line: string) => options.write(prettify ? prettify(line) : line) },
  );
  return logger;
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
