import { createRoute, z } from '@hono/zod-openapi';
import { ReconciliationReport } from '@hangar/protocol';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonResponse } from '../http/openapi.js';
import type { Reconciliation } from './reconciliation-service.js';

const reconcile = createRoute({
  method: 'get',
  path: '/v1/reconciliation',
  tags: ['ledger'],
  summary: "Hangar's settled costs against providers' reported costs, and the ledger against each payment rail's statement",
  middleware: [requires('read')] as const,
  request: {
    query: z.object({
      from: z.string().datetime({ offset: true }).optional(),
      to: z.string().datetime({ offset: true }).optional(),
    }),
  },
  responses: { 200: jsonResponse(ReconciliationReport, 'Totals per provider and rail, and every difference'), ...errorResponses() },
});

export function reconciliationRoutes(reconciliation: Reconciliation) {
  return createRouter().openapi(reconcile, async (c) =>
    c.json(await reconciliation.reconcile(c.get('auth').project.id, c.req.valid('query')), 200),
  );
}
