/**
 * Flow routes: deploy, publish, list and read flow versions. Deploying a new version of a flow
 * that exists, and publishing one, need its administrator role (DESIGN §6); the first deployer
 * of a flow administers it. Flows the caller may not see are left out of lists and answer
 * FLOW_NOT_FOUND like missing ones. A version deployed with the `.flow` text it was compiled from
 * keeps it (`source`), answered with the version to whoever may see the flow.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from '@hono/zod-openapi';
import { PermissionError } from '../../core/errors.js';
import type { FlowDefinition } from '../../core/model.js';
import { canAdministerFlow, canViewFlow } from '../../core/permissions.js';
import type { RouterEnv, RouterState } from '../router-context.js';
import { actingFor } from '../router-context.js';
import type { AuthenticatedPrincipal } from '../api-tokens.js';
import { DeployBody, FlowIdParam, FlowQuery, FlowRefSchema, FlowSchema, FlowSummarySchema, PublishBody } from '../schemas.js';
import { errorResponses, jsonBody, ok } from './route-helpers.js';

/** Registers the flow routes. */
export function addFlowRoutes(app: OpenAPIHono<RouterEnv>, state: RouterState): void {
  const { engine } = state;

  /** Refuses a change to an existing flow by a principal that does not administer its latest version. */
  async function assertAdministers(flowId: string, who: AuthenticatedPrincipal): Promise<void> {
    const userId = who.userId;
    const latest = await engine.store.getFlowVersion(flowId, 'LATEST');
    if (!latest) return;
    const principal = await engine.access.principal(actingFor(who));
    const access = { deployedBy: latest.deployedBy, roles: latest.definition.roles };
    if (canAdministerFlow(principal, access)) return;
    // One who may not even see the flow learns nothing about it.
    if (!canViewFlow(principal, access)) throw new PermissionError(`principal "${userId}" may not deploy flow "${flowId}"`, { details: { flowId } });
    throw new PermissionError(`principal "${userId}" does not administer flow "${flowId}"`, { details: { flowId } });
  }

  app.openapi(
    createRoute({ method: 'post', path: '/flows', tags: ['flows'], summary: 'Deploy a flow version', request: { body: jsonBody(DeployBody) }, responses: { 201: ok(FlowRefSchema, 'deployed'), ...errorResponses } }),
    async (c) => {
      const body = c.req.valid('json');
      const who = c.get('principal');
      const userId = who.userId;
      const definition = body.definition as unknown as FlowDefinition;
      if (typeof definition.id === 'string') await assertAdministers(definition.id, who);
      const ref = await engine.deployFlow(definition, { deployedBy: userId, ...(body.publish !== undefined ? { publish: body.publish } : {}), ...(body.source !== undefined ? { source: body.source } : {}) });
      return c.json(ref, 201);
    },
  );

  app.openapi(createRoute({ method: 'get', path: '/flows', tags: ['flows'], summary: 'List the flows the caller may see', responses: { 200: ok(z.object({ flows: z.array(FlowSummarySchema) }), 'flows'), ...errorResponses } }), async (c) => {
    const [summaries, principal] = await Promise.all([engine.listFlows(), engine.access.principal(actingFor(c.get('principal')))]);
    const visible = await Promise.all(
      summaries.map(async (summary) => {
        const flow = await engine.loadFlow(summary.flowId, 'LATEST');
        return canViewFlow(principal, { deployedBy: flow.deployedBy, roles: flow.definition.roles });
      }),
    );
    return c.json({ flows: summaries.filter((_, i) => visible[i]) }, 200);
  });

  app.openapi(
    createRoute({ method: 'get', path: '/flows/{flowId}', tags: ['flows'], summary: 'A flow version (default: published, else latest)', request: { params: FlowIdParam, query: FlowQuery }, responses: { 200: ok(z.object({ flow: FlowSchema }), 'the flow'), ...errorResponses } }),
    async (c) => {
      const { flowId } = c.req.valid('param');
      const { version } = c.req.valid('query');
      const selector = version === undefined ? undefined : /^\d+$/.test(version) ? Number(version) : (version as 'LATEST' | 'LATEST_PUBLISHED');
      const flow = await engine.getFlow(flowId, selector, { as: actingFor(c.get('principal')) });
      return c.json({ flow: flow as unknown as z.infer<typeof FlowSchema> }, 200);
    },
  );

  app.openapi(
    createRoute({ method: 'post', path: '/flows/{flowId}/publish', tags: ['flows'], summary: 'Publish a deployed version', request: { params: FlowIdParam, body: jsonBody(PublishBody) }, responses: { 200: ok(FlowRefSchema, 'published'), ...errorResponses } }),
    async (c) => {
      const { flowId } = c.req.valid('param');
      const who = c.get('principal');
      // Hide flows the caller may not see before telling it anything else about them.
      await engine.getFlow(flowId, 'LATEST', { as: actingFor(who) });
      await assertAdministers(flowId, who);
      return c.json(await engine.publishFlow(flowId, c.req.valid('json').version), 200);
    },
  );
}
