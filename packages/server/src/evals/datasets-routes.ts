import { createRoute, z } from '@hono/zod-openapi';
import {
  AddSpansToDatasetRequest,
  CasePage,
  ChangeDatasetRequest,
  CreateDatasetRequest,
  Dataset,
  DatasetChange,
  DatasetList,
  DatasetVersionList,
} from '@hangar/protocol';
import { ApiError } from '../http/api-error.js';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import { parseCsv, parseJsonl, toCsv, toJsonl } from './case-files.js';
import type { Datasets } from './datasets-service.js';

const MAX_IMPORT_CASES = 10_000;
const params = z.object({ id: z.string().min(1).max(200).describe('The dataset id (ds_…) or its name') });
const version = z.coerce.number().int().min(1).optional().describe('A version number; the latest by default');

const create = createRoute({
  method: 'post',
  path: '/v1/datasets',
  tags: ['evals'],
  summary: 'Create a dataset, optionally with its first cases (version 1)',
  middleware: [requires('write')] as const,
  request: { body: jsonBody(CreateDatasetRequest) },
  responses: { 201: jsonResponse(Dataset, 'The dataset'), ...errorResponses('conflict') },
});

const list = createRoute({
  method: 'get',
  path: '/v1/datasets',
  tags: ['evals'],
  summary: "The project's datasets, by name",
  middleware: [requires('read')] as const,
  responses: { 200: jsonResponse(DatasetList, 'Datasets'), ...errorResponses() },
});

const get = createRoute({
  method: 'get',
  path: '/v1/datasets/{id}',
  tags: ['evals'],
  summary: 'A dataset with its latest version and case count',
  middleware: [requires('read')] as const,
  request: { params },
  responses: { 200: jsonResponse(Dataset, 'The dataset'), ...errorResponses('not_found') },
});

const change = createRoute({
  method: 'post',
  path: '/v1/datasets/{id}/versions',
  tags: ['evals'],
  summary: 'Upsert and remove cases: makes a new immutable version',
  middleware: [requires('write')] as const,
  request: { params, body: jsonBody(ChangeDatasetRequest) },
  responses: { 201: jsonResponse(DatasetChange, 'The new version'), ...errorResponses('not_found', 'conflict') },
});

const versions = createRoute({
  method: 'get',
  path: '/v1/datasets/{id}/versions',
  tags: ['evals'],
  summary: "A dataset's versions, newest first",
  middleware: [requires('read')] as const,
  request: { params },
  responses: { 200: jsonResponse(DatasetVersionList, 'Versions'), ...errorResponses('not_found') },
});

const cases = createRoute({
  method: 'get',
  path: '/v1/datasets/{id}/cases',
  tags: ['evals'],
  summary: 'The cases of a version, by id, a page at a time',
  middleware: [requires('read')] as const,
  request: {
    params,
    query: z.object({ version, cursor: z.string().max(1000).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
  },
  responses: { 200: jsonResponse(CasePage, 'A page of cases'), ...errorResponses('not_found') },
});

const importCases = createRoute({
  method: 'post',
  path: '/v1/datasets/{id}/import',
  tags: ['evals'],
  summary: 'Import cases from JSONL or CSV as one new version (upserts by case id)',
  description:
    'The body is `application/x-ndjson` (one case object per line) or `text/csv` (a header naming `input`, and ' +
    'optionally `expected`, `id`, `tags` (separated by `;`) and `metadata.<key>` columns; cells that start with ' +
    '`{`, `[` or `"` are JSON). A bad line refuses the whole import with `validation_failed` whose `details.line` ' +
    'names it; nothing is written.',
  middleware: [requires('write')] as const,
  request: {
    params,
    query: z.object({ note: z.string().max(500).optional() }),
    body: { required: true, content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } } },
  },
  responses: { 201: jsonResponse(DatasetChange, 'The new version'), ...errorResponses('not_found', 'conflict', 'unsupported_media_type') },
});

const exportCases = createRoute({
  method: 'get',
  path: '/v1/datasets/{id}/export',
  tags: ['evals'],
  summary: 'Every case of a version as JSONL or CSV',
  middleware: [requires('read')] as const,
  request: { params, query: z.object({ version, format: z.enum(['jsonl', 'csv']).default('jsonl') }) },
  responses: {
    200: { description: 'The cases', content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } } },
    ...errorResponses('not_found'),
  },
});

const addSpans = createRoute({
  method: 'post',
  path: '/v1/datasets/{id}/spans',
  tags: ['evals'],
  summary: 'Add production spans as cases (input messages → input, output → expected): a new version',
  middleware: [requires('write')] as const,
  request: { params, body: jsonBody(AddSpansToDatasetRequest) },
  responses: { 201: jsonResponse(DatasetChange, 'The new version'), ...errorResponses('not_found', 'conflict') },
});

export function datasetsRoutes(datasets: Datasets) {
  return createRouter()
    .openapi(create, async (c) => c.json(await datasets.create(c.get('auth'), c.req.valid('json')), 201))
    .openapi(list, async (c) => c.json({ datasets: await datasets.list(c.get('auth').project.id) }, 200))
    .openapi(get, async (c) => c.json(await datasets.get(c.get('auth').project.id, c.req.valid('param').id), 200))
    .openapi(change, async (c) => c.json(await datasets.change(c.get('auth'), c.req.valid('param').id, c.req.valid('json')), 201))
    .openapi(versions, async (c) => c.json({ versions: await datasets.versions(c.get('auth').project.id, c.req.valid('param').id) }, 200))
    .openapi(cases, async (c) => c.json(await datasets.cases(c.get('auth').project.id, c.req.valid('param').id, c.req.valid('query')), 200))
    .openapi(importCases, async (c) => {
      const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const parse = type === 'application/x-ndjson' || type === 'application/jsonl' ? parseJsonl : type === 'text/csv' ? parseCsv : null;
      if (!parse) {
        throw new ApiError('unsupported_media_type', 'Import JSONL as application/x-ndjson or CSV as text/csv.', { details: { contentType: type || null } });
      }
      const parsed = parse(await c.req.text());
      if (parsed.length === 0) throw new ApiError('validation_failed', 'The file has no cases.', { details: { issues: [{ path: 'body', message: 'no cases' }] } });
      if (parsed.length > MAX_IMPORT_CASES) {
        throw new ApiError('validation_failed', `An import takes at most ${MAX_IMPORT_CASES} cases; this file has ${parsed.length}.`, { details: { issues: [{ path: 'body', message: 'too many cases' }] } });
      }
      return c.json(await datasets.importCases(c.get('auth'), c.req.param('id'), parsed, c.req.valid('query').note ?? null), 201);
    })
    .openapi(exportCases, async (c) => {
      const { version: v, format } = c.req.valid('query');
      const all = await datasets.allCases(c.get('auth').project.id, c.req.valid('param').id, v);
      const filename = `${all.dataset.name.replace(/[^A-Za-z0-9._-]+/g, '_')}-v${all.version}.${format}`;
      const headers = { 'content-disposition': `attachment; filename="${filename}"`, 'x-hangar-dataset-version': String(all.version) };
      return format === 'csv'
        ? c.body(toCsv(all.cases), 200, { ...headers, 'content-type': 'text/csv; charset=utf-8' })
        : c.body(toJsonl(all.cases), 200, { ...headers, 'content-type': 'application/x-ndjson' });
    })
    .openapi(addSpans, async (c) => c.json(await datasets.addSpans(c.get('auth'), c.req.valid('param').id, c.req.valid('json')), 201));
}
