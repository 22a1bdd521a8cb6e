import { createRoute, z } from '@hono/zod-openapi';
import {
  CreateOnlineEvalRuleRequest,
  DriftAlert,
  DriftAlertList,
  OnlineEvalRuleList,
  OnlineEvalRuleWithSecret,
  SpanScoreList,
  UpdateOnlineEvalRuleRequest,
} from '@hangar/protocol';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import { roleAllows } from '../http/permissions.js';
import type { OnlineEvals } from './online-evals-service.js';

const params = z.object({ id: z.string().min(1).max(100) });

const create = createRoute({
  method: 'post',
  path: '/v1/online-evals',
  tags: ['evals'],
  summary: 'Create an online eval rule: a server-side scorer run on sampled production spans, with drift alerts',
  middleware: [requires('admin')] as const,
  request: { body: jsonBody(CreateOnlineEvalRuleRequest) },
  responses: { 201: jsonResponse(OnlineEvalRuleWithSecret, 'The rule, with the secret its webhooks are signed with'), ...errorResponses() },
});

const list = createRoute({
  method: 'get',
  path: '/v1/online-evals',
  tags: ['evals'],
  summary: "The project's online eval rules",
  middleware: [requires('read')] as const,
  responses: { 200: jsonResponse(OnlineEvalRuleList, 'Rules (webhook secrets for admins only)'), ...errorResponses() },
});

const get = createRoute({
  method: 'get',
  path: '/v1/online-evals/{id}',
  tags: ['evals'],
  summary: 'One online eval rule',
  middleware: [requires('read')] as const,
  request: { params },
  responses: { 200: jsonResponse(OnlineEvalRuleWithSecret, 'The rule'), ...errorResponses('not_found') },
});

const update = createRoute({
  method: 'patch',
  path: '/v1/online-evals/{id}',
  tags: ['evals'],
  summary: 'Change a rule: the fields given replace its own',
  middleware: [requires('admin')] as const,
  request: { params, body: jsonBody(UpdateOnlineEvalRuleRequest) },
  responses: { 200: jsonResponse(OnlineEvalRuleWithSecret, 'The rule'), ...errorResponses('not_found') },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/online-evals/{id}',
  tags: ['evals'],
  summary: 'Delete a rule (its scores and alerts stay)',
  middleware: [requires('admin')] as const,
  request: { params },
  responses: { 204: { description: 'Deleted' }, ...errorResponses('not_found') },
});

const spanScores = createRoute({
  method: 'get',
  path: '/v1/traces/{traceId}/spans/{spanId}/scores',
  tags: ['evals'],
  summary: 'The online eval scores of one span',
  middleware: [requires('read')] as const,
  request: { params: z.object({ traceId: z.string().min(1).max(64), spanId: z.string().min(1).max(32) }) },
  responses: { 200: jsonResponse(SpanScoreList, 'Scores, one per rule that sampled the span'), ...errorResponses() },
});

const alerts = createRoute({
  method: 'get',
  path: '/v1/drift-alerts',
  tags: ['evals'],
  summary: 'Drift alerts, newest first',
  middleware: [requires('read')] as const,
  request: {
    query: z.object({
      ruleId: z.string().min(1).max(100).optional(),
      unacknowledged: z.enum(['true', 'false']).optional().describe('true: only alerts nobody acknowledged'),
      cursor: z.string().max(1000).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: { 200: jsonResponse(DriftAlertList, 'A page of alerts'), ...errorResponses() },
});

const acknowledge = createRoute({
  method: 'post',
  path: '/v1/drift-alerts/{id}/acknowledge',
  tags: ['evals'],
  summary: 'Acknowledge a drift alert',
  middleware: [requires('write')] as const,
  request: { params },
  responses: { 200: jsonResponse(DriftAlert, 'The alert'), ...errorResponses('not_found') },
});

export function onlineEvalsRoutes(onlineEvals: OnlineEvals) {
  return createRouter()
    .openapi(create, async (c) => c.json(await onlineEvals.createRule(c.get('auth'), c.req.valid('json')), 201))
    .openapi(list, async (c) => {
      const { project, role, credential } = c.get('auth');
      return c.json({ rules: await onlineEvals.listRules(project.id, { includeSecrets: !credential && roleAllows(role, 'admin') }) }, 200);
    })
    .openapi(get, async (c) => {
      const { project, role, credential } = c.get('auth');
      return c.json(await onlineEvals.getRule(project.id, c.req.valid('param').id, { includeSecrets: !credential && roleAllows(role, 'admin') }), 200);
    })
    .openapi(update, async (c) => c.json(await onlineEvals.updateRule(c.get('auth'), c.req.valid('param').id, c.req.valid('json')), 200))
    .openapi(remove, async (c) => {
      await onlineEvals.deleteRule(c.get('auth'), c.req.valid('param').id);
      return c.body(null, 204);
    })
    .openapi(spanScores, async (c) => {
      const { traceId, spanId } = c.req.valid('param');
      return c.json({ scores: await onlineEvals.spanScores(c.get('auth').project.id, traceId, spanId) }, 200);
    })
    .openapi(alerts, async (c) => {
      const { cursor, limit, ruleId, unacknowledged } = c.req.valid('query');
      return c.json(await onlineEvals.alerts(c.get('auth').project.id, { ruleId, unacknowledged: unacknowledged === 'true' }, { cursor, limit }), 200);
    })
    .openapi(acknowledge, async (c) => c.json(await onlineEvals.acknowledge(c.get('auth'), c.req.valid('param').id), 200));
}
