import { createRoute, z } from '@hono/zod-openapi';
import {
  Agent,
  CreateAgentRequest,
  Credential,
  DelegateRequest,
  IssueCredentialRequest,
  IssuedCredential,
  JournalEvent,
  TokenExchangeRequest,
  TokenExchangeResponse,
} from '@hangar/protocol';
import { Hono } from 'hono';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import type { Identity } from './identity-service.js';

const idParam = z.object({ id: z.string().min(1).max(100) });

const createAgent = createRoute({
  method: 'post',
  path: '/v1/agents',
  tags: ['identity'],
  summary: 'Register an agent in the project',
  middleware: [requires('write')] as const,
  request: { body: jsonBody(CreateAgentRequest) },
  responses: { 201: jsonResponse(Agent, 'The agent'), ...errorResponses('conflict') },
});

const listAgents = createRoute({
  method: 'get',
  path: '/v1/agents',
  tags: ['identity'],
  summary: "The project's agents, by name",
  middleware: [requires('read')] as const,
  responses: { 200: jsonResponse(z.object({ agents: z.array(Agent) }), 'Agents'), ...errorResponses() },
});

const getAgent = createRoute({
  method: 'get',
  path: '/v1/agents/{id}',
  tags: ['identity'],
  summary: 'An agent with its latest credentials and actions',
  middleware: [requires('read')] as const,
  request: { params: idParam },
  responses: {
    200: jsonResponse(
      z.object({ agent: Agent, credentials: z.array(Credential), recentActions: z.array(JournalEvent) }),
      'The agent, its credentials (newest first) and its last 20 actions (newest first)',
    ),
    ...errorResponses('not_found'),
  },
});

const revokeAgent = createRoute({
  method: 'delete',
  path: '/v1/agents/{id}',
  tags: ['identity'],
  summary: 'Revoke an agent: every credential with it in its chain fails on its next request',
  middleware: [requires('admin')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(Agent, 'The revoked agent'), ...errorResponses('not_found') },
});

const issueCredential = createRoute({
  method: 'post',
  path: '/v1/agents/{id}/credentials',
  tags: ['identity'],
  summary: 'Issue a short-lived signed credential to the agent, acting for a user or service',
  middleware: [requires('write')] as const,
  request: { params: idParam, body: jsonBody(IssueCredentialRequest) },
  responses: { 201: jsonResponse(IssuedCredential, 'The token (shown once) and what it carries'), ...errorResponses('not_found', 'conflict') },
});

const listCredentials = createRoute({
  method: 'get',
  path: '/v1/agents/{id}/credentials',
  tags: ['identity'],
  summary: "The agent's credentials, newest first (never the tokens)",
  middleware: [requires('read')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(z.object({ credentials: z.array(Credential) }), 'Credentials'), ...errorResponses('not_found') },
});

const revokeCredential = createRoute({
  method: 'delete',
  path: '/v1/credentials/{id}',
  tags: ['identity'],
  summary: 'Revoke a credential and, with it, everything delegated or exchanged from it',
  middleware: [requires('write')] as const,
  request: { params: idParam },
  responses: { 200: jsonResponse(Credential, 'The revoked credential'), ...errorResponses('not_found') },
});

const delegate = createRoute({
  method: 'post',
  path: '/v1/credentials/delegate',
  tags: ['identity'],
  summary: "With a credential: obtain a narrower one for a sub-agent (scopes ⊆, spend cap ≤ remaining, expiry ≤ the caller's)",
  middleware: [requires('ingest')] as const,
  request: { body: jsonBody(DelegateRequest) },
  responses: { 201: jsonResponse(IssuedCredential, 'The delegated credential'), ...errorResponses('delegation_escalation', 'not_found', 'conflict') },
});

const tokenExchange = createRoute({
  method: 'post',
  path: '/v1/token',
  tags: ['identity'],
  summary: 'RFC 8693 token exchange: a credential for a token bound to one audience (a tool or resource)',
  middleware: [requires('ingest')] as const,
  request: {
    body: {
      content: {
        'application/json': { schema: TokenExchangeRequest },
        'application/x-www-form-urlencoded': { schema: TokenExchangeRequest },
      },
      // "required" would validate the body against both content types; the handler checks there is one
      required: false,
    },
  },
  responses: { 200: jsonResponse(TokenExchangeResponse, 'The exchanged token'), ...errorResponses('credential_invalid', 'credential_expired', 'credential_revoked') },
});

export function identityRoutes(identity: Identity) {
  return createRouter()
    .openapi(createAgent, async (c) => c.json(await identity.createAgent(c.get('auth'), c.req.valid('json')), 201))
    .openapi(listAgents, async (c) => c.json({ agents: await identity.listAgents(c.get('auth').project.id) }, 200))
    .openapi(getAgent, async (c) => c.json(await identity.agentDetail(c.get('auth').project.id, c.req.valid('param').id), 200))
    .openapi(revokeAgent, async (c) => c.json(await identity.revokeAgent(c.get('auth'), c.req.valid('param').id), 200))
    .openapi(issueCredential, async (c) =>
      c.json(await identity.issueCredential(c.get('auth'), c.req.valid('param').id, c.req.valid('json')), 201),
    )
    .openapi(listCredentials, async (c) =>
      c.json({ credentials: await identity.listCredentials(c.get('auth').project.id, c.req.valid('param').id) }, 200),
    )
    .openapi(revokeCredential, async (c) => c.json(await identity.revokeCredential(c.get('auth'), c.req.valid('param').id), 200))
    .openapi(delegate, async (c) => c.json(await identity.delegate(c.get('auth'), c.req.valid('json')), 201))
    .openapi(tokenExchange, async (c) => {
      const form = c.req.header('content-type')?.startsWith('application/x-www-form-urlencoded');
      const body = (form ? c.req.valid('form') : c.req.valid('json')) as TokenExchangeRequest | undefined;
      if (!body) {
        throw new ApiError('validation_failed', 'Send the token exchange request as JSON or form-encoded.', {
          details: { issues: [{ path: 'body', message: 'Required' }] },
        });
      }
      return c.json(await identity.exchange(c.get('auth'), body), 200);
    });
}

/** GET /.well-known/jwks.json: the public keys that verify Hangar credentials, for anyone, no key needed. */
export function jwksRoutes(identity: Identity) {
  return new Hono<AppEnv>().get('/.well-known/jwks.json', async (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(await identity.jwks());
  });
}
