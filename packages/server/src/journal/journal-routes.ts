import { createRoute, z } from '@hono/zod-openapi';
import {
  AppendRequest,
  AppendResponse,
  EventPage,
  RetentionReport,
  StreamList,
  StreamName,
  VerifyReport,
} from '@hangar/protocol';
import { ApiError } from '../http/api-error.js';
import { journalActorOf } from '../http/app-env.js';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import type { Journal } from './journal-service.js';

const streamParam = z.object({ stream: StreamName });

const append = createRoute({
  method: 'post',
  path: '/v1/streams/{stream}/events',
  tags: ['journal'],
  summary: 'Append events to a stream, all or nothing',
  middleware: [requires('ingest')] as const,
  request: { params: streamParam, body: jsonBody(AppendRequest) },
  responses: {
    201: jsonResponse(AppendResponse, 'The appended events with their seq and hash'),
    ...errorResponses('seq_conflict', 'payload_too_large'),
  },
});

const read = createRoute({
  method: 'get',
  path: '/v1/streams/{stream}/events',
  tags: ['journal'],
  summary: "Read a stream's events in order",
  middleware: [requires('read')] as const,
  request: {
    params: streamParam,
    query: z.object({
      afterSeq: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: { 200: jsonResponse(EventPage, 'A page of events'), ...errorResponses() },
});

const listStreams = createRoute({
  method: 'get',
  path: '/v1/streams',
  tags: ['journal'],
  summary: "The project's streams with their head",
  middleware: [requires('read')] as const,
  request: {
    query: z.object({
      cursor: z.string().max(200).optional(),
      prefix: z.string().max(200).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: { 200: jsonResponse(StreamList, 'Streams by name'), ...errorResponses() },
});

const verify = createRoute({
  method: 'post',
  path: '/v1/journal/verify',
  tags: ['journal'],
  summary: 'Recompute the hash chains and report the first broken link of each stream',
  middleware: [requires('read')] as const,
  request: { body: { ...jsonBody(z.object({ stream: StreamName.optional() })), required: false } },
  responses: { 200: jsonResponse(VerifyReport, 'The verification report'), ...errorResponses() },
});

const retention = createRoute({
  method: 'post',
  path: '/v1/journal/retention',
  tags: ['journal'],
  summary: "Apply the project's retention setting now (it also runs periodically)",
  middleware: [requires('admin')] as const,
  responses: { 200: jsonResponse(RetentionReport, 'What was removed'), ...errorResponses('conflict') },
});

const blob = createRoute({
  method: 'get',
  path: '/v1/blobs/{sha256}',
  tags: ['journal'],
  summary: 'A payload stored in the blob store, by its sha256',
  middleware: [requires('read')] as const,
  request: { params: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }) },
  responses: {
    200: { description: 'The raw content', content: { 'application/octet-stream': { schema: z.any() } } },
    ...errorResponses('not_found'),
  },
});

export function journalRoutes(journal: Journal) {
  return createRouter()
    .openapi(append, async (c) => {
      const { stream } = c.req.valid('param');
      const body = c.req.valid('json');
      const auth = c.get('auth');
      const events = await journal.append({
        projectId: auth.project.id,
        stream,
        actor: journalActorOf(auth),
        events: body.events,
        expectedSeq: body.expectedSeq,
      });
      return c.json({ events }, 201);
    })
    .openapi(read, async (c) => {
      const { stream } = c.req.valid('param');
      const { afterSeq, limit } = c.req.valid('query');
      return c.json(await journal.read(c.get('auth').project.id, stream, afterSeq, limit), 200);
    })
    .openapi(listStreams, async (c) => {
      const q = c.req.valid('query');
      return c.json(await journal.listStreams(c.get('auth').project.id, q), 200);
    })
    .openapi(verify, async (c) => {
      const body = c.req.valid('json') as { stream?: string } | undefined;
      return c.json(await journal.verify(c.get('auth').project.id, body?.stream), 200);
    })
    .openapi(retention, async (c) => {
      const { project } = c.get('auth');
      if (project.retentionDays === null) {
        throw new ApiError('conflict', 'This project keeps events forever; set retentionDays with PATCH /v1/project first.');
      }
      return c.json(await journal.applyRetention(project.id, project.retentionDays), 200);
    })
    .openapi(blob, async (c) => {
      const content = await journal.payloadBlob(c.get('auth').project.id, c.req.valid('param').sha256);
      if (!content) throw new ApiError('not_found', 'No such blob in this project.');
      return c.body(Buffer.from(content), 200, { 'content-type': 'application/octet-stream' });
    });
}
