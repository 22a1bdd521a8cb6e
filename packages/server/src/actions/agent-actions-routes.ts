import { createRoute, z } from '@hono/zod-openapi';
import { ActionResultRequest, AgentAction, AuthorizeActionRequest } from '@hangar/protocol';
import { actorChainOf } from '../http/app-env.js';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import type { AgentActions } from './agent-actions-service.js';

const idParam = z.object({ id: z.string().min(1).max(100) });

const authorize = createRoute({
  method: 'post',
  path: '/v1/actions',
  tags: ['actions'],
  summary: 'Authorize an action the agent executes itself (a tool call, a sandbox run, a data read…)',
  description:
    'Runs the action path: the credential scopes, declared intent and Cedar policies (tools and code execution are denied unless a policy permits them; forbid wins), approvals, the spend cap and budgets (the estimated cost is held). Refused: the code, recorded with the policies that decided it, nothing held. Allowed: the action is pending until its result is reported, or abandoned (its holds released) when it expires. When an approval is required, present its token in x-hangar-approval.',
  middleware: [requires('write', { agentAction: true })] as const,
  request: {
    body: jsonBody(AuthorizeActionRequest),
    headers: z.object({ 'x-hangar-approval': z.string().max(10_000).optional().describe('A signed approval for exactly this action') }),
  },
  responses: {
    201: jsonResponse(AgentAction, 'The authorized action, pending its result'),
    ...errorResponses(
      'policy_denied',
      'intent_violation',
      'approval_required',
      'approval_invalid',
      'budget_exceeded',
      'spend_cap_exceeded',
      'credential_invalid',
      'idempotency_conflict',
    ),
  },
});

const report = createRoute({
  method: 'post',
  path: '/v1/actions/{id}/result',
  tags: ['actions'],
  summary: 'Report how an authorized action went: settles its holds with the actual cost and records the outcome',
  middleware: [requires('write', { agentAction: true })] as const,
  request: { params: idParam, body: jsonBody(ActionResultRequest) },
  responses: { 200: jsonResponse(AgentAction, 'The finished action'), ...errorResponses('not_found', 'conflict') },
});

const get = createRoute({
  method: 'get',
  path: '/v1/actions/{id}',
  tags: ['actions'],
  summary: 'One action an agent executes itself, with its decision, holds and result',
  middleware: [requires('read')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(AgentAction, 'The action'), ...errorResponses('not_found') },
});

export function agentActionsRoutes(actions: AgentActions) {
  return createRouter()
    .openapi(authorize, async (c) => {
      const auth = c.get('auth');
      const action = await actions.authorize({
        projectId: auth.project.id,
        actor: actorChainOf(auth),
        input: c.req.valid('json'),
        approval: c.req.valid('header')['x-hangar-approval'],
      });
      return c.json(action, 201);
    })
    .openapi(report, async (c) => {
      const auth = c.get('auth');
      const action = await actions.report({ projectId: auth.project.id, actor: actorChainOf(auth), id: c.req.valid('param').id, input: c.req.valid('json') });
      return c.json(action, 200);
    })
    .openapi(get, async (c) => c.json(await actions.get(c.get('auth').project.id, c.req.valid('param').id), 200));
}
