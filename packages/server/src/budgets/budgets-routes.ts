import { createRoute, z } from '@hono/zod-openapi';
import { Budget, BudgetList, CreateBudgetRequest, Reservation, ReserveRequest, SettleRequest, Settlement } from '@hangar/protocol';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import { roleAllows } from '../http/permissions.js';
import type { Budgets } from './budgets-service.js';

const create = createRoute({
  method: 'post',
  path: '/v1/budgets',
  tags: ['budgets'],
  summary: 'Create a budget on a run, credential, agent or project',
  middleware: [requires('admin')] as const,
  request: { body: jsonBody(CreateBudgetRequest) },
  responses: { 201: jsonResponse(Budget, 'The budget, with its webhook secret'), ...errorResponses() },
});

const list = createRoute({
  method: 'get',
  path: '/v1/budgets',
  tags: ['budgets'],
  summary: "The project's budgets with this period's spend",
  middleware: [requires('read')] as const,
  responses: { 200: jsonResponse(BudgetList, 'Budgets'), ...errorResponses() },
});

const get = createRoute({
  method: 'get',
  path: '/v1/budgets/{id}',
  tags: ['budgets'],
  summary: "A budget with this period's spend",
  middleware: [requires('read')] as const,
  request: { params: z.object({ id: z.string().min(1).max(100) }) },
  responses: { 200: jsonResponse(Budget, 'The budget'), ...errorResponses('not_found') },
});

const reserve = createRoute({
  method: 'post',
  path: '/v1/budgets/reserve',
  tags: ['budgets'],
  summary: "Reserve an action's worst-case cost on every budget of its chain, all or nothing",
  middleware: [requires('write')] as const,
  request: { body: jsonBody(ReserveRequest) },
  responses: {
    201: jsonResponse(Reservation, 'One hold per budget that applies'),
    ...errorResponses('budget_exceeded', 'idempotency_conflict'),
  },
});

const settle = createRoute({
  method: 'post',
  path: '/v1/budgets/settle',
  tags: ['budgets'],
  summary: 'Charge the actual cost on the holds of a reservation and release the rest',
  middleware: [requires('write')] as const,
  request: { body: jsonBody(SettleRequest) },
  responses: {
    200: jsonResponse(Settlement, 'What was charged and released'),
    ...errorResponses('not_found', 'conflict', 'idempotency_conflict'),
  },
});

export function budgetsRoutes(budgets: Budgets) {
  return createRouter()
    .openapi(create, async (c) => c.json(await budgets.create(c.get('auth').project.id, c.req.valid('json')), 201))
    .openapi(list, async (c) => {
      const { project, role } = c.get('auth');
      return c.json({ budgets: await budgets.list(project.id, { includeSecrets: roleAllows(role, 'admin') }) }, 200);
    })
    .openapi(get, async (c) => {
      const { project, role } = c.get('auth');
      return c.json(await budgets.get(project.id, c.req.valid('param').id, { includeSecrets: roleAllows(role, 'admin') }), 200);
    })
    .openapi(reserve, async (c) => {
      const body = c.req.valid('json');
      return c.json(await budgets.holdForAction({ projectId: c.get('auth').project.id, ...body }), 201);
    })
    .openapi(settle, async (c) => {
      const { holdIds, actualMicros } = c.req.valid('json');
      return c.json(await budgets.settle(c.get('auth').project.id, holdIds, actualMicros), 200);
    });
}
