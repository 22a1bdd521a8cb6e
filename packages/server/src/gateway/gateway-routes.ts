import { createRoute, z } from '@hono/zod-openapi';
import { Provider, ProviderName, PutProviderRequest, Route, RouteConfig, RouteName } from '@hangar/protocol';
import type { Context } from 'hono';
import { ApiError } from '../http/api-error.js';
import type { AppEnv } from '../http/app-env.js';
import { onError } from '../http/error-handler.js';
import { requires } from '../http/middleware.js';
import { createRouter, errorResponses, jsonBody, jsonResponse } from '../http/openapi.js';
import { CLIENT_CLOSED_STATUS, isClientClosed, type CallResult, type Gateway } from './gateway-service.js';
import type { Endpoint } from './gateway-types.js';

// The wire endpoints validate what the gateway itself needs and pass every other field through to
// the provider untouched, so new provider parameters work without a Hangar release.
const Model = z.string().min(1).max(300);
const ChatCompletionRequest = z.looseObject({
  model: Model,
  messages: z.array(z.looseObject({ role: z.string() })).min(1),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  tools: z.array(z.looseObject({})).optional(),
});
const EmbeddingsRequest = z.looseObject({
  model: Model,
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z.array(z.number()).min(1),
    z.array(z.array(z.number())).min(1),
  ]),
});
const MessagesRequest = z.looseObject({
  model: Model,
  max_tokens: z.number().int().min(1),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['user', 'assistant']),
        content: z.union([z.string(), z.array(z.looseObject({}))]),
      }),
    )
    .min(1),
  system: z.union([z.string(), z.array(z.looseObject({}))]).optional(),
  stream: z.boolean().optional(),
  tools: z.array(z.looseObject({})).optional(),
});

/** The request body of each wire endpoint, as the routes and the wire path (gateway-wire.ts) validate it. */
export const WIRE_REQUESTS = {
  chat: ChatCompletionRequest,
  embeddings: EmbeddingsRequest,
  messages: MessagesRequest,
} as const satisfies Record<Endpoint, z.ZodType>;

const WireResponse = z.looseObject({}).openapi('ProviderResponse');
const wireResponses = {
  200: {
    description: "The provider's answer in the endpoint's format; with `stream: true`, server-sent events",
    content: { 'application/json': { schema: WireResponse }, 'text/event-stream': { schema: z.string() } },
  },
  ...errorResponses(
    'model_not_found',
    'model_not_supported',
    'translation_unsupported',
    'provider_url_not_allowed',
    'secret_not_configured',
    'upstream_rejected',
    'upstream_rate_limited',
    'upstream_unavailable',
    'upstream_timeout',
    'payload_too_large',
  ),
};

const chat = createRoute({
  method: 'post',
  path: '/v1/chat/completions',
  tags: ['gateway'],
  summary: 'OpenAI-compatible chat completion through the gateway (streaming and not, tools)',
  middleware: [requires('ingest')] as const,
  request: { body: jsonBody(ChatCompletionRequest) },
  responses: wireResponses,
});

const embeddings = createRoute({
  method: 'post',
  path: '/v1/embeddings',
  tags: ['gateway'],
  summary: 'OpenAI-compatible embeddings through the gateway',
  middleware: [requires('ingest')] as const,
  request: { body: jsonBody(EmbeddingsRequest) },
  responses: wireResponses,
});

const messages = createRoute({
  method: 'post',
  path: '/v1/messages',
  tags: ['gateway'],
  summary: 'Anthropic-compatible messages through the gateway (streaming and not, tool use)',
  middleware: [requires('ingest')] as const,
  request: { body: jsonBody(MessagesRequest) },
  responses: wireResponses,
});

const models = createRoute({
  method: 'get',
  path: '/v1/models',
  tags: ['gateway'],
  summary:
    "Models a client can name: hangar/echo and the project's routes (OpenAI's shape, or Anthropic's when anthropic-version is sent)",
  middleware: [requires('ingest')] as const,
  responses: {
    200: jsonResponse(z.looseObject({ data: z.array(z.looseObject({ id: z.string() })) }), 'The models'),
    ...errorResponses(),
  },
});

const providerParam = z.object({ name: ProviderName });
const routeParam = z.object({ name: RouteName });

const listProviders = createRoute({
  method: 'get',
  path: '/v1/gateway/providers',
  tags: ['gateway'],
  summary: "The project's providers (never their keys)",
  middleware: [requires('read')] as const,
  responses: {
    200: jsonResponse(z.object({ providers: z.array(Provider) }), 'Providers by name'),
    ...errorResponses(),
  },
});

const putProvider = createRoute({
  method: 'put',
  path: '/v1/gateway/providers/{name}',
  tags: ['gateway'],
  summary: 'Create or replace a provider; its apiKey is stored encrypted with HANGAR_SECRET',
  middleware: [requires('admin')] as const,
  request: { params: providerParam, body: jsonBody(PutProviderRequest) },
  responses: {
    200: jsonResponse(Provider, 'The provider as stored'),
    ...errorResponses('secret_not_configured', 'provider_url_not_allowed'),
  },
});

