/**
 * The options `serve` and `worker` share about executing runs: `--concurrency` (runs executed at
 * once), `--shutdown-timeout` (how long a SIGTERM lets them drain before they are handed back) and
 * `--retention-days` (ended runs deleted after that many days; over PostgreSQL one process sweeps
 * at a time, so every worker may be given it).
 */
import type { Command } from 'commander';
import type { RetentionPolicy } from '../core/engine/execution/retention.js';
import { parseCount, UsageError } from './remote-client.js';

/** The values of the role options as commander hands them over. */
export interface RoleOptionValues {
  concurrency: string;
  shutdownTimeout: string;
  leaseMs: string;
  retentionDays?: string;
}

/** What the role options mean for the engine. */
export interface RoleSettings {
  maxConcurrentRuns: number;
  drainMs: number;
  leaseMs: number;
  retention?: RetentionPolicy;
}

/** Adds `--concurrency`, `--shutdown-timeout`, `--lease-ms` and `--retention-days` to a command. */
export function addRoleOptions(command: Command): Command {
  return command
    .option('-c, --concurrency <runs>', 'runs executed at once by this process', '256')
    .option('--shutdown-timeout <ms>', 'on SIGTERM, how long runs in flight may take to reach their next step before they are handed back to other processes', '30000')
    .option('--lease-ms <ms>', "how long a run stays this process's without a heartbeat: what a crash costs before others resume its runs", '30000')
    .option('--retention-days <days>', 'delete ended runs older than this many days (hourly; one process at a time on PostgreSQL)');
}

/** The engine settings of the role options; throws a UsageError naming a bad value. */
export function roleSettingsOf(values: RoleOptionValues): RoleSettings {
  const maxConcurrentRuns = parseCount(values.concurrency, '--concurrency', 1)!;
  const drainMs = parseCount(values.shutdownTimeout, '--shutdown-timeout', 0)!;
  const leaseMs = parseCount(values.leaseMs, '--lease-ms', 100)!;
  if (values.retentionDays === undefined) return { maxConcurrentRuns, drainMs, leaseMs };
  const days = Number(values.retentionDays);
  if (!Number.isFinite(days) || days <= 0) throw new UsageError(`--retention-days must be a number of days > 0, got "${values.retentionDays}"`);
  return { maxConcurrentRuns, drainMs, leaseMs, retention: { days } };
}
