import { createRoute, z } from '@hono/zod-openapi';
import {
  Comparison,
  CreateExperimentRequest,
  CreatedExperiment,
  Experiment,
  ExperimentList,
  ExperimentStatus,
  FinishExperimentRequest,
  PostResultsRequest,
  PostResultsResponse,
  ResultPage,
} from '@hangar/protocol';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import type { Experiments } from './experiments-service.js';

const params = z.object({ id: z.string().min(1).max(300).describe('The experiment id (exp_…) or `name@latest`: the newest completed one of that name') });

const create = createRoute({
  method: 'post',
  path: '/v1/experiments',
  tags: ['evals'],
  summary: 'Start an experiment on a dataset version; with a budget, get an agent credential for its model calls',
  middleware: [requires('write')] as const,
  request: { body: jsonBody(CreateExperimentRequest) },
  responses: { 201: jsonResponse(CreatedExperiment, 'The experiment, with its credential (shown once) when it has a budget'), ...errorResponses('not_found', 'conflict') },
});

const list = createRoute({
  method: 'get',
  path: '/v1/experiments',
  tags: ['evals'],
  summary: 'Experiments, newest first, with running score summaries',
  middleware: [requires('read')] as const,
  request: {
    query: z.object({
      name: z.string().min(1).max(200).optional(),
      datasetId: z.string().min(1).max(200).optional().describe('A dataset id or name'),
      status: ExperimentStatus.optional(),
      cursor: z.string().max(1000).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
  },
  responses: { 200: jsonResponse(ExperimentList, 'A page of experiments'), ...errorResponses('not_found') },
});

const get = createRoute({
  method: 'get',
  path: '/v1/experiments/{id}',
  tags: ['evals'],
  summary: 'An experiment with score summaries (CIs clustered by case, pass@k)',
  middleware: [requires('read')] as const,
  request: { params },
  responses: { 200: jsonResponse(Experiment, 'The experiment'), ...errorResponses('not_found') },
});

const postResults = createRoute({
  method: 'post',
  path: '/v1/experiments/{id}/results',
  tags: ['evals'],
  summary: 'Post a batch of trial results; idempotent per (caseId, trial), first wins',
  middleware: [requires('ingest')] as const,
  request: { params, body: jsonBody(PostResultsRequest) },
  responses: { 200: jsonResponse(PostResultsResponse, 'How many were stored and how many were already there'), ...errorResponses('not_found', 'conflict', 'idempotency_conflict') },
});

const results = createRoute({
  method: 'get',
  path: '/v1/experiments/{id}/results',
  tags: ['evals'],
  summary: 'Trial results by case and trial, a page at a time',
  middleware: [requires('read')] as const,
  request: {
    params,
    query: z.object({
      caseId: z.string().min(1).max(200).optional().describe('Only the trials of this case'),
      cursor: z.string().max(1000).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: { 200: jsonResponse(ResultPage, 'A page of results'), ...errorResponses('not_found') },
});

const finish = createRoute({
  method: 'post',
  path: '/v1/experiments/{id}/finish',
  tags: ['evals'],
  summary: 'Finish a running experiment (completed, failed or stopped); revokes its budget credential',
  middleware: [requires('ingest')] as const,
  request: { params, body: jsonBody(FinishExperimentRequest) },
  responses: { 200: jsonResponse(Experiment, 'The finished experiment'), ...errorResponses('not_found', 'conflict') },
});

const compare = createRoute({
  method: 'get',
  path: '/v1/experiments/{id}/compare',
  tags: ['evals'],
  summary: 'Compare this experiment (candidate) with a baseline on the same dataset version',
  middleware: [requires('read')] as const,
  request: {
    params,
    query: z.object({
      baseline: z.string().min(1).max(300).describe('An experiment id or `name@latest`'),
      alpha: z.coerce.number().gt(0).lt(1).default(0.05),
    }),
  },
  responses: { 200: jsonResponse(Comparison, 'Per-metric paired statistics and a verdict'), ...errorResponses('not_found', 'conflict') },
});

export function experimentsRoutes(experiments: Experiments) {
  return createRouter()
    .openapi(create, async (c) => c.json(await experiments.create(c.get('auth'), c.req.valid('json')), 201))
    .openapi(list, async (c) => {
      const { cursor, limit, ...filter } = c.req.valid('query');
      return c.json(await experiments.list(c.get('auth').project.id, filter, { cursor, limit }), 200);
    })
    .openapi(get, async (c) => c.json(await experiments.get(c.get('auth').project.id, c.req.valid('param').id), 200))
    .openapi(postResults, async (c) => c.json(await experiments.postResults(c.get('auth'), c.req.valid('param').id, c.req.valid('json').results), 200))
    .openapi(results, async (c) => c.json(await experiments.results(c.get('auth').project.id, c.req.valid('param').id, c.req.valid('query')), 200))
    .openapi(finish, async (c) => c.json(await experiments.finish(c.get('auth'), c.req.valid('param').id, c.req.valid('json').status), 200))
    .openapi(compare, async (c) => {
      const { baseline, alpha } = c.req.valid('query');
      return c.json(await experiments.compare(c.get('auth').project.id, c.req.valid('param').id, baseline, alpha), 200);
    });
}