const deleteProvider = createRoute({
  method: 'delete',
  path: '/v1/gateway/providers/{name}',
  tags: ['gateway'],
  summary: 'Remove a provider and its key',
  middleware: [requires('admin')] as const,
  request: { params: providerParam },
  responses: { 204: { description: 'Removed' }, ...errorResponses('not_found') },
});

const listRoutes = createRoute({
  method: 'get',
  path: '/v1/gateway/routes',
  tags: ['gateway'],
  summary: "The project's routes: model aliases with fallbacks, retries, timeouts and cache",
  middleware: [requires('read')] as const,
  responses: {
    200: jsonResponse(z.object({ routes: z.array(Route) }), 'Routes by name'),
    ...errorResponses(),
  },
});

const putRoute = createRoute({
  method: 'put',
  path: '/v1/gateway/routes/{name}',
  tags: ['gateway'],
  summary: 'Create or replace a route; clients call it by sending its name as the model',
  middleware: [requires('admin')] as const,
  request: { params: routeParam, body: jsonBody(RouteConfig) },
  responses: { 200: jsonResponse(Route, 'The route as stored'), ...errorResponses() },
});

const deleteRoute = createRoute({
  method: 'delete',
  path: '/v1/gateway/routes/{name}',
  tags: ['gateway'],
  summary: 'Remove a route',
  middleware: [requires('admin')] as const,
  request: { params: routeParam },
  responses: { 204: { description: 'Removed' }, ...errorResponses('not_found') },
});

/** The answer, through the context so that it carries x-request-id like every other response. */
function toResponse(c: Context<AppEnv>, result: CallResult): Response {
  if (result.kind === 'stream') return c.body(result.stream, 200, result.headers);
  return c.body(result.text ?? JSON.stringify(result.body), 200, { ...result.headers, 'content-type': 'application/json' });
}

/**
 * What a failed call's answer says beyond Hangar's error envelope: when to retry, on a 429 (the
 * OpenAI and Anthropic clients honour it).
 */
export function retryAfterOf(err: unknown): string | undefined {
  if (!(err instanceof ApiError) || err.code !== 'upstream_rate_limited') return undefined;
  const seconds = (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
  return seconds === undefined ? undefined : String(seconds);
}

function errorToResponse(err: unknown, c: Context<AppEnv>): Response {
  const res = onError(err, c);
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined) res.headers.set('retry-after', retryAfter);
  return res;
}

export function gatewayRoutes(gateway: Gateway) {
  const handle = async (c: Context<AppEnv>, endpoint: Endpoint, body: Record<string, unknown>) => {
    try {
      return toResponse(
        c,
        await gateway.call({
          auth: c.get('auth'),
          endpoint,
          body,
          headers: (name) => c.req.header(name),
          signal: c.req.raw.signal,
        }),
      );
    } catch (err) {
      // the client went away: the call is recorded and the provider request aborted; nobody reads this
      if (isClientClosed(err)) return new Response(null, { status: CLIENT_CLOSED_STATUS });
      return errorToResponse(err, c);
    }
  };

  return createRouter()
    .openapi(chat, (c) => handle(c, 'chat', c.req.valid('json')) as never)
    .openapi(embeddings, (c) => handle(c, 'embeddings', c.req.valid('json')) as never)
    .openapi(messages, (c) => handle(c, 'messages', c.req.valid('json')) as never)
    .openapi(models, async (c) => {
      const list = await gateway.models(c.get('auth').project.id);
      if (c.req.header('anthropic-version')) {
        const data = list.map((m) => ({
          type: 'model',
          id: m.id,
          display_name: m.id,
          created_at: m.createdAt,
        }));
        return c.json(
          { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null },
          200,
        );
      }
      const data = list.map((m) => ({
        id: m.id,
        object: 'model',
        created: Math.floor(Date.parse(m.createdAt) / 1000),
        owned_by: 'hangar',
      }));
      return c.json({ object: 'list', data }, 200);
    })
    .openapi(listProviders, async (c) =>
      c.json({ providers: await gateway.listProviders(c.get('auth').project.id) }, 200),
    )
    .openapi(putProvider, async (c) => {
      const provider = await gateway.putProvider(
        c.get('auth'),
        c.req.valid('param').name,
        c.req.valid('json'),
      );
      return c.json(provider, 200);
    })
    .openapi(deleteProvider, async (c) => {
      await gateway.deleteProvider(c.get('auth'), c.req.valid('param').name);
      return c.body(null, 204);
    })
    .openapi(listRoutes, async (c) =>
      c.json({ routes: await gateway.listRoutes(c.get('auth').project.id) }, 200),
    )
    .openapi(putRoute, async (c) =>
      c.json(await gateway.putRoute(c.get('auth'), c.req.valid('param').name, c.req.valid('json')), 200),
    )
    .openapi(deleteRoute, async (c) => {
      await gateway.deleteRoute(c.get('auth'), c.req.valid('param').name);
      return c.body(null, 204);
    });
}
