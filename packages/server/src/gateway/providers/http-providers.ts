import type { Endpoint, ModelProvider, ProviderRequest } from '../gateway-types.js';
import type { ProviderNetwork } from '../provider-network.js';
import { postJson } from '../upstream-client.js';
import { extend } from '../../util/objects.js';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
const ANTHROPIC_VERSION = '2023-06-01';

export interface HttpProviderOptions {
  name: string;
  baseUrl: string | null;
  apiKey: string | null;
  headers: Record<string, string>;
  /** Where the server may connect (checked on every new connection). */
  network: ProviderNetwork;
}

const joinUrl = (base: string, path: string) => new URL(base.replace(/\/+$/, '') + path);

/**
 * OpenAI, or anything that speaks its API at a base URL (Ollama `http://localhost:11434/v1`, vLLM,
 * llama.cpp server, OpenRouter `https://openrouter.ai/api/v1`).
 */
export function createOpenAIProvider(options: HttpProviderOptions & { system: string }): ModelProvider {
  const base = options.baseUrl ?? OPENAI_BASE_URL;
  const urls: Partial<Record<Endpoint, URL>> = {
    chat: joinUrl(base, '/chat/completions'),
    embeddings: joinUrl(base, '/embeddings'),
  };
  const headers = {
    ...options.headers,
    ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
  };
  return {
    name: options.name,
    system: options.system,
    serves: new Set<Endpoint>(['chat', 'embeddings']),
    async send(request: ProviderRequest) {
      let body = request.body;
      // always ask for usage, so the journal and the span have it; the chunk is dropped again for a
      // client that did not ask for it
      if (request.stream)
        body = extend(body, {
          stream_options: extend((body.stream_options as object | undefined) ?? {}, { include_usage: true }),
        });
      const res = await postJson(urls[request.endpoint]!, headers, body, request.signal, options.network);
      return request.stream ? { chunks: res.text() } : await res.json();
    },
  };
}

/** Anthropic's messages API; the client's anthropic-version and anthropic-beta headers pass through. */
export function createAnthropicProvider(options: HttpProviderOptions): ModelProvider {
  const url = joinUrl(options.baseUrl ?? ANTHROPIC_BASE_URL, '/v1/messages');
  return {
    name: options.name,
    system: 'anthropic',
    serves: new Set<Endpoint>(['messages']),
    async send(request: ProviderRequest) {
      const headers = {
        'anthropic-version': request.headers['anthropic-version'] ?? ANTHROPIC_VERSION,
        ...(request.headers['anthropic-beta'] ? { 'anthropic-beta': request.headers['anthropic-beta'] } : {}),
        ...options.headers,
        ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
      };
      const res = await postJson(url, headers, request.body, request.signal, options.network);
      return request.stream ? { chunks: res.text() } : await res.json();
    },
  };
}
