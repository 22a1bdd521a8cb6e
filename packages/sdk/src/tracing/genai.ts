/**
 * OpenTelemetry GenAI semantic-convention names and the span bookkeeping shared by the client
 * wrappers. The names are copied, as `@opentelemetry/semantic-conventions` asks: it exports the
 * `gen_ai.*` names only from its unstable `incubating` entry point.
 */
import {
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';

export const GEN_AI = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  /** The name before `gen_ai.provider.name`; still read by older backends. */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestStopSequences: 'gen_ai.request.stop_sequences',
  requestSeed: 'gen_ai.request.seed',
  requestStream: 'gen_ai.request.stream',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  responseTimeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  cacheReadTokens: 'gen_ai.usage.cache_read.input_tokens',
  cacheCreationTokens: 'gen_ai.usage.cache_creation.input_tokens',
  reasoningTokens: 'gen_ai.usage.reasoning.output_tokens',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
  embeddingsDimensionCount: 'gen_ai.embeddings.dimension.count',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
} as const;

/** Set on a streamed call's span when the caller stopped reading before the end. */
export const ATTR_STREAM_ABORTED = 'hangar.stream.aborted';

/** One part of a message, in the GenAI input/output messages JSON schema. */
export type MessagePart =
  | { type: 'text'; content: string }
  | { type: 'reasoning'; content: string }
  | { type: 'tool_call'; id: string | null; name: string; arguments: unknown }
  | { type: 'tool_call_response'; id: string | null; response: unknown }
  | { type: string; [key: string]: unknown };

export interface ChatMessage {
  role: string;
  parts: MessagePart[];
  name?: string;
}

export interface OutputMessage extends ChatMessage {
  finish_reason: string;
}

export interface TokenCounts {
  input?: number | undefined;
  output?: number | undefined;
  cacheRead?: number | undefined;
  cacheCreation?: number | undefined;
  reasoning?: number | undefined;
}

/** Options every client wrapper takes. */
export interface WrapOptions {
  /** The tracer to use; by default `@hangar/sdk` from the globally registered tracer provider. */
  tracer?: Tracer;
  /**
   * Record the messages sent and received (`gen_ai.input.messages`, `gen_ai.output.messages`).
   * Hangar stores them in its blob store and shows them as a conversation. Default true.
   */
  recordContent?: boolean;
  /**
   * Longest text kept in recorded content, in characters; longer strings (a pasted document, a
   * base64 image) are cut, marked with `…[truncated N chars]`, and the span gets
   * `hangar.content.truncated`. Keeps queued spans small. Default 32768.
   */
  maxContentChars?: number;
}

export const DEFAULT_MAX_CONTENT_CHARS = 32_768;

/** Set on a span when recorded content was cut to `maxContentChars`. */
export const ATTR_CONTENT_TRUNCATED = 'hangar.content.truncated';

/**
 * JSON of recorded content, with strings longer than `maxChars` cut (the JSON stays valid and keeps
 * its shape); undefined when the value cannot be serialized (cycles, BigInt).
 */
export function contentJson(
  value: unknown,
  maxChars: number,
): { json: string; truncated: boolean } | undefined {
  let truncated = false;
  const cut = (s: string) => {
    if (s.length <= maxChars) return s;
    truncated = true;
    return `${s.slice(0, maxChars)}…[truncated ${s.length - maxChars} chars]`;
  };
  try {
    const json =
      typeof value === 'string'
        ? cut(value)
        : JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' ? cut(v) : v));
    return json === undefined ? undefined : { json, truncated };
  } catch {
    return undefined;
  }
}

export const SDK_SCOPE = '@hangar/sdk';
export const SDK_VERSION = '0.1.0';

let cachedProvider: TracerProvider | undefined;
let cachedTracer: Tracer | undefined;

/**
 * The tracer to use: the one given, or `@hangar/sdk` from the global provider, looked up once per
 * registered provider (it is on every span's path, and a lookup builds a key and searches a map).
 */
export function tracerFor(options: { tracer?: Tracer | undefined } | undefined): Tracer {
  if (options?.tracer) return options.tracer;
  const provider = trace.getTracerProvider();
  if (provider !== cachedProvider || !cachedTracer) {
    cachedProvider = provider;
    cachedTracer = provider.getTracer(SDK_SCOPE, SDK_VERSION);
  }
  return cachedTracer;
}

/** Parses JSON that a model produced (tool arguments), keeping the text when it is not JSON. */
export function parseJsonLoose(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Request attributes common to chat-like calls; undefined values are left out. */
export function compact(attributes: Record<string, unknown>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (v === undefined || v === null) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
  }
  return out;
}

/** `server.address` and `server.port` of a client's base URL. */
export function serverAttributes(baseURL: unknown): Attributes {
  if (typeof baseURL !== 'string') return {};
  try {
    const url = new URL(baseURL);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { [GEN_AI.serverAddress]: url.hostname, [GEN_AI.serverPort]: port };
  } catch {
    return {};
  }
}

/**
 * The span of one model call, from request to response (or to the end of its stream). Ends once;
 * later calls are ignored, so a stream that errors after it was aborted is not recorded twice.
 */
export class ModelCallSpan {
  readonly span: Span;
  readonly context: Context;
  private ended = false;
  private readonly startedAt = performance.now();
  private firstChunkSeen = false;

  readonly recordContent: boolean;
  private readonly maxContentChars: number;

  constructor(options: {
    tracer: Tracer;
    operation: string;
    model: string | undefined;
    attributes: Attributes;
    content: WrapOptions;
  }) {
    const { tracer, operation, model, attributes, content } = options;
    this.recordContent = content.recordContent ?? true;
    this.maxContentChars = content.maxContentChars ?? DEFAULT_MAX_CONTENT_CHARS;
    const parent = context.active();
    this.span = tracer.startSpan(
      model ? `${operation} ${model}` : operation,
      { kind: SpanKind.CLIENT, attributes: { [GEN_AI.operationName]: operation, ...attributes } },
      parent,
    );
    this.context = trace.setSpan(parent, this.span);
  }

