import type { Kysely } from 'kysely';
import type { ActionContext } from '../actions/action.js';
import type { Logger } from 'pino';
import {
  Route as RouteSchema,
  Script,
  type Provider,
  type PutProviderRequest,
  type Route,
  type RouteConfig,
  RUN_OR_STEP_ID,
} from '@hangar/protocol';
import { createConfigGeneration, type ConfigGeneration } from '../cache/config-generation.js';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { journalActorOf, type AuthContext } from '../http/app-env.js';
import type { Journal } from '../journal/journal-service.js';
import { ADMIN_STREAM } from '../tenancy/tenancy-service.js';
import type { SpanInput, Traces } from '../traces/traces-service.js';
import { canonicalJson, sha256Hex } from '../util/hash.js';
import { newId, nowIso, randomHex } from '../util/ids.js';
import { createCallRecorder, GATEWAY_STREAM, RECORD_DELAY_MS, type CallRecord, type CallRecorder } from './call-records.js';
import { createGatewayStore, type ProviderRow } from './gateway-store.js';
import { CallAbort, UpstreamError, type AbortSignalLike, type Endpoint, type ModelProvider, type ProviderReply } from './gateway-types.js';
import { createAnthropicProvider, createOpenAIProvider } from './providers/http-providers.js';
import {
  ECHO_MODEL,
  createEchoProvider,
  createReplayProvider,
  createScriptedProvider,
  formatOf,
  type AnswerLookup,
} from './providers/offline-providers.js';
import type { SecretBox } from '../util/secret-box.js';
import { extend } from '../util/objects.js';
import { assertTranslatable, counterpart, createTranslatingProvider } from './cross-format.js';
import { createProviderNetwork, type ProviderNetwork } from './provider-network.js';
import { createSseParser } from './sse.js';
import { asRecord, numberOrNull } from './wire-format.js';

export { GATEWAY_STREAM };

const MAX_UNRECORDED = 256;
const DEFAULT_ROUTE: Omit<RouteConfig, 'targets'> = {
  retry: { maxRetries: 2, initialBackoffMs: 250, maxBackoffMs: 8000 },
  timeouts: { perTryMs: 60_000, totalMs: 120_000 },
  cache: null,
};

/** One model call as it moves through the stages. Later stages (identity, budgets) read and extend it. */
export interface GatewayCall {
  callId: string;
  auth: AuthContext;
  projectId: string;
  endpoint: Endpoint;
  request: Record<string, unknown>;
  /** The model the client asked for: a route name, `hangar/echo` or `provider/model`. */
  model: string;
  stream: boolean;
  includeUsage: boolean;
  requestSha256: string;
  agent: string | null;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  startedAt: number;
  startTime: string;
  passHeaders: Record<string, string>;
  signal: AbortSignalLike;
  plan?: Plan;
  /** What the hold stage reserved (issue #5), handed back to settle. */
  hold?: unknown;
  /** The call as an action of the pipeline (decision, budget hold), when stages are wired. */
  action?: ActionContext;
  /** A signed approval for exactly this call (header x-hangar-approval), when policy requires one. */
  approval?: string;
  /** The run step making the call (headers x-hangar-run-id, x-hangar-step-id): its budgets apply too. */
  run?: { runId: string; stepId: string };
}

/** The run and step a call says it belongs to, or undefined; a malformed id is refused (validation_failed). */
function runOf(headers: (name: string) => string | undefined, callId: string): { runId: string; stepId: string } | undefined {
  const runId = headers('x-hangar-run-id');
  const stepId = headers('x-hangar-step-id');
  if (runId === undefined) {
    if (stepId !== undefined) throw new ApiError('validation_failed', 'x-hangar-step-id needs x-hangar-run-id.');
    return undefined;
  }
  for (const [name, value] of [['x-hangar-run-id', runId], ['x-hangar-step-id', stepId]] as const) {
    if (value !== undefined && !RUN_OR_STEP_ID.test(value)) {
      throw new ApiError('validation_failed', `${name} must be 1 to 200 letters, digits or _.:- characters.`, { details: { header: name } });
    }
  }
  return { runId, stepId: stepId ?? callId };
}

/**
 * Stages that plug into the call path without rewriting it: authorize (policy, issue #4) may throw an
 * ApiError to refuse — the refusal is recorded; hold (budgets, issue #5) reserves before the provider
 * is called; settle charges what the call cost once it is recorded.
 */
export interface GatewayHooks {
  authorize?(call: GatewayCall): Promise<void>;
  hold?(call: GatewayCall): Promise<unknown>;
  settle?(call: GatewayCall, outcome: { status: 'ok' | 'error'; costMicros: number | null }): Promise<void>;
}

