import { createRoute, z } from '@hono/zod-openapi';
import { Approval, APPROVAL_STATUSES, ApprovalWebhook, DecideApprovalRequest, SetApprovalWebhookRequest } from '@hangar/protocol';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import type { Approvals } from './approvals-service.js';

const idParam = z.object({ id: z.string().min(1).max(100) });
const optionalBody = { ...jsonBody(DecideApprovalRequest), required: false } as const;

const list = createRoute({
  method: 'get',
  path: '/v1/approvals',
  tags: ['approvals'],
  summary: 'Approval requests, newest first (filter by status, e.g. pending)',
  middleware: [requires('read')] as const,
  request: { query: z.object({ status: z.enum(APPROVAL_STATUSES).optional() }) },
  responses: { 200: jsonResponse(z.object({ approvals: z.array(Approval) }), 'Approval requests'), ...errorResponses() },
});

const get = createRoute({
  method: 'get',
  path: '/v1/approvals/{id}',
  tags: ['approvals'],
  summary: 'One approval request; once approved, it carries the signed token to present',
  middleware: [requires('read')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(Approval, 'The approval request'), ...errorResponses('not_found') },
});

const approve = createRoute({
  method: 'post',
  path: '/v1/approvals/{id}/approve',
  tags: ['approvals'],
  summary: 'Approve a pending request: a signed decision, usable once for exactly that action and those arguments',
  middleware: [requires('write')] as const,
  request: { params: idParam, body: optionalBody },
  responses: { 200: jsonResponse(Approval, 'The approved request with its token'), ...errorResponses('not_found', 'conflict') },
});

const deny = createRoute({
  method: 'post',
  path: '/v1/approvals/{id}/deny',
  tags: ['approvals'],
  summary: 'Deny a pending request',
  middleware: [requires('write')] as const,
  request: { params: idParam, body: optionalBody },
  responses: { 200: jsonResponse(Approval, 'The denied request'), ...errorResponses('not_found', 'conflict') },
});

const getWebhook = createRoute({
  method: 'get',
  path: '/v1/approvals/webhook',
  tags: ['approvals'],
  summary: 'Where approval events are posted (the secret is shown only when set)',
  middleware: [requires('admin')] as const,
  responses: { 200: jsonResponse(ApprovalWebhook, 'The webhook'), ...errorResponses() },
});

const setWebhook = createRoute({
  method: 'put',
  path: '/v1/approvals/webhook',
  tags: ['approvals'],
  summary: 'Post approval events to this URL (HMAC-SHA256 signed, retried); null removes it',
  middleware: [requires('admin')] as const,
  request: { body: jsonBody(SetApprovalWebhookRequest) },
  responses: { 200: jsonResponse(ApprovalWebhook, 'The webhook with its new secret, shown once'), ...errorResponses() },
});

export function approvalsRoutes(approvals: Approvals) {
  return createRouter()
    .openapi(list, async (c) => c.json({ approvals: await approvals.list(c.get('auth'), c.req.valid('query').status) }, 200))
    .openapi(getWebhook, async (c) => c.json(await approvals.webhook(c.get('auth')), 200))
    .openapi(setWebhook, async (c) => c.json(await approvals.setWebhook(c.get('auth'), c.req.valid('json').url), 200))
    .openapi(get, async (c) => c.json(await approvals.get(c.get('auth'), c.req.valid('param').id), 200))
    .openapi(approve, async (c) => {
      const body = c.req.valid('json') as DecideApprovalRequest | undefined;
      return c.json(await approvals.approve(c.get('auth'), c.req.valid('param').id, body?.note), 200);
    })
    .openapi(deny, async (c) => {
      const body = c.req.valid('json') as DecideApprovalRequest | undefined;
      return c.json(await approvals.deny(c.get('auth'), c.req.valid('param').id, body?.note), 200);
    });
}
