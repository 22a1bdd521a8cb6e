/** The gateway's wire endpoints: OpenAI chat completions and embeddings, Anthropic messages. */
export type Endpoint = 'chat' | 'embeddings' | 'messages';

/** What a provider is asked to do: one attempt of a call, with the target's model already set. */
export interface ProviderRequest {
  projectId: string;
  endpoint: Endpoint;
  body: Record<string, unknown>;
  stream: boolean;
  /** Whether the client asked for OpenAI's usage chunk (the gateway asks upstream for it regardless). */
  includeUsage: boolean;
  /** Headers passed through to the provider (anthropic-version, anthropic-beta). */
  headers: Record<string, string>;
  /** The canonical request's hash (replay looks answers up by it). */
  requestSha256: string;
  signal: AbortSignalLike;
}

/**
 * What the call path uses of an abort signal. A DOM AbortSignal is one (the Hono routes pass their
 * request's); the wire path and each attempt use a CallAbort.
 */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * An abort signal and its trigger in one plain object, for the two every gateway call makes (the client
 * going away, an attempt timing out). Not Node's AbortController: on Node 20 every AbortSignal gets a
 * hidden class of its own (its prototype is swapped after it is made; Node 22 no longer does), and V8's
 * minor GC keeps such objects, and whatever their listeners hold, until the next full GC. With two per
 * call, that was about a third of what each call promoted to the old generation (docs/benchmarks.md).
 * Listeners run once, on the first abort; one added after it never runs.
 */
export class CallAbort implements AbortSignalLike {
  aborted = false;
  reason: unknown = undefined;
  #listeners: Array<() => void> = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    if (!this.aborted) this.#listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.#listeners.indexOf(listener);
    if (at !== -1) this.#listeners.splice(at, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}

/** A provider's answer: a whole JSON body, or (streaming) the text of its server-sent events. */
export interface ProviderReply {
  json?: Record<string, unknown>;
  /** The provider's own text of `json`, which the client is sent as it is when nothing translates the answer. */
  text?: string;
  chunks?: AsyncIterable<string>;
  /** A replayed answer names the journal event it came from. */
  replayOf?: { stream: string; seq: number };
}

/** One configured provider, ready to call. */
export interface ModelProvider {
  /** The provider's name in this project (`openai`, `my-ollama`, `hangar`). */
  name: string;
  /** What spans and prices know it as: `openai`, `anthropic`, `hangar`, or the name of an OpenAI-compatible one. */
  system: string;
  /** Which endpoints it serves. */
  serves: ReadonlySet<Endpoint>;
  send(request: ProviderRequest): Promise<ProviderReply>;
  /** Set when the provider speaks the other chat format and calls are translated (cross-format.ts). */
  translation?: { from: 'openai' | 'anthropic'; to: 'openai' | 'anthropic' };
}

/**
 * A failed attempt the gateway may retry or fall back from (429, 5xx, timeout, connection error), or
 * a refusal it passes on (another 4xx). `blocked`: the provider's address is one the server may not
 * call (provider-network.ts); the call falls back to the next target without retrying.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly kind: 'status' | 'timeout' | 'connection' | 'blocked',
    message: string,
    readonly options: { status?: number; retryAfterMs?: number | null; body?: unknown; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }

  get retryable(): boolean {
    if (this.kind === 'blocked') return false;
    if (this.kind !== 'status') return true;
    const s = this.options.status ?? 0;
    return s === 429 || s === 408 || s >= 500;
  }
}

/** Parses Retry-After (seconds or an HTTP date) and retry-after-ms into milliseconds. */
export function retryAfterMs(
  headers: { get(name: string): string | null | undefined },
  now = Date.now(),
): number | null {
  const ms = headers.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const value = headers.get('retry-after');
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.max(0, Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
