import { createRoute, z } from '@hono/zod-openapi';
import {
  AggregateGroupBy,
  AggregateReport,
  SPAN_KINDS,
  SpanDetail,
  SpanKind,
  SpanPage,
  SpanStatus,
  TracePage,
  TraceTree,
} from '@hangar/protocol';
import { ApiError } from '../http/api-error.js';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonResponse } from '../http/openapi.js';
import { ATTRIBUTE_KEY, type TraceQuery, type TraceQueryService } from './trace-query-service.js';

const KNOWN = new Set([
  'from',
  'to',
  'agent',
  'model',
  'kind',
  'status',
  'minCostMicros',
  'minDurationMs',
  'name',
  'cursor',
  'limit',
  'groupBy',
  'splitBy',
  'percentiles',
]);

const time = (what: string) =>
  z.string().max(40).describe(`${what} (RFC 3339, e.g. 2026-11-25T09:00:00Z); spans are matched on their start time`);

/**
 * The filters every search takes. Besides these, `attr.<key>=<value>` parameters filter on attribute
 * equality; any other parameter is refused, so a misspelt filter never silently widens a search.
 */
const filterFields = {
  from: time('Start of the window, inclusive'),
  to: time('End of the window, exclusive'),
  agent: z.string().min(1).max(200).optional(),
  model: z.string().min(1).max(200).optional(),
  kind: z
    .string()
    .max(200)
    .optional()
    .describe(`One kind or several separated by commas: ${SPAN_KINDS.join(', ')}`),
  status: SpanStatus.optional(),
  minCostMicros: z.coerce.number().int().min(0).optional(),
  minDurationMs: z.coerce.number().min(0).optional(),
  name: z.string().min(1).max(200).optional().describe("Text in the span's name or tool name, any case"),
};

function withAttributes<T extends z.ZodRawShape>(shape: T) {
  return z
    .object(shape)
    .catchall(z.string().max(1000))
    .superRefine((value, ctx) => {
      for (const key of Object.keys(value)) {
        if (KNOWN.has(key)) continue;
        if (key.startsWith('attr.') && ATTRIBUTE_KEY.test(key.slice(5))) continue;
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: key.startsWith('attr.')
            ? 'attribute keys are letters, digits and _ . : / @ - only'
            : `unknown parameter; filters are ${[...KNOWN].join(', ')} and attr.<key>`,
        });
      }
    });
}