  setAttributes(attributes: Attributes): void {
    if (!this.ended) this.span.setAttributes(attributes);
  }

  /** Records a JSON attribute (messages), if content recording is on. */
  setContent(key: string, value: unknown): void {
    if (this.ended || !this.recordContent || value === undefined) return;
    // content that cannot be serialized (cycles, BigInt) is left out rather than failing the call
    const content = contentJson(value, this.maxContentChars);
    if (!content) return;
    this.span.setAttribute(key, content.json);
    if (content.truncated) this.span.setAttribute(ATTR_CONTENT_TRUNCATED, true);
  }

  usage(tokens: TokenCounts): void {
    this.setAttributes(
      compact({
        [GEN_AI.inputTokens]: tokens.input,
        [GEN_AI.outputTokens]: tokens.output,
        [GEN_AI.cacheReadTokens]: tokens.cacheRead,
        [GEN_AI.cacheCreationTokens]: tokens.cacheCreation,
        [GEN_AI.reasoningTokens]: tokens.reasoning,
      }),
    );
  }

  /** Marks the arrival of the first streamed chunk, once. */
  chunk(): void {
    if (this.firstChunkSeen || this.ended) return;
    this.firstChunkSeen = true;
    this.span.setAttribute(GEN_AI.responseTimeToFirstChunk, (performance.now() - this.startedAt) / 1000);
  }

  fail(error: unknown): void {
    if (this.ended) return;
    const err = error instanceof Error ? error : new Error(String(error));
    this.span.recordException(err);
    this.span.setAttribute(GEN_AI.errorType, errorType(error));
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
    this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end();
  }
}

/** A low-cardinality name for an error: its class (e.g. `RateLimitError`), as `error.type` asks. */
export function errorType(error: unknown): string {
  if (error instanceof Error) {
    const name = error.constructor?.name;
    return name && name !== 'Object' ? name : error.name || 'Error';
  }
  return '_OTHER';
}

/**
 * Observes a call that returns a promise (or an SDK `APIPromise`) without changing what the caller
 * gets: the caller receives the very object the client returned, with `withResponse()` and the rest.
 * `onValue` runs before any reaction the caller attaches, since it is attached first.
 */
export function observeCall<T>(call: ModelCallSpan, run: () => T, onValue: (value: Awaited<T>) => void): T {
  let result: T;
  try {
    result = context.with(call.context, run);
  } catch (error) {
    call.fail(error);
    throw error;
  }
  if (
    result !== null &&
    typeof result === 'object' &&
    typeof (result as { then?: unknown }).then === 'function'
  ) {
    (result as unknown as PromiseLike<Awaited<T>>).then(
      (value) => {
        try {
          onValue(value);
        } catch {
          // a response of an unexpected shape must not break the caller: end the span as it is
          call.end();
        }
      },
      (error: unknown) => call.fail(error),
    );
  } else {
    onValue(result as Awaited<T>);
  }
  return result;
}

/**
 * Makes a Stainless SDK stream (openai, @anthropic-ai/sdk) report each event to `onEvent` and end
 * the span when it is consumed, aborted or fails. The stream object itself is the caller's: its
 * `iterator` (used by `for await`, `tee()` and `toReadableStream()`) is replaced on that instance.
 */
export function observeStream(
  call: ModelCallSpan,
  stream: unknown,
  onEvent: (event: unknown) => void,
  onDone: () => void,
): void {
  if (!isRecord(stream)) {
    call.end();
    return;
  }
  const s = stream as { iterator?: unknown; controller?: { signal?: AbortSignal } } & Record<
    PropertyKey,
    unknown
  >;
  const observe = (source: AsyncIterable<unknown>) =>
    (async function* observed() {
      let finished = false;
      try {
        for await (const event of source) {
          call.chunk();
          try {
            onEvent(event);
          } catch {
            // an event of an unexpected shape is not the caller's problem
          }
          yield event;
        }
        finished = true;
      } catch (error) {
        call.fail(error);
        throw error;
      } finally {
        const aborted = !finished || s.controller?.signal?.aborted === true;
        if (aborted) call.setAttributes({ [ATTR_STREAM_ABORTED]: true });
        try {
          onDone();
        } finally {
          call.end();
        }
      }
    })();
  if (typeof s.iterator === 'function') {
    const original = s.iterator as () => AsyncIterator<unknown>;
    s.iterator = () => observe({ [Symbol.asyncIterator]: () => original.call(stream) });
  } else if (typeof s[Symbol.asyncIterator] === 'function') {
    const original = s[Symbol.asyncIterator] as () => AsyncIterator<unknown>;
    s[Symbol.asyncIterator] = () =>
      observe({ [Symbol.asyncIterator]: () => original.call(stream) })[Symbol.asyncIterator]();
  } else {
    call.end();
  }
}

/**
 * A proxy of `target` that returns `replace(name, value)` for the properties it knows and the
 * target's own otherwise, with methods bound to the target (SDK clients keep private fields, which
 * a proxy as `this` could not read). Replacements are made once per property.
 */
export function proxyWith<T extends object>(
  target: T,
  replace: (name: PropertyKey, value: unknown) => unknown,
): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(t, name) {
      if (cache.has(name)) return cache.get(name);
      const value: unknown = Reflect.get(t, name, t);
      const replaced = replace(name, value);
      if (replaced !== undefined) {
        cache.set(name, replaced);
        return replaced;
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}