export interface GatewayOptions {
  db: Kysely<Database>;
  journal: Journal;
  traces: Traces;
  /** From HANGAR_SECRET; null refuses to store provider keys (secret_not_configured). */
  secretBox: SecretBox | null;
  logger?: Logger;
  hooks?: GatewayHooks;
  /** Tells this process when any process changed providers or routes (shared by the services). */
  generation?: ConfigGeneration;
  /** Where provider base URLs may point (HANGAR_PROVIDER_*); the default refuses only metadata and link-local addresses. */
  providerNetwork?: ProviderNetwork;
  /**
   * Where call records are written when not on this thread: the record thread (the server's, on
   * SQLite; records/record-thread.ts), which falls back to this thread itself should it fail.
   */
  recorder?: CallRecorder | undefined;
}

interface PlanTarget {
  target: string;
  provider: ModelProvider;
  model: string;
}

interface Plan {
  route: string | null;
  targets: PlanTarget[];
  retry: RouteConfig['retry'];
  timeouts: RouteConfig['timeouts'];
  cache: RouteConfig['cache'];
}

interface Attempt {
  target: string;
  outcome: 'ok' | 'status' | 'timeout' | 'connection' | 'blocked' | 'refused';
  status: number | null;
  ms: number;
  error?: string;
}

interface Outcome {
  status: 'ok' | 'error';
  response: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  target: PlanTarget | null;
  attempts: Attempt[];
  cacheHit: boolean;
  replayOf: { stream: string; seq: number } | null;
  ttftMs: number | null;
}

interface ProjectConfig {
  routes: Map<string, Route>;
  providers: Map<string, ProviderRow>;
  built: Map<string, ModelProvider>;
}

export interface CallInput {
  auth: AuthContext;
  endpoint: Endpoint;
  body: Record<string, unknown>;
  headers: (name: string) => string | undefined;
  signal: AbortSignalLike;
}

/**
 * What the HTTP layer sends back: a JSON body or a stream of server-sent events, with headers. `text`,
 * when set, is the provider's own text of `body`, sent as it is rather than serialized again.
 */
export type CallResult =
  | { kind: 'json'; body: Record<string, unknown>; text?: string | undefined; headers: Record<string, string> }
  | { kind: 'stream'; stream: ReadableStream<Uint8Array>; headers: Record<string, string> };

const ms = (since: number) => Math.round((performance.now() - since) * 100) / 100;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

function sleep(msToWait: number, signal: AbortSignalLike): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, msToWait);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error a client that went away leaves behind: recorded, never answered. */
class ClientClosed extends Error {
  override readonly name = 'ClientClosed';
}

/** Whether a call failed because its client went away (`call` throws it once the call is recorded). */
export function isClientClosed(err: unknown): boolean {
  return err instanceof ClientClosed;
}

/** The status logged and counted for a call whose client went away (nginx's "client closed request"). */
export const CLIENT_CLOSED_STATUS = 499;

