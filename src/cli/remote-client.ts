/**
 * What the CLI's remote commands (`runs`, `flows`, `events`) share: the `--server`, `--token`
 * and `--json` options (with `FLOWRUN_SERVER` and `FLOWRUN_TOKEN` from the environment), the
 * client they build, and one way of reporting a failure and choosing the exit code.
 */
import { readFileSync } from 'node:fs';
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
  /** A file holding the token (its first line). */
  tokenFile?: string;
  /** Read the token from standard input. */
  tokenStdin?: boolean;
  json?: boolean;
}

/** Adds `--server`, `--token`, `--token-file`, `--token-stdin` and `--json` to a remote command. */
export function withRemoteOptions(command: Command): Command {
  return command
    .option('--server <url>', 'the flowrun server (env FLOWRUN_SERVER)', process.env.FLOWRUN_SERVER ?? DEFAULT_SERVER)
    .option('--token <token>', 'an API token from `flowrun tokens create` (env FLOWRUN_TOKEN; other processes can see it in `ps`: prefer the env or a file)', process.env.FLOWRUN_TOKEN)
    .option('--token-file <path>', 'read the API token from this file (its first line)')
    .option('--token-stdin', 'read the API token from standard input (its first line)')
    .option('--json', 'print JSON instead of text');
}

/** Reads standard input whole; a parameter so tests can stand in for it. */
export type ReadStdin = () => string;

const readProcessStdin: ReadStdin = () => readFileSync(0, 'utf8');

/**
 * The token a remote command sends: `--token-file`, `--token-stdin`, else `--token` /
 * `FLOWRUN_TOKEN`. Throws a UsageError when more than one of the first two is given, or when
 * the file cannot be read or holds no token.
 */
export function resolveToken(options: RemoteOptions, readStdin: ReadStdin = readProcessStdin): string | undefined {
  if (options.tokenFile !== undefined && options.tokenStdin) throw new UsageError('give --token-file or --token-stdin, not both');
  let text: string;
  let from: string;
  if (options.tokenFile !== undefined) {
    from = `--token-file ${options.tokenFile}`;
    try {
      text = readFileSync(options.tokenFile, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${from}: ${(error as Error).message}`);
    }
  } else if (options.tokenStdin) {
    from = '--token-stdin';
    text = readStdin();
  } else {
    return options.token;
  }
  const token = text.split(/\r?\n/)[0]!.trim();
  if (token === '') throw new UsageError(`${from}: no token (the first line is empty)`);
  return token;
}

/** The client of `--server` with the token of {@link resolveToken}. */
export function remoteClient(options: RemoteOptions, readStdin?: ReadStdin): FlowClient {
  const token = resolveToken(options, readStdin);
  return createClient({ baseUrl: options.server, ...(token ? { token } : {}) });
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
  if (error instanceof FlowError && error.code === 'UNAUTHENTICATED') return `${printable(error.code)}: ${printable(error.message)}\n${UNAUTHENTICATED_HINT}`;
  if (error instanceof FlowError) return `${printable(error.code)}: ${printable(error.message)}`;
  return printable(error instanceof Error ? error.message : String(error));
}

/** What to do about a missing or refused token. */
export const UNAUTHENTICATED_HINT =
  '  the server wants an API token: set FLOWRUN_TOKEN (or pass --token-file / --token-stdin) to one that `flowrun tokens create` made\n' +
  '  (`flowrun serve` prints one for the administrator when it starts)';

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

/** A time for people, in the one format the CLI prints times in: `2026-11-23 13:04:05 UTC`, or `-`. */
export function humanTime(ms: number | null | undefined): string {
  return typeof ms === 'number' ? `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC` : '-';
}

/** Text with every ISO 8601 UTC time in it (`2026-11-23T13:04:05.000Z`, as the engine writes them) in {@link humanTime}'s format. */
export function humanTimesIn(text: string): string {
  return text.replace(/\b(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z\b/g, '$1 $2 UTC');
}

/** Repeatable option collector (`--tag a --tag b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
