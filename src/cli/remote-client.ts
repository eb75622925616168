/**
 * What the CLI's remote commands (`runs`, `flows`, `events`) share: the `--server`, `--token`
 * and `--json` options (with `FLOWRUN_SERVER` and `FLOWRUN_TOKEN` from the environment), the
 * client they build, and one way of reporting a failure and choosing the exit code.
 */
import type { Command } from 'commander';
import { createClient, type FlowClient } from '../client/index.js';
import { FlowError, ValidationError } from '../core/errors.js';
import type { CliIo } from './cli-io.js';
import { printable } from './printable.js';

/** The server remote commands talk to when neither `--server` nor `FLOWRUN_SERVER` names one (`flowrun serve`'s default). */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

/** The options every remote command takes. */
export interface RemoteOptions {
  server: string;
  token?: string;
  json?: boolean;
}

/** Adds `--server`, `--token` and `--json` to a remote command. */
export function withRemoteOptions(command: Command): Command {
  return command
    .option('--server <url>', 'the flowrun server (env FLOWRUN_SERVER)', process.env.FLOWRUN_SERVER ?? DEFAULT_SERVER)
    .option('--token <token>', 'an API token from `flowrun tokens create` (env FLOWRUN_TOKEN)', process.env.FLOWRUN_TOKEN)
    .option('--json', 'print JSON instead of text');
}

/** The client of `--server` with `--token`. */
export function remoteClient(options: RemoteOptions): FlowClient {
  return createClient({ baseUrl: options.server, ...(options.token ? { token: options.token } : {}) });
}

/**
 * Runs a command action and sets the exit code: what `action` returns (0 by default), 1 when
 * the server refused or could not be reached, 2 when the command line itself is wrong.
 */
export async function runCliAction(name: string, io: CliIo, setExit: (code: number) => void, action: () => Promise<number | void>): Promise<void> {
  try {
    setExit((await action()) ?? 0);
  } catch (error) {
    io.err(`flowrun ${name}: ${describeError(error)}\n`);
    setExit(error instanceof UsageError ? 2 : 1);
  }
}

/** A mistake on the command line (exit 2). */
export class UsageError extends Error {}

/** `CODE: message`, then one line per validation issue; what a server or a flow wrote is made {@link printable}. */
export function describeError(error: unknown): string {
  if (error instanceof ValidationError) return `${printable(error.code)}\n${error.issues.map((i) => `  ${printable(i.path || '(input)')}: ${printable(i.message)}`).join('\n')}`;
  if (error instanceof FlowError) return `${printable(error.code)}: ${printable(error.message)}`;
  return printable(error instanceof Error ? error.message : String(error));
}

/** Parses a JSON option, naming it when it is not JSON. */
export function parseJsonOption(text: string | undefined, option: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${option} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Parses a whole-number option. */
export function parseCount(text: string | undefined, option: string, min = 1): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`${option} must be a whole number ≥ ${min}, got "${text}"`);
  return value;
}

/** Prints rows under a header, columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** A time for people: `2026-11-23 13:04:05` (UTC), or `-`. */
export function humanTime(ms: number | null | undefined): string {
  return typeof ms === 'number' ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) : '-';
}

/** Repeatable option collector (`--tag a --tag b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
