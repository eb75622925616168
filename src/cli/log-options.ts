/**
 * `--log-level` and `--log-format` of the commands that run an engine (`serve`, `worker`): the
 * options, and the logger they describe.
 */
import type { Command } from 'commander';
import type { Logger } from '../core/engine/types.js';
import type { CliIo } from './cli-io.js';
import { createLineLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './line-logger.js';
import { UsageError } from './remote-client.js';

/** The values of the log options as commander hands them over. */
export interface LogOptionValues {
  logLevel: string;
  logFormat?: string;
}

/** Adds `--log-level` and `--log-format` to a command. */
export function addLogOptions(command: Command): Command {
  return command
    .option('--log-level <level>', `least severe log entry written to stderr: ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--log-format <format>', 'json (one object a line) or pretty (default: pretty on a terminal, else json)');
}

/**
 * The logger of `--log-level` / `--log-format`, writing to the CLI's log stream with `base` on
 * every line (the process's role and pid). Throws a UsageError naming a bad value.
 */
export function loggerOf(values: LogOptionValues, io: CliIo, base: Record<string, unknown>): Logger {
  const level: LogLevel = oneOf(values.logLevel, LOG_LEVELS, '--log-level');
  const format: LogFormat = values.logFormat === undefined ? (io.errIsTty ? 'pretty' : 'json') : oneOf(values.logFormat, LOG_FORMATS, '--log-format');
  return createLineLogger({ write: (line) => (io.log ?? io.err)(line), level, format, colorize: format === 'pretty' && io.errIsTty === true, base });
}

function oneOf<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${option} must be one of ${allowed.join(', ')}, got "${value}"`);
}
