import { createRoute, z } from '@hono/zod-openapi';
import {
  ApiKey,
  CreatedKey,
  CreatedProject,
  CreateKeyRequest,
  CreateProjectRequest,
  Project,
  UpdateProjectRequest,
  Whoami,
} from '@hangar/protocol';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import type { Tenancy } from './tenancy-service.js';

const whoami = createRoute({
  method: 'get',
  path: '/v1/whoami',
  tags: ['tenancy'],
  summary: 'The key in use, its project and organization',
  responses: { 200: jsonResponse(Whoami, 'Who is calling'), ...errorResponses() },
});

const listProjects = createRoute({
  method: 'get',
  path: '/v1/projects',
  tags: ['tenancy'],
  summary: "Projects visible to the key: its own (a key belongs to one project)",
  middleware: [requires('read')] as const,
  responses: { 200: jsonResponse(z.object({ projects: z.array(Project) }), 'Projects'), ...errorResponses() },
});

const createProject = createRoute({
  method: 'post',
  path: '/v1/projects',
  tags: ['tenancy'],
  summary: 'Create a project in the same organization; returns an admin key for it, shown once',
  middleware: [requires('admin')] as const,
  request: { body: jsonBody(CreateProjectRequest) },
  responses: { 201: jsonResponse(CreatedProject, 'The project and its first admin key'), ...errorResponses() },
});

const updateProject = createRoute({
  method: 'patch',
  path: '/v1/project',
  tags: ['tenancy'],
  summary: "Change the key's own project (name, journal retention)",
  middleware: [requires('admin')] as const,
  request: { body: jsonBody(UpdateProjectRequest) },
  responses: { 200: jsonResponse(Project, 'The project'), ...errorResponses() },
});

const listKeys = createRoute({
  method: 'get',
  path: '/v1/keys',
  tags: ['keys'],
  summary: "The project's API keys (never their secrets)",
  middleware: [requires('admin')] as const,
  responses: { 200: jsonResponse(z.object({ keys: z.array(ApiKey) }), 'Keys, newest first'), ...errorResponses() },
});

const createKey = createRoute({
  method: 'post',
  path: '/v1/keys',
  tags: ['keys'],
  summary: 'Create an API key; its secret is in this response and never again',
  middleware: [requires('admin')] as const,
  request: { body: jsonBody(CreateKeyRequest) },
  responses: { 201: jsonResponse(CreatedKey, 'The key with its secret'), ...errorResponses() },
});

const revokeKey = createRoute({
  method: 'delete',
  path: '/v1/keys/{id}',
  tags: ['keys'],
  summary: 'Revoke an API key; it fails on its next request',
  middleware: [requires('admin')] as const,
  request: { params: z.object({ id: z.string().max(100) }) },
  responses: { 200: jsonResponse(ApiKey, 'The revoked key'), ...errorResponses('not_found') },
});

export function tenancyRoutes(tenancy: Tenancy) {
  return createRouter()
    .openapi(whoami, async (c) => c.json(await tenancy.whoami(c.get('auth')), 200))
    .openapi(listProjects, async (c) => c.json({ projects: await tenancy.listProjects(c.get('auth')) }, 200))
    .openapi(createProject, async (c) =>
      c.json(await tenancy.createProject(c.get('auth'), c.req.valid('json').name), 201),
    )
    .openapi(updateProject, async (c) => c.json(await tenancy.updateProject(c.get('auth'), c.req.valid('json')), 200))
    .openapi(listKeys, async (c) => c.json({ keys: await tenancy.listKeys(c.get('auth').project.id) }, 200))
    .openapi(createKey, async (c) => c.json(await tenancy.createKey(c.get('auth'), c.req.valid('json')), 201))
    .openapi(revokeKey, async (c) => c.json(await tenancy.revokeKey(c.get('auth'), c.req.valid('param').id), 200));
}
