/**
 * Flow versions in PostgreSQL: deploy (numbered per flow, an identical redeploy returns the
 * latest), publish exactly one, look one up, list flows. Same semantics as the memory store.
 */
import type { PoolClient } from 'pg';
import { NotFoundError } from '../../core/errors.js';
import { cloneJson } from '../../core/json.js';
import { flowSourceOf, isSameFlowVersion, type FlowDefinition, type FlowSourceText, type FlowVersionRecord } from '../../core/model.js';
import type { FlowSummary } from '../../core/store.js';
import type { Sql } from './run-writes.js';

interface FlowVersionRow {
  flow_id: string;
  version: number;
  definition: FlowDefinition;
  deployed_by: string;
  deployed_at: number;
  published: boolean;
  /** `{fileName?, text}` (migration 17); null for versions deployed without one. */
  source: FlowSourceText | null;
}

const VERSION_COLUMNS = 'v.flow_id, v.version, v.definition, v.deployed_by, v.deployed_at, v.source';

function recordFromRow(row: FlowVersionRow): FlowVersionRecord {
  const record: FlowVersionRecord = { flowId: row.flow_id, version: row.version, definition: row.definition, deployedBy: row.deployed_by, deployedAt: row.deployed_at, published: row.published };
  return row.source ? { ...record, source: row.source } : record;
}

/**
 * Stores a new version of `definition.id`, or returns the latest version when it is the same
 * definition (compared as canonical JSON). Must run inside a transaction: the flow's row is
 * locked while the next number is chosen, so concurrent deploys from several processes get
 * consecutive numbers and two identical concurrent deploys make one version.
 */
export async function saveFlowVersion(client: PoolClient, input: { definition: FlowDefinition; deployedBy: string; at: number; source?: FlowSourceText }): Promise<FlowVersionRecord> {
  const flowId = input.definition.id;
  await client.query(`INSERT INTO flows (flow_id, latest_version, updated_at) VALUES ($1::text, 0, $2::float8) ON CONFLICT (flow_id) DO NOTHING`, [flowId, input.at]);
  // Lock first, read after, in two statements: in READ COMMITTED a statement that waited for the
  // lock re-checks only the locked row, and a version row joined in it would still come from the
  // snapshot taken before the wait — so two identical concurrent deploys would both miss it.
  await client.query(`SELECT 1 FROM flows WHERE flow_id = $1::text FOR UPDATE`, [flowId]);
  const found = await client.query<{ latest_version: number; published_version: number | null; definition: FlowDefinition | null; deployed_by: string | null; deployed_at: number | null; source: FlowSourceText | null }>(
    `SELECT f.latest_version, f.published_version, v.definition, v.deployed_by, v.deployed_at, v.source
       FROM flows f LEFT JOIN flow_versions v ON v.flow_id = f.flow_id AND v.version = f.latest_version
      WHERE f.flow_id = $1::text`,
    [flowId],
  );
  const latest = found.rows[0]!;
  if (latest.definition !== null && isSameFlowVersion({ definition: latest.definition, ...(latest.source ? { source: latest.source } : {}) }, input.definition, input.source)) {
    return recordFromRow({
      source: latest.source,
      flow_id: flowId,
      version: latest.latest_version,
      definition: latest.definition,
      deployed_by: latest.deployed_by!,
      deployed_at: latest.deployed_at!,
      published: latest.published_version === latest.latest_version,
    });
  }
  const version = latest.latest_version + 1;
  const title = typeof input.definition.title === 'string' && input.definition.title !== '' ? input.definition.title : null;
  await client.query(
    `INSERT INTO flow_versions (flow_id, version, definition, deployed_by, deployed_at, source) VALUES ($1::text, $2::integer, $3::json, $4::text, $5::float8, $6::json)`,
    [flowId, version, JSON.stringify(input.definition), input.deployedBy, input.at, input.source ? JSON.stringify(flowSourceOf(input.source)) : null],
  );
  await client.query(`UPDATE flows SET latest_version = $2::integer, title = $3::text, updated_at = $4::float8 WHERE flow_id = $1::text`, [flowId, version, title, input.at]);
  return { flowId, version, definition: cloneJson(input.definition), deployedBy: input.deployedBy, deployedAt: input.at, published: false, ...(input.source ? { source: flowSourceOf(input.source) } : {}) };
}

/** Marks one version published and, in the same statement, no other. Throws NotFoundError FLOW_NOT_FOUND when it does not exist. */
export async function publishFlowVersion(sql: Sql, input: { flowId: string; version: number }): Promise<FlowVersionRecord> {
  const missing = (): NotFoundError => new NotFoundError('FLOW_NOT_FOUND', `flow "${input.flowId}" has no version ${input.version}`);
  if (!Number.isInteger(input.version)) throw missing();
  const published = await sql.query<FlowVersionRow>(
    `WITH f AS (
       UPDATE flows SET published_version = $2::integer
        WHERE flow_id = $1::text AND EXISTS (SELECT 1 FROM flow_versions WHERE flow_id = $1::text AND version = $2::integer)
        RETURNING flow_id)
     SELECT ${VERSION_COLUMNS}, true AS published FROM flow_versions v JOIN f ON f.flow_id = v.flow_id WHERE v.version = $2::integer`,
    [input.flowId, input.version],
  );
  const row = published.rows[0];
  if (!row) throw missing();
  return recordFromRow(row);
}

/** A version by number, the published one, or the latest; null when there is none. */
export async function getFlowVersion(sql: Sql, flowId: string, version: number | 'LATEST_PUBLISHED' | 'LATEST'): Promise<FlowVersionRecord | null> {
  if (typeof version === 'number' && !Number.isInteger(version)) return null;
  const found = await sql.query<FlowVersionRow>(
    `SELECT ${VERSION_COLUMNS}, COALESCE(f.published_version = v.version, false) AS published
       FROM flows f JOIN flow_versions v ON v.flow_id = f.flow_id
      WHERE f.flow_id = $1::text
        AND v.version = CASE $2::text WHEN 'LATEST' THEN f.latest_version WHEN 'LATEST_PUBLISHED' THEN f.published_version ELSE $3::integer END`,
    [flowId, typeof version === 'number' ? 'NUMBER' : version, typeof version === 'number' ? version : null],
  );
  const row = found.rows[0];
  return row ? recordFromRow(row) : null;
}

/** Every deployed flow with its latest and published version, in the order they were first deployed. */
export async function listFlows(sql: Sql): Promise<FlowSummary[]> {
  const found = await sql.query<{ flow_id: string; latest_version: number; published_version: number | null; title: string | null; updated_at: number }>(
    `SELECT flow_id, latest_version, published_version, title, updated_at FROM flows WHERE latest_version > 0 ORDER BY seq`,
  );
  return found.rows.map((row) => ({
    flowId: row.flow_id,
    latestVersion: row.latest_version,
    publishedVersion: row.published_version,
    ...(row.title ? { title: row.title } : {}),
    updatedAt: row.updated_at,
  }));
}
