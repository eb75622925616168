/**
 * How PostgreSQL and driver errors become flowrun errors. The store reports every failure as a
 * FlowError: its own verdicts (CONFLICT, LEASE_LOST, RUN_NOT_FOUND) pass through, everything the
 * database or the network says becomes STORE_ERROR with a message that names the server but
 * never the password.
 */
import { FlowError } from '../../core/errors.js';

/** Where the store connects, as the driver resolved it; used to name the server in errors. */
export interface PostgresTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  /** Only to scrub it from messages; never shown. */
  password: string | null;
}

const CONNECTION_SQLSTATES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, server stop)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (server starting or in recovery)
  '53300', // too_many_connections
]);

const NODE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

// node-postgres reports a dropped socket with plain Errors that carry no code.
const DRIVER_CONNECTION_MESSAGES = /connection terminated|connection error|not queryable|timeout exceeded when trying to connect|client was closed/i;

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * True when the connection failed rather than the statement: the server went away, the socket
 * broke, or no connection could be made. Such a statement may or may not have run.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof FlowError) return false;
  const code = codeOf(error);
  if (code !== undefined && (code.startsWith('08') || CONNECTION_SQLSTATES.has(code) || NODE_NETWORK_CODES.has(code))) return true;
  return DRIVER_CONNECTION_MESSAGES.test(error.message);
}

/** True for a serialization failure (40001) or a deadlock (40P01): the transaction may simply be run again. */
export function isRetryableTransactionError(error: unknown): boolean {
  const code = codeOf(error);
  return code === '40001' || code === '40P01';
}

/** True when `error` is a unique violation (23505), optionally of one constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (codeOf(error) !== '23505') return false;
  return constraint === undefined || (error as { constraint?: unknown }).constraint === constraint;
}

function scrub(message: string, target: PostgresTarget): string {
  return target.password ? message.split(target.password).join('***') : message;
}

/** `host:port as user (database db)`, for messages. */
export function describeTarget(target: PostgresTarget): string {
  return `${target.host}:${target.port} as ${target.user} (database ${target.database})`;
}

/**
 * Turns anything a database call threw into a FlowError. FlowErrors pass through unchanged.
 * `phase: 'connect'` words the message as a failed connection (wrong password, server down).
 * The original error is kept as `cause` only through a scrubbed copy, so logging the cause
 * chain cannot leak the password either.
 */
export function toStoreError(error: unknown, target: PostgresTarget, phase: 'connect' | 'query' = 'query'): FlowError {
  if (error instanceof FlowError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const message = scrub(raw, target);
  const code = codeOf(error);
  const cause = Object.assign(new Error(message), code === undefined ? {} : { code });
  const details = code === undefined ? undefined : { sqlstate: code };
  if (phase === 'connect') {
    return new FlowError('STORE_ERROR', `cannot connect to PostgreSQL at ${describeTarget(target)}: ${message}`, { cause, ...(details ? { details } : {}) });
  }
  if (isConnectionError(error)) {
    return new FlowError('STORE_ERROR', `lost the connection to PostgreSQL at ${describeTarget(target)}: ${message}`, { cause, ...(details ? { details } : {}) });
  }
  return new FlowError('STORE_ERROR', `PostgreSQL error${code ? ` ${code}` : ''}: ${message}`, { cause, ...(details ? { details } : {}) });
}