const pageFields = (max: number) => ({
  cursor: z.string().max(500).optional().describe('The nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(max).default(50),
});

const spanSearchQuery = withAttributes({ ...filterFields, ...pageFields(500) });
const traceListQuery = withAttributes({ ...filterFields, ...pageFields(200) });
const aggregateQuery = withAttributes({
  ...filterFields,
  groupBy: AggregateGroupBy,
  splitBy: AggregateGroupBy.optional().describe(
    'A second dimension: one row per group and value of this, e.g. groupBy=day&splitBy=agent for cost per agent per day',
  ),
  percentiles: z
    .enum(['true', 'false'])
    .default('true')
    .describe('false skips the latency percentiles (they come back null), which is several times faster'),
});

const TraceIdParam = z.string().regex(/^[0-9a-f]{32}$/, '32 lower-case hex characters');
const SpanIdParam = z.string().regex(/^[0-9a-f]{16}$/, '16 lower-case hex characters');

const searchSpans = createRoute({
  method: 'get',
  path: '/v1/spans',
  tags: ['traces'],
  summary: 'Search spans in a time window, newest first',
  middleware: [requires('read')] as const,
  request: { query: spanSearchQuery },
  responses: { 200: jsonResponse(SpanPage, 'A page of spans'), ...errorResponses() },
});

const aggregates = createRoute({
  method: 'get',
  path: '/v1/spans/aggregates',
  tags: ['traces'],
  summary: 'Calls, errors, cost, tokens and p50/p95 latency of spans, by model, agent or day (optionally split by another)',
  middleware: [requires('read')] as const,
  request: { query: aggregateQuery },
  responses: { 200: jsonResponse(AggregateReport, 'One row per group'), ...errorResponses() },
});

const listTraces = createRoute({
  method: 'get',
  path: '/v1/traces',
  tags: ['traces'],
  summary: 'Traces starting in a time window that contain a span matching the filters, newest first',
  middleware: [requires('read')] as const,
  request: { query: traceListQuery },
  responses: { 200: jsonResponse(TracePage, 'A page of traces, one row each'), ...errorResponses() },
});

const getTrace = createRoute({
  method: 'get',
  path: '/v1/traces/{traceId}',
  tags: ['traces'],
  summary: 'A trace as a tree of spans',
  middleware: [requires('read')] as const,
  request: { params: z.object({ traceId: TraceIdParam }) },
  responses: { 200: jsonResponse(TraceTree, 'The trace'), ...errorResponses('not_found') },
});

const getSpan = createRoute({
  method: 'get',
  path: '/v1/traces/{traceId}/spans/{spanId}',
  tags: ['traces'],
  summary: 'A span with its input and output messages',
  middleware: [requires('read')] as const,
  request: { params: z.object({ traceId: TraceIdParam, spanId: SpanIdParam }) },
  responses: { 200: jsonResponse(SpanDetail, 'The span'), ...errorResponses('not_found') },
});

type FilterQuery = z.infer<typeof aggregateQuery> | z.infer<typeof spanSearchQuery>;

function toQuery(q: FilterQuery): TraceQuery {
  const attributes: Record<string, string> = {};
  for (const [key, value] of Object.entries(q)) {
    if (key.startsWith('attr.') && typeof value === 'string') attributes[key.slice(5)] = value;
  }
  let kinds: SpanKind[] | undefined;
  if (q.kind !== undefined) {
    kinds = q.kind.split(',').map((k) => {
      const parsed = SpanKind.safeParse(k.trim());
      if (!parsed.success) {
        const message = `unknown kind '${k.trim()}'; kinds are ${SPAN_KINDS.join(', ')}`;
        throw new ApiError('validation_failed', `query.kind: ${message}`, { details: { issues: [{ path: 'query.kind', message }] } });
      }
      return parsed.data;
    });
  }
  return {
    from: q.from,
    to: q.to,
    agent: q.agent,
    model: q.model,
    kinds,
    status: q.status,
    minCostMicros: q.minCostMicros,
    minDurationMs: q.minDurationMs,
    name: q.name,
    attributes,
  };
}

export function traceQueryRoutes(query: TraceQueryService) {
  return createRouter()
    .openapi(searchSpans, async (c) => {
      const q = c.req.valid('query');
      return c.json(await query.searchSpans(c.get('auth').project.id, toQuery(q), q), 200);
    })
    .openapi(aggregates, async (c) => {
      const q = c.req.valid('query');
      const percentiles = q.percentiles === 'true';
      if (q.splitBy === q.groupBy) {
        const message = 'splitBy must differ from groupBy';
        throw new ApiError('validation_failed', `query.splitBy: ${message}`, { details: { issues: [{ path: 'query.splitBy', message }] } });
      }
      return c.json(await query.aggregates(c.get('auth').project.id, toQuery(q), q.groupBy, { percentiles, splitBy: q.splitBy }), 200);
    })
    .openapi(listTraces, async (c) => {
      const q = c.req.valid('query');
      return c.json(await query.listTraces(c.get('auth').project.id, toQuery(q), q), 200);
    })
    .openapi(getTrace, async (c) => {
      const { traceId } = c.req.valid('param');
      const tree = await query.trace(c.get('auth').project.id, traceId);
      if (!tree) throw new ApiError('not_found', `No trace ${traceId} in this project.`);
      return c.json(tree, 200);
    })
    .openapi(getSpan, async (c) => {
      const { traceId, spanId } = c.req.valid('param');
      const span = await query.span(c.get('auth').project.id, traceId, spanId);
      if (!span) throw new ApiError('not_found', `No span ${spanId} in trace ${traceId} in this project.`);
      return c.json(span, 200);
    });
}
