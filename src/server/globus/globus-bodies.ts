/**
 * The request bodies of the Globus Flows API that flowrun serves, validated at the edge: starting
 * a run (`POST /flows/{flow_id}/run`) and updating one (`PUT /runs/{run_id}`). Tags are
 * normalized the way Globus documents (surrounding whitespace stripped, inner runs of whitespace
 * made one space); principals are URNs (globus-principals.ts). A body that does not fit answers
 * 422 with each bad field named. Fields flowrun has no use for that the Globus SDKs send
 * (`activity_notification_policy`: flowrun sends no email) are accepted and ignored.
 */
import { z } from 'zod';
import { ValidationError } from '../../core/errors.js';
import type { PrincipalSet } from '../../core/run.js';
import { principalSetOf } from './globus-principals.js';

const urns = z.array(z.string().min(1).max(512)).max(1000);
const tags = z.array(z.string().max(256)).max(100);
const label = z.string().min(1).max(1000);

const RunFlowBody = z.object({
  body: z.record(z.string(), z.unknown()),
  label: label.optional(),
  tags: tags.optional(),
  run_monitors: urns.optional(),
  run_managers: urns.optional(),
  activity_notification_policy: z.object({ status: z.array(z.enum(['INACTIVE', 'FAILED', 'SUCCEEDED'])) }).optional(),
});

const RunUpdateBody = z.object({
  label: label.nullable().optional(),
  tags: tags.optional(),
  run_monitors: urns.optional(),
  run_managers: urns.optional(),
});

/** A start as flowrun takes it, from a Globus body. */
export interface GlobusStart {
  input: Record<string, unknown>;
  label?: string;
  tags?: string[];
  monitors?: PrincipalSet;
  managers?: PrincipalSet;
}

/** An update as flowrun takes it, from a Globus body. */
export interface GlobusUpdate {
  label?: string | null;
  tags?: string[];
  monitors?: PrincipalSet;
  managers?: PrincipalSet;
}

function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ValidationError('INVALID_INPUT', parsed.error.issues.map((issue) => ({ path: ['body', ...issue.path.map(String)].join('.'), message: issue.message })));
}

/** Tags as Globus stores them: trimmed, inner whitespace one space; an empty one is refused. */
function normalizedTags(values: string[]): string[] {
  const normalized = values.map((t) => t.trim().replace(/\s+/g, ' '));
  const empty = normalized.findIndex((t) => t === '');
  if (empty >= 0) throw new ValidationError('INVALID_INPUT', [{ path: `body.tags.${empty}`, message: 'a tag must not be empty or only whitespace' }]);
  return normalized;
}

/** The start a `POST /flows/{flow_id}/run` body asks for. */
export function readRunFlowBody(value: unknown): GlobusStart {
  const body = parse(RunFlowBody, value);
  const start: GlobusStart = { input: body.body };
  if (body.label !== undefined) start.label = body.label;
  if (body.tags !== undefined) start.tags = normalizedTags(body.tags);
  if (body.run_monitors !== undefined) start.monitors = principalSetOf(body.run_monitors, 'body.run_monitors');
  if (body.run_managers !== undefined) start.managers = principalSetOf(body.run_managers, 'body.run_managers');
  return start;
}

/** The update a `PUT /runs/{run_id}` body asks for. */
export function readRunUpdateBody(value: unknown): GlobusUpdate {
  const body = parse(RunUpdateBody, value);
  const update: GlobusUpdate = {};
  if (body.label !== undefined) update.label = body.label;
  if (body.tags !== undefined) update.tags = normalizedTags(body.tags);
  if (body.run_monitors !== undefined) update.monitors = principalSetOf(body.run_monitors, 'body.run_monitors');
  if (body.run_managers !== undefined) update.managers = principalSetOf(body.run_managers, 'body.run_managers');
  return update;
}
