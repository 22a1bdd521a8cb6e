import { createRoute, z } from '@hono/zod-openapi';
import { OrganizationSpend } from '@hangar/protocol';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonResponse } from '../http/openapi.js';
import type { Spend } from './spend-service.js';

const time = (what: string) =>
  z.string().max(40).describe(`${what} (RFC 3339, e.g. 2026-11-25T09:00:00Z); spans are matched on their start time`);

const organizationSpend = createRoute({
  method: 'get',
  path: '/v1/organization/spend',
  tags: ['spend'],
  summary:
    "Cost, calls and tokens of every project of the key's organization, per project and per UTC day (admin keys of any of its projects)",
  middleware: [requires('admin')] as const,
  // strict: a misspelt parameter is refused rather than ignored
  request: { query: z.object({ from: time('Start of the window, inclusive'), to: time('End of the window, exclusive') }).strict() },
  responses: { 200: jsonResponse(OrganizationSpend, 'Totals per project and per day and project'), ...errorResponses() },
});

export function spendRoutes(spend: Spend) {
  return createRouter().openapi(organizationSpend, async (c) =>
    c.json(await spend.organization(c.get('auth').project.organizationId, c.req.valid('query')), 200),
  );
}