function toRoute(row: { name: string; config: string; created_at: string; updated_at: string }): Route {
  return RouteSchema.parse({
    ...(JSON.parse(row.config) as object),
    name: row.name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

function toProvider(row: ProviderRow): Provider {
  const config = JSON.parse(row.config) as { headers?: Record<string, string>; script?: unknown };
  return {
    name: row.name,
    type: row.type as Provider['type'],
    baseUrl: row.base_url,
    hasApiKey: row.key_ciphertext !== null,
    headerNames: Object.keys(config.headers ?? {}),
    script: config.script ? Script.parse(config.script) : null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The part of a request that decides its answer: everything but how it is delivered. */
export function canonicalRequest(endpoint: Endpoint, body: Record<string, unknown>): string {
  const { stream: _stream, stream_options: _options, ...rest } = body;
  return canonicalJson({ endpoint, body: rest });
}

/**
 * The model gateway: OpenAI- and Anthropic-compatible calls routed to providers with retries,
 * fallbacks and a cache, every call journaled and traced. A call goes through stages:
 * authenticate (the /v1 middleware) → resolve route → authorize → hold → call providers with
 * fallbacks → journal + trace → settle.
 */
export function createGateway(options: GatewayOptions) {
  const {
    db,
    journal,
    traces,
    secretBox,
    hooks = {},
    generation = createConfigGeneration({ db }),
    providerNetwork = createProviderNetwork(),
  } = options;
  // a project's providers and routes, until any process changes them (they bump the generation)
  const configs = generation.cache<ProjectConfig>(1000);
  const echo = createEchoProvider();
  const recorder: CallRecorder = options.recorder ?? createCallRecorder({ db, journal, traces, delayMs: RECORD_DELAY_MS });
  /** Records of answered calls not yet committed and settled. */
  const unrecorded = new Set<Promise<void>>();

  /**
   * Stage: record, off the answer's path. The record starts once the answer is on its way (the next
   * turn of the event loop) and joins the next group commit; settle follows its commit. The caller
   * waits for its own record only when MAX_UNRECORDED are already waiting, which bounds memory and
   * what a crash can lose (docs/gateway.md). Reads through the API wait for this process's pending
   * records first (`recorded`), and shutdown drains them.
   */
  function recordLater(call: GatewayCall, outcome: Outcome): Promise<void> {
    const ended = { endTime: nowIso(), latencyMs: ms(call.startedAt) };
    const done = new Promise<void>((resolve) => {
      setImmediate(() => {
        record(call, outcome, ended).then(
          () => resolve(),
          (err: unknown) => {
            options.logger?.error({ err, callId: call.callId }, 'gateway call could not be recorded');
            resolve();
          },
        );
      });
    });
    unrecorded.add(done);
    void done.then(() => unrecorded.delete(done));
    // A call that holds money (a budget or a credential's spend cap) is answered once it is settled:
    // otherwise the caller's next call would find this one's worst case still held and be refused.
    const holdsMoney = call.action?.hold != null || call.action?.details.spendCapHeldMicros !== undefined;
    return holdsMoney || unrecorded.size > MAX_UNRECORDED ? done : Promise.resolve();
  }

  /** Resolves once every record pending now is committed (and its hold settled). */
  async function recorded(): Promise<void> {
    if (unrecorded.size === 0) return;
    const all = Promise.all([...unrecorded]);
    // records start on the turn after their answer: once they have joined the queue, write them now
    await new Promise((resolve) => setImmediate(resolve));
    recorder.flush();
    await all;
  }

  function projectConfig(projectId: string): Promise<ProjectConfig> {
    return configs.get(projectId, async () => {
      const store = createGatewayStore(db);
      const [routes, providers] = await Promise.all([store.routes(projectId), store.providers(projectId)]);
      return {
        routes: new Map(routes.map((r) => [r.name, toRoute(r)])),
        providers: new Map(providers.map((p) => [p.name, p])),
        built: new Map(),
      };
    });
  }

  const findAnswer: AnswerLookup = async (projectId, requestSha256, maxAgeMs) => {
    await recorded(); // an answer given a moment ago is an answer
    const since = maxAgeMs === null ? null : new Date(Date.now() - maxAgeMs).toISOString();
    const row = await createGatewayStore(db).latestAnswer(projectId, requestSha256, since);
    if (!row) return null;
    const [event] = (await journal.read(projectId, row.stream, row.seq - 1, 1)).events;
    if (!event || event.seq !== row.seq) return null; // removed by retention
    const response = asRecord(event.payload).response;
    return response ? { response: asRecord(response), stream: row.stream, seq: row.seq } : null;
  };

  function buildProvider(projectId: string, row: ProviderRow): ModelProvider {
    const config = JSON.parse(row.config) as { headers?: Record<string, string>; script?: unknown };
    let apiKey: string | null = null;
    if (row.key_ciphertext !== null) {
      apiKey = secretBox?.open(row.key_ciphertext, `${projectId}/${row.name}`) ?? null;
      if (apiKey === null) {
        throw new ApiError(
          'secret_not_configured',
          `The key of provider ${row.name} cannot be opened: HANGAR_SECRET is unset or not the one it was stored with. Store the key again.`,
        );
      }
    }
    const http = {
      name: row.name,
      baseUrl: row.base_url,
      apiKey,
      headers: config.headers ?? {},
      network: providerNetwork,
    };
    switch (row.type as Provider['type']) {
      case 'openai':
        return createOpenAIProvider({ ...http, system: 'openai' });
      case 'openai-compatible':
        return createOpenAIProvider({ ...http, system: row.name });
      case 'anthropic':
        return createAnthropicProvider(http);
      case 'scripted':
        return createScriptedProvider(row.name, Script.parse(config.script));
      case 'replay':
        return createReplayProvider(row.name, findAnswer);
    }
  }

  function target(projectId: string, config: ProjectConfig, spec: string, endpoint: Endpoint): PlanTarget {
    const slash = spec.indexOf('/');
    const providerName = spec.slice(0, slash);
    const model = spec.slice(slash + 1);
    let provider: ModelProvider;
    if (providerName === 'hangar') {
      if (spec !== ECHO_MODEL)
        throw new ApiError('model_not_found', `Hangar has no built-in model ${spec}; it has ${ECHO_MODEL}.`);
      provider = echo;
    } else {
      const row = config.providers.get(providerName);
      if (!row)
        throw new ApiError(
          'model_not_found',
          `No provider named ${providerName} in this project (for model ${spec}).`,
        );
      provider = config.built.get(providerName) ?? buildProvider(projectId, row);
      config.built.set(providerName, provider);
    }
    const other = counterpart(endpoint);
    if (!provider.serves.has(endpoint) && other && provider.serves.has(other)) {
      // an Anthropic model on /v1/chat/completions, an OpenAI one on /v1/messages: translate
      const key = `${providerName} as ${endpoint}`;
      const inner = provider;
      provider =
        config.built.get(key) ??
        createTranslatingProvider(inner, endpoint, {
          maxTokensField:
            config.providers.get(providerName)?.type === 'openai' ? 'max_completion_tokens' : 'max_tokens',
        });
      config.built.set(key, provider);
    }
    if (!provider.serves.has(endpoint)) {
      throw new ApiError(
        'model_not_supported',
        `Provider ${providerName} cannot serve ${endpointPath(endpoint)} (model ${spec}).`,
        {
          details: { provider: providerName, endpoint: endpointPath(endpoint) },
        },
      );
    }
    return { target: spec, provider, model };
  }

  /** Stage: which providers, in which order, with which retries, timeouts and cache. */
  async function resolve(call: GatewayCall): Promise<Plan> {
    const config = await projectConfig(call.projectId);
    const route = config.routes.get(call.model);
    if (route) {
      const targets = route.targets.map((t) => target(call.projectId, config, t, call.endpoint));
      // refused up front when any target would need a translation the request cannot have, so the
      // answer does not depend on which target happens to be up
      const translated = targets.find((t) => t.provider.translation);
      if (translated) assertTranslatable(call.endpoint, call.request, { target: translated.target });
      return { route: route.name, targets, retry: route.retry, timeouts: route.timeouts, cache: route.cache };
    }
    if (!call.model.includes('/')) {
      throw new ApiError(
        'model_not_found',
        `No route named ${call.model} in this project; use a route name, ${ECHO_MODEL}, or provider/model.`,
      );
    }
    const only = target(call.projectId, config, call.model, call.endpoint);
    if (only.provider.translation) assertTranslatable(call.endpoint, call.request, { target: only.target });
    return { route: null, targets: [only], ...DEFAULT_ROUTE };
  }

  /** Stage: call the targets in order, retrying each, until one answers (for a stream: starts answering). */
  async function execute(
    call: GatewayCall,
    plan: Plan,
    attempts: Attempt[],
  ): Promise<{ reply: ProviderReply; target: PlanTarget; abort: () => void }> {
    const deadline = call.startedAt + plan.timeouts.totalMs;
    let last: unknown = null;
    let shortestRetryAfter: number | null = null;
    for (const t of plan.targets) {
      for (let attempt = 0; attempt <= plan.retry.maxRetries; attempt++) {
        const remaining = deadline - performance.now();
        if (remaining <= 0) {
          last = new UpstreamError(
            'timeout',
            `The route's total timeout of ${plan.timeouts.totalMs} ms passed.`,
          );
          break;
        }
        const controller = new CallAbort();
        const onClientAbort = () => controller.abort(new ClientClosed('The client disconnected.'));
        call.signal.addEventListener('abort', onClientAbort, { once: true });
        const perTry = Math.min(plan.timeouts.perTryMs, remaining);
        const timer = setTimeout(
          () => controller.abort(new UpstreamError('timeout', `No answer within ${Math.round(perTry)} ms.`)),
          perTry,
        );
        const began = performance.now();
        try {
          if (call.signal.aborted) throw new ClientClosed('The client disconnected.');
          const reply = await t.provider.send({
            projectId: call.projectId,
            endpoint: call.endpoint,
            body: { ...call.request, model: t.model },
            stream: call.stream,
            includeUsage: call.includeUsage,
            headers: call.passHeaders,
            requestSha256: call.requestSha256,
            signal: controller,
          });
          clearTimeout(timer);
          attempts.push({ target: t.target, outcome: 'ok', status: 200, ms: ms(began) });
          return {
            reply,
            target: t,
            abort: () => {
              call.signal.removeEventListener('abort', onClientAbort);
              controller.abort(new ClientClosed('The client disconnected.'));
            },
          };
        } catch (err) {
          clearTimeout(timer);
          call.signal.removeEventListener('abort', onClientAbort);
          if (err instanceof ClientClosed || call.signal.aborted)
            throw new ClientClosed('The client disconnected.');
          if (err instanceof ApiError) {
            attempts.push({
              target: t.target,
              outcome: 'refused',
              status: null,
              ms: ms(began),
              error: err.message,
            });
            throw err;
          }
          const upstream =
            err instanceof UpstreamError
              ? err
              : new UpstreamError('connection', `The provider call failed: ${(err as Error).message}`, {
                  cause: err,
                });
          attempts.push({
            target: t.target,
            outcome: upstream.kind,
            status: upstream.options.status ?? null,
            ms: ms(began),
            error: upstream.message,
          });
          if (upstream.kind === 'blocked') {
            // the provider's address is not one this server may call: no retry, on to the next target
            last = upstream;
            break;
          }
          if (!upstream.retryable) {
            const body = asRecord(upstream.options.body);
            const detail = asRecord(body.error).message;
            throw new ApiError(
              'upstream_rejected',
              `${t.target}: the provider answered ${upstream.options.status}${typeof detail === 'string' ? `: ${detail}` : '.'}`,
              {
                details: {
                  upstreamStatus: upstream.options.status,
                  upstreamError: upstream.options.body ?? null,
                  target: t.target,
                },
              },
            );
          }
          last = upstream;
          const retryAfter = upstream.options.retryAfterMs ?? null;
          if (retryAfter !== null) shortestRetryAfter = Math.min(shortestRetryAfter ?? Infinity, retryAfter);
          if (attempt === plan.retry.maxRetries) break;
          const backoff =
            Math.min(plan.retry.maxBackoffMs, plan.retry.initialBackoffMs * 2 ** attempt) *
            (0.5 + Math.random() / 2);
          // a Retry-After longer than the backoff cap, or than the time left, sends the call to the next target now
          if (retryAfter !== null && retryAfter > plan.retry.maxBackoffMs) break;
          const wait = retryAfter ?? backoff;
          if (performance.now() + wait >= deadline) break;
          await sleep(wait, call.signal).catch(() => {
            throw new ClientClosed('The client disconnected.');
          });
        }
      }
    }
    const details = { attempts };
    if (last instanceof UpstreamError && last.kind === 'blocked')
      throw new ApiError('provider_url_not_allowed', last.message, { details });
    if (last instanceof UpstreamError && last.kind === 'timeout')
      throw new ApiError('upstream_timeout', last.message, { details });
    if (last instanceof UpstreamError && last.options.status === 429) {
      throw new ApiError('upstream_rate_limited', 'Every target of the route is rate limited.', {
        details: { ...details, retryAfterSeconds: Math.ceil((shortestRetryAfter ?? 1000) / 1000) },
      });
    }
    throw new ApiError(
      'upstream_unavailable',
      `No target could answer: ${last instanceof Error ? last.message : 'no targets'}`,
      { details },
    );
  }

  /** Stage: one transaction writes the span and the journal event (and indexes the answer for cache and replay). */
  async function record(
    call: GatewayCall,
    outcome: Outcome,
    { endTime, latencyMs }: { endTime: string; latencyMs: number },
  ): Promise<void> {
    const format = formatOf(call.endpoint);
    const response = outcome.response;
    let usage: SpanInput['usage'] = {
      input: null,
      output: null,
      cacheRead: null,
      cacheWrite: null,
      reasoning: null,
    };
    let providerCostMicros: number | null = null;
    if (response && call.endpoint === 'embeddings') {
      usage = { ...usage, input: numberOrNull(asRecord(response.usage).prompt_tokens) };
    } else if (response) {
      ({ usage, providerCostMicros } = format.usage(response));
    }
    const billed = outcome.cacheHit
      ? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 }
      : usage;
    const provider = outcome.target?.provider ?? null;
    const translation = provider?.translation ?? null;
    const responseModel = typeof response?.model === 'string' ? response.model : null;
    const model = responseModel ?? outcome.target?.model ?? call.model;
    const attributes: Record<string, string | number | boolean | string[] | null> = {
      'gen_ai.operation.name': call.endpoint === 'embeddings' ? 'embeddings' : 'chat',
      'gen_ai.request.model': call.model,
      'hangar.call_id': call.callId,
      'hangar.key_id': call.auth.key.id,
      'hangar.route': call.plan?.route ?? null,
      'hangar.target': outcome.target?.target ?? null,
      'hangar.attempts': outcome.attempts.length,
      'hangar.fallbacks': [...new Set(outcome.attempts.map((a) => a.target))].slice(1),
      'hangar.cache_hit': outcome.cacheHit,
      'hangar.stream': call.stream,
      'hangar.ttft_ms': outcome.ttftMs,
      'hangar.latency_ms': latencyMs,
      'hangar.translation': translation ? `${translation.from}-to-${translation.to}` : null,
    };
    if (outcome.cacheHit) attributes['hangar.cached_usage'] = JSON.stringify(usage);
    // a call outside its declared intent is marked in the trace as in the audit record
    const intentViolation = (call.action?.details.intentViolation as { rule: string } | undefined) ?? null;
    if (intentViolation) attributes['hangar.intent_violation'] = intentViolation.rule;
    if (outcome.replayOf)
      attributes['hangar.replay_of'] = `${outcome.replayOf.stream}#${outcome.replayOf.seq}`;
    const span: CallRecord['span'] = {
      traceId: call.traceId,
      spanId: call.spanId,
      parentSpanId: call.parentSpanId,
      name: `${attributes['gen_ai.operation.name']} ${model}`,
      kind: call.endpoint === 'embeddings' ? 'embedding' : 'llm',
      status: outcome.status,
      statusMessage: outcome.error?.message ?? null,
      errorType: outcome.error?.code ?? null,
      startTime: call.startTime,
      endTime,
      durationMs: latencyMs,
      serviceName: 'hangar-gateway',
      agent: call.agent,
      provider: provider?.system ?? null,
      model,
      usage: billed,
      providerCostMicros: outcome.cacheHit ? 0 : providerCostMicros,
      toolName: null,
      attributes,
      source: 'gateway',
    };
    const record: CallRecord = {
      projectId: call.projectId,
      endpoint: call.endpoint,
      request: call.request,
      response,
      span,
      actor: journalActorOf(call.auth),
      payload: {
        callId: call.callId,
        kind: call.action?.action.kind ?? null,
        actor: call.action?.action.actor ?? null,
        decision: call.action?.decision ?? null,
        intentViolation,
        run: call.run ?? null,
        hold: call.action?.hold ?? null,
        endpoint: endpointPath(call.endpoint),
        status: outcome.status,
        error: outcome.error,
        model: call.model,
        route: call.plan?.route ?? null,
        provider: provider?.name ?? null,
        target: outcome.target?.target ?? null,
        translation,
        attempts: outcome.attempts,
        fallbacksTaken: attributes['hangar.fallbacks'],
        stream: call.stream,
        cache: call.plan?.cache ? (outcome.cacheHit ? 'hit' : 'miss') : null,
        replayOf: outcome.replayOf,
        requestSha256: call.requestSha256,
        usage,
        latencyMs,
        ttftMs: outcome.ttftMs,
        keyId: call.auth.key.id,
        agent: call.agent,
        traceId: call.traceId,
        spanId: call.spanId,
      },
      cacheHit: outcome.cacheHit,
      answer:
        outcome.status === 'ok' && response && !outcome.cacheHit && !outcome.replayOf
          ? { requestSha256: call.requestSha256, createdAt: endTime }
          : null,
    };
    let costMicros: number | null = null;
    try {
      ({ costMicros } = await recorder.write(record));
    } finally {
      // settle runs whatever happened to the write: a hold must never stay reserved
      await hooks
        .settle?.(call, { status: outcome.status, costMicros })
        ?.catch((err: unknown) =>
          options.logger?.error({ err, callId: call.callId }, 'gateway settle failed'),
        );
    }
  }

  function callHeaders(
    call: GatewayCall,
    outcome: Pick<Outcome, 'target' | 'cacheHit'>,
  ): Record<string, string> {
    const headers: Record<string, string> = {
      'x-hangar-call-id': call.callId,
      'x-hangar-trace-id': call.traceId,
    };
    if (call.plan?.route) headers['x-hangar-route'] = call.plan.route;
    if (outcome.target) headers['x-hangar-target'] = outcome.target.target;
    if (call.plan?.cache) headers['x-hangar-cache'] = outcome.cacheHit ? 'hit' : 'miss';
    return headers;
  }

  function streamResult(
    call: GatewayCall,
    chunks: AsyncIterable<string>,
    state: Omit<Outcome, 'status' | 'response' | 'error' | 'ttftMs'>,
    abort: () => void,
    stallMs: number,
  ): CallResult {
    const format = formatOf(call.endpoint);
    const encoder = new TextEncoder();
    const parser = createSseParser();
    const aggregator = format.aggregator({ includeUsage: call.includeUsage });
    const iterator = chunks[Symbol.asyncIterator]();
    let ttftMs: number | null = null;
    let finished = false;
    const finish = async (error: Outcome['error']) => {
      if (finished) return;
      finished = true;
      const response = aggregator.result();
      await recordLater(call, extend(state, { status: error ? 'error' : 'ok', error, response, ttftMs }));
    };
    const stream = new ReadableStream<Uint8Array>({
      // A pull that enqueues nothing is not called again (the stream waits for it), so read until
      // there is something to send or the stream is over.
      async pull(controller) {
        while (!(await pullOnce(controller)));
      },
      async cancel() {
        abort();
        await finish({
          code: 'client_disconnected',
          message: 'The client disconnected before the stream ended; the provider call was aborted.',
        });
      },
    });
    /** Reads one upstream chunk; true once something was enqueued or the stream closed. */
    async function pullOnce(controller: ReadableStreamDefaultController<Uint8Array>): Promise<boolean> {
      {
        let next: IteratorResult<string>;
        let timer: NodeJS.Timeout | undefined;
        try {
          const pending = iterator.next();
          pending.catch(() => {}); // settled by the race below, or abandoned after a stall
          next = await Promise.race([
            pending,
            new Promise<never>((_, reject) => {
              timer = setTimeout(
                () =>
                  reject(new UpstreamError('timeout', `The provider stalled for ${stallMs} ms mid-stream.`)),
                stallMs,
              );
            }),
          ]);
        } catch (err) {
          if (finished) return true;
          abort();
          const timeout = err instanceof UpstreamError && err.kind === 'timeout';
          const error = {
            code: timeout ? 'upstream_timeout' : 'upstream_unavailable',
            message: timeout
              ? (err as Error).message
              : `The provider's stream broke off: ${(err as Error).message}`,
          };
          controller.enqueue(encoder.encode(format.errorEvent(error.code, error.message)));
          await finish(error);
          controller.close();
          return true;
        } finally {
          clearTimeout(timer);
        }
        if (next.done) {
          const complete = aggregator.finished();
          if (!complete && !finished) {
            controller.enqueue(
              encoder.encode(
                format.errorEvent(
                  'upstream_unavailable',
                  'The provider ended the stream before it was complete.',
                ),
              ),
            );
          }
          await finish(
            complete
              ? null
              : {
                  code: 'upstream_unavailable',
                  message: 'The provider ended the stream before it was complete.',
                },
          );
          controller.close();
          return true;
        }
        let out = '';
        for (const event of parser.feed(next.value)) if (aggregator.push(event).forward) out += event.raw;
        if (!out) return false;
        ttftMs ??= ms(call.startedAt);
        controller.enqueue(encoder.encode(out));
        return true;
      }
    }
    return {
      kind: 'stream',
      stream,
      headers: extend(callHeaders(call, state), {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
      }),
    };
  }

  async function call(input: CallInput): Promise<CallResult> {
    const startedAt = performance.now();
    const { body } = input;
    const traceparent = TRACEPARENT.exec(input.headers('traceparent') ?? '');
    const callId = newId('call');
    const run = runOf(input.headers, callId);
    const call: GatewayCall = {
      callId,
      auth: input.auth,
      projectId: input.auth.project.id,
      endpoint: input.endpoint,
      request: body,
      model: String(body.model),
      stream: body.stream === true,
      includeUsage: asRecord(body.stream_options).include_usage === true,
      requestSha256: sha256Hex(canonicalRequest(input.endpoint, body)),
      // a credential's call is its agent's: the x-hangar-agent label is for API keys only
      agent: input.auth.credential?.agentId ?? input.headers('x-hangar-agent') ?? input.auth.key.name,
      traceId: traceparent?.[1] ?? randomHex(16),
      spanId: randomHex(8),
      parentSpanId: traceparent?.[2] ?? null,
      startedAt,
      startTime: nowIso(),
      passHeaders: {},
      signal: input.signal,
      approval: input.headers('x-hangar-approval') || undefined,
      run,
    };
    for (const name of ['anthropic-version', 'anthropic-beta']) {
      const value = input.headers(name);
      if (value) call.passHeaders[name] = value;
    }
    const attempts: Attempt[] = [];
    let target: PlanTarget | null = null;
    try {
      call.plan = await resolve(call);
      await hooks.authorize?.(call);
      call.hold = await hooks.hold?.(call);

      if (call.plan.cache) {
        const hit = await findAnswer(call.projectId, call.requestSha256, call.plan.cache.ttlSeconds * 1000);
        if (hit) {
          const state = { target: call.plan.targets[0] ?? null, attempts, cacheHit: true, replayOf: null };
          if (call.stream) {
            const events = formatOf(call.endpoint).toSse(hit.response, {
              includeUsage: true,
              chunkText: false,
            });
            return streamResult(
              call,
              (async function* () {
                yield* events;
              })(),
              state,
              () => {},
              call.plan.timeouts.perTryMs,
            );
          }
          await recordLater(call, extend(state, { status: 'ok', error: null, response: hit.response, ttftMs: null }));
          return { kind: 'json', body: hit.response, headers: callHeaders(call, state) };
        }
      }

      const executed = await execute(call, call.plan, attempts);
      target = executed.target;
      const state = { target, attempts, cacheHit: false, replayOf: executed.reply.replayOf ?? null };
      if (executed.reply.chunks)
        return streamResult(call, executed.reply.chunks, state, executed.abort, call.plan.timeouts.perTryMs);
      const response = executed.reply.json ?? {};
      await recordLater(call, extend(state, { status: 'ok', error: null, response, ttftMs: null }));
      // the answer passes on as the provider wrote it, unless it was translated from the other format
      const text = target.provider.translation ? undefined : executed.reply.text;
      return { kind: 'json', body: response, text, headers: callHeaders(call, state) };
    } catch (err) {
      const closed = err instanceof ClientClosed;
      const apiError =
        err instanceof ApiError
          ? err
          : closed
            ? null
            : new ApiError('internal', 'The gateway failed unexpectedly; the request id is in the logs.', {
                cause: err,
              });
      if (apiError?.code === 'internal')
        options.logger?.error({ err, callId: call.callId }, 'gateway call failed');
      const error = apiError
        ? { code: apiError.code, message: apiError.message }
        : {
            code: 'client_disconnected',
            message: 'The client disconnected before the answer; the provider call was aborted.',
          };
      await recordLater(call, {
        status: 'error',
        error,
        response: null,
        target,
        attempts,
        cacheHit: false,
        replayOf: null,
        ttftMs: null,
      });
      throw apiError ?? err;
    }
  }

  async function inAdminStream<T>(
    auth: AuthContext,
    type: string,
    payload: unknown,
    write: (trx: Kysely<Database>) => Promise<T>,
  ): Promise<T> {
    const result = await db.transaction().execute(async (trx) => {
      const value = await write(trx);
      await generation.bump(trx);
      await journal.append(
        {
          projectId: auth.project.id,
          stream: ADMIN_STREAM,
          actor: { type: 'key', id: auth.key.id },
          events: [{ type, payload }],
        },
        trx,
      );
      return value;
    });
    configs.delete(auth.project.id);
    return result;
  }

  return {
    call,

    /**
     * Waits for the records of calls answered so far (reads through the API do, so a client sees its
     * own calls; in-process callers that read the journal, traces or budgets right after a call do too).
     */
    recorded,

    /** Graceful shutdown, before the database closes: records every call answered, then stops recording. */
    async close(): Promise<void> {
      while (unrecorded.size > 0) await recorded();
      await recorder.close();
    },

    /** Models a client can name: the built-in echo and the project's routes. */
    async models(projectId: string): Promise<Array<{ id: string; createdAt: string }>> {
      const config = await projectConfig(projectId);
      return [
        { id: ECHO_MODEL, createdAt: '2026-01-01T00:00:00.000Z' },
        ...[...config.routes.values()].map((r) => ({ id: r.name, createdAt: r.createdAt })),
      ];
    },

    async listProviders(projectId: string): Promise<Provider[]> {
      return (await createGatewayStore(db).providers(projectId)).map(toProvider);
    },

    /** Creates or replaces a provider. An apiKey is sealed with HANGAR_SECRET; without one it is refused. */
    async putProvider(
      auth: AuthContext,
      name: string,
      input: PutProviderRequest & { type: Provider['type'] },
    ): Promise<Provider> {
      for (const [i, rule] of (input.script?.rules ?? []).entries()) {
        if (rule.match?.lastUser === undefined) continue;
        try {
          new RegExp(rule.match.lastUser, 'i');
        } catch (cause) {
          throw new ApiError(
            'validation_failed',
            `script.rules.${i}.match.lastUser is not a valid regular expression.`,
            {
              cause,
              details: {
                issues: [
                  { path: `json.script.rules.${i}.match.lastUser`, message: (cause as Error).message },
                ],
              },
            },
          );
        }
      }
      if (input.baseUrl && (input.type === 'openai' || input.type === 'openai-compatible' || input.type === 'anthropic'))
        await providerNetwork.checkBaseUrl(input.baseUrl);
      if (typeof input.apiKey === 'string' && !secretBox) {
        throw new ApiError(
          'secret_not_configured',
          'Set HANGAR_SECRET (16+ characters) on the server to store provider keys; they are encrypted with it and never stored in the clear.',
        );
      }
      const projectId = auth.project.id;
      return inAdminStream(
        auth,
        'gateway.provider.saved',
        { name, type: input.type, baseUrl: input.baseUrl ?? null, keyChanged: input.apiKey !== undefined },
        async (trx) => {
          const store = createGatewayStore(trx);
          const existing = await store.provider(projectId, name);
          const now = nowIso();
          const keyCiphertext =
            input.apiKey === undefined
              ? (existing?.key_ciphertext ?? null)
              : input.apiKey === null
                ? null
                : secretBox!.seal(input.apiKey, `${projectId}/${name}`);
          const row: ProviderRow = {
            project_id: projectId,
            name,
            type: input.type,
            base_url: input.baseUrl ?? null,
            key_ciphertext: keyCiphertext,
            config: JSON.stringify({
              headers: input.headers ?? {},
              ...(input.script ? { script: input.script } : {}),
            }),
            created_at: existing?.created_at ?? now,
            updated_at: now,
          };
          await store.upsertProvider(row);
          return toProvider(row);
        },
      );
    },

    async deleteProvider(auth: AuthContext, name: string): Promise<void> {
      await inAdminStream(auth, 'gateway.provider.deleted', { name }, async (trx) => {
        if (!(await createGatewayStore(trx).deleteProvider(auth.project.id, name))) {
          throw new ApiError('not_found', `No provider named ${name} in this project.`);
        }
      });
    },

    async listRoutes(projectId: string): Promise<Route[]> {
      return (await createGatewayStore(db).routes(projectId)).map(toRoute);
    },

    async putRoute(auth: AuthContext, name: string, config: RouteConfig): Promise<Route> {
      return inAdminStream(auth, 'gateway.route.saved', { name, ...config }, async (trx) => {
        const store = createGatewayStore(trx);
        const now = nowIso();
        const existing = (await store.routes(auth.project.id)).find((r) => r.name === name);
        const row = {
          project_id: auth.project.id,
          name,
          config: JSON.stringify(config),
          created_at: existing?.created_at ?? now,
          updated_at: now,
        };
        await store.upsertRoute(row);
        return toRoute(row);
      });
    },

    async deleteRoute(auth: AuthContext, name: string): Promise<void> {
      await inAdminStream(auth, 'gateway.route.deleted', { name }, async (trx) => {
        if (!(await createGatewayStore(trx).deleteRoute(auth.project.id, name))) {
          throw new ApiError('not_found', `No route named ${name} in this project.`);
        }
      });
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;

export function endpointPath(endpoint: Endpoint): string {
  switch (endpoint) {
    case 'chat':
      return '/v1/chat/completions';
    case 'embeddings':
      return '/v1/embeddings';
    case 'messages':
      return '/v1/messages';
  }
}

