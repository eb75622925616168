/**
 * Flow versions in SQLite: deploy, publish, read and list. Writes run inside the group-commit
 * queue's savepoints, so numbering a new version and inserting it are one atomic step even when
 * several processes deploy the same flow at once (they serialize on the write lock).
 */
import { NotFoundError } from '../../core/errors.js';
import { flowSourceOf, isSameFlowVersion, type FlowDefinition, type FlowSourceText, type FlowVersionRecord } from '../../core/model.js';
import type { FlowSummary } from '../../core/store.js';
import type { SqliteConnection } from './sqlite-connection.js';

interface FlowRow {
  flow_id: string;
  version: number;
  definition: string;
  deployed_by: string;
  deployed_at: number;
  published: number;
  /** JSON `{fileName?, text}` (migration 13); NULL for versions deployed without one. */
  source: string | null;
}

function recordFromRow(row: FlowRow): FlowVersionRecord {
  return {
    flowId: row.flow_id,
    version: row.version,
    definition: JSON.parse(row.definition) as FlowDefinition,
    deployedBy: row.deployed_by,
    deployedAt: row.deployed_at,
    published: row.published === 1,
    ...(row.source !== null ? { source: JSON.parse(row.source) as FlowSourceText } : {}),
  };
}

/** Stores a new version of a flow (`Store.saveFlowVersion`); redeploying a definition canonically equal to the latest returns the latest, so a retried deploy adds nothing. */
export function saveFlowVersion(conn: SqliteConnection, input: { definition: FlowDefinition; deployedBy: string; at: number; source?: FlowSourceText }): FlowVersionRecord {
  const flowId = input.definition.id;
  const latest = conn.get<FlowRow>('SELECT * FROM flowrun_flows WHERE flow_id = ? ORDER BY version DESC LIMIT 1', [flowId]);
  if (latest && isSameFlowVersion(recordFromRow(latest), input.definition, input.source)) return recordFromRow(latest);
  const version = (latest?.version ?? 0) + 1;
  conn.run('INSERT INTO flowrun_flows (flow_id, version, definition, deployed_by, deployed_at, published, source) VALUES (?, ?, ?, ?, ?, 0, ?)', [
    flowId,
    version,
    JSON.stringify(input.definition),
    input.deployedBy,
    input.at,
    input.source ? JSON.stringify(flowSourceOf(input.source)) : null,
  ]);
  return recordFromRow(conn.get<FlowRow>('SELECT * FROM flowrun_flows WHERE flow_id = ? AND version = ?', [flowId, version])!);
}

/** Publishes one version of a flow and unpublishes the others (`Store.publishFlowVersion`); publishing twice is harmless. */
export function publishFlowVersion(conn: SqliteConnection, input: { flowId: string; version: number }): FlowVersionRecord {
  if (conn.get('SELECT 1 FROM flowrun_flows WHERE flow_id = ? AND version = ?', [input.flowId, input.version]) === undefined) {
    throw new NotFoundError('FLOW_NOT_FOUND', `flow "${input.flowId}" has no version ${input.version}`);
  }
  // Unpublish first: the unique index on the published version is checked row by row.
  conn.run('UPDATE flowrun_flows SET published = 0 WHERE flow_id = ? AND published = 1 AND version <> ?', [input.flowId, input.version]);
  conn.run('UPDATE flowrun_flows SET published = 1 WHERE flow_id = ? AND version = ?', [input.flowId, input.version]);
  return recordFromRow(conn.get<FlowRow>('SELECT * FROM flowrun_flows WHERE flow_id = ? AND version = ?', [input.flowId, input.version])!);
}

/** Reads a version by number, `LATEST` or `LATEST_PUBLISHED` (`Store.getFlowVersion`); null when there is none. */
export function getFlowVersion(conn: SqliteConnection, flowId: string, version: number | 'LATEST_PUBLISHED' | 'LATEST'): FlowVersionRecord | null {
  const row =
    version === 'LATEST'
      ? conn.get<FlowRow>('SELECT * FROM flowrun_flows WHERE flow_id = ? ORDER BY version DESC LIMIT 1', [flowId])
      : version === 'LATEST_PUBLISHED'
        ? conn.get<FlowRow>('SELECT * FROM flowrun_flows WHERE flow_id = ? AND published = 1', [flowId])
        : conn.get<FlowRow>('SELECT * FROM flowrun_flows WHERE flow_id = ? AND version = ?', [flowId, version]);
  return row ? recordFromRow(row) : null;
}

/** Summarizes every flow (`Store.listFlows`) in the order flows were first deployed, like the memory store. */
export function listFlows(conn: SqliteConnection): FlowSummary[] {
  const rows = conn.all<{ flow_id: string; version: number; title: unknown; deployed_at: number; published_version: number | null }>(
    `SELECT f.flow_id, f.version, json_extract(f.definition, '$.title') AS title, f.deployed_at,
       (SELECT p.version FROM flowrun_flows p WHERE p.flow_id = f.flow_id AND p.published = 1) AS published_version
     FROM flowrun_flows f
     WHERE f.version = (SELECT max(m.version) FROM flowrun_flows m WHERE m.flow_id = f.flow_id)
     ORDER BY (SELECT min(o.rowid) FROM flowrun_flows o WHERE o.flow_id = f.flow_id)`,
  );
  return rows.map((row) => ({
    flowId: row.flow_id,
    latestVersion: row.version,
    publishedVersion: row.published_version,
    // Like the memory store: a title only when the latest definition has a non-empty one.
    ...(typeof row.title === 'string' && row.title !== '' ? { title: row.title } : {}),
    updatedAt: row.deployed_at,
  }));
}
