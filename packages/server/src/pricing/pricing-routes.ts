import { createRoute } from '@hono/zod-openapi';
import { PriceList, SetPricesRequest } from '@hangar/protocol';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import type { Pricing } from './pricing.js';

const list = createRoute({
  method: 'get',
  path: '/v1/prices',
  tags: ['traces'],
  summary: "The project's price overrides and the built-in price table",
  middleware: [requires('read')] as const,
  responses: { 200: jsonResponse(PriceList, 'Prices in micro-USD per million tokens'), ...errorResponses() },
});

const replace = createRoute({
  method: 'put',
  path: '/v1/prices',
  tags: ['traces'],
  summary: "Replace the project's price overrides (applies to spans recorded from now on)",
  middleware: [requires('admin')] as const,
  request: { body: jsonBody(SetPricesRequest) },
  responses: { 200: jsonResponse(PriceList, 'The prices now in force'), ...errorResponses() },
});

export function pricingRoutes(pricing: Pricing) {
  return createRouter()
    .openapi(list, async (c) => {
      const projectId = c.get('auth').project.id;
      return c.json({ overrides: await pricing.overrides(projectId), builtIn: [...pricing.builtIn] }, 200);
    })
    .openapi(replace, async (c) => {
      const projectId = c.get('auth').project.id;
      const overrides = await pricing.setOverrides(projectId, c.req.valid('json').overrides);
      return c.json({ overrides, builtIn: [...pricing.builtIn] }, 200);
    });
}
