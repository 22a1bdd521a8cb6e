import { createRoute, z } from '@hono/zod-openapi';
import { Policy, PolicyCheckRequest, PolicyDecision, SavePolicyRequest } from '@hangar/protocol';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import { validatePolicyText } from './cedar-engine.js';
import type { Policies } from './policy-service.js';

const idParam = z.object({ id: z.string().min(1).max(100) });
const Issue = z.object({ message: z.string(), line: z.number().int(), column: z.number().int(), statement: z.number().int().nullable(), help: z.string().nullable() });

const list = createRoute({
  method: 'get',
  path: '/v1/policies',
  tags: ['policy'],
  summary: "The project's Cedar policies, by name",
  middleware: [requires('read')] as const,
  responses: { 200: jsonResponse(z.object({ policies: z.array(Policy) }), 'Policies'), ...errorResponses() },
});

const schema = createRoute({
  method: 'get',
  path: '/v1/policies/schema',
  tags: ['policy'],
  summary: "Hangar's Cedar schema: principals, actions, resources and context that policies may use",
  middleware: [requires('read')] as const,
  responses: { 200: jsonResponse(z.object({ schema: z.string() }), 'The schema in Cedar syntax'), ...errorResponses() },
});

const create = createRoute({
  method: 'post',
  path: '/v1/policies',
  tags: ['policy'],
  summary: 'Save a policy; it is validated against the schema (errors name line and column)',
  middleware: [requires('admin')] as const,
  request: { body: jsonBody(SavePolicyRequest) },
  responses: { 201: jsonResponse(Policy, 'The policy'), ...errorResponses('conflict') },
});

const get = createRoute({
  method: 'get',
  path: '/v1/policies/{id}',
  tags: ['policy'],
  summary: 'One policy',
  middleware: [requires('read')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(Policy, 'The policy'), ...errorResponses('not_found') },
});

const update = createRoute({
  method: 'put',
  path: '/v1/policies/{id}',
  tags: ['policy'],
  summary: 'Replace a policy (validated like a new one); it applies to the next action',
  middleware: [requires('admin')] as const,
  request: { params: idParam, body: jsonBody(SavePolicyRequest) },
  responses: { 200: jsonResponse(Policy, 'The policy'), ...errorResponses('not_found', 'conflict') },
});

const remove = createRoute({
  method: 'delete',
  path: '/v1/policies/{id}',
  tags: ['policy'],
  summary: 'Delete a policy',
  middleware: [requires('admin')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(Policy, 'The deleted policy'), ...errorResponses('not_found') },
});

const validate = createRoute({
  method: 'post',
  path: '/v1/policies/validate',
  tags: ['policy'],
  summary: 'Validate Cedar text without saving it',
  middleware: [requires('read')] as const,
  request: { body: jsonBody(z.object({ text: z.string().max(100_000) })) },
  responses: { 200: jsonResponse(z.object({ ok: z.boolean(), errors: z.array(Issue), warnings: z.array(Issue) }), 'What is wrong, by line'), ...errorResponses() },
});

const check = createRoute({
  method: 'post',
  path: '/v1/policies/check',
  tags: ['policy'],
  summary: 'Would this action be allowed? Decides it by the saved policies (or draft text) without doing it',
  middleware: [requires('read')] as const,
  request: { body: jsonBody(PolicyCheckRequest) },
  responses: { 200: jsonResponse(PolicyDecision, 'The decision and the policies that determined it'), ...errorResponses() },
});

export function policyRoutes(policies: Policies) {
  return createRouter()
    .openapi(list, async (c) => c.json({ policies: await policies.list(c.get('auth').project.id) }, 200))
    .openapi(schema, (c) => c.json({ schema: policies.schema() }, 200))
    .openapi(create, async (c) => c.json(await policies.create(c.get('auth'), c.req.valid('json')), 201))
    .openapi(validate, (c) => {
      const { errors, warnings } = validatePolicyText(c.req.valid('json').text);
      return c.json({ ok: errors.length === 0, errors, warnings }, 200);
    })
    .openapi(check, async (c) => c.json(await policies.check(c.get('auth'), c.req.valid('json')), 200))
    .openapi(get, async (c) => c.json(await policies.get(c.get('auth').project.id, c.req.valid('param').id), 200))
    .openapi(update, async (c) => c.json(await policies.update(c.get('auth'), c.req.valid('param').id, c.req.valid('json')), 200))
    .openapi(remove, async (c) => c.json(await policies.remove(c.get('auth'), c.req.valid('param').id), 200));
}
