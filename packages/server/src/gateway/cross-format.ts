import { randomHex } from '../util/ids.js';
import { ApiError } from '../http/api-error.js';
import { extend } from '../util/objects.js';
import type { Endpoint, ModelProvider, ProviderRequest } from './gateway-types.js';
import { DEFAULT_MAX_OUTPUT_TOKENS } from './gateway-stages.js';
import { createSseParser, sseText } from './sse.js';
import { asArray, asRecord, numberOrNull, parseJsonOr } from './wire-format.js';

/**
 * Translation between OpenAI chat completions and Anthropic messages, so a route can send an
 * OpenAI-format call to Claude and an Anthropic-format call to an OpenAI(-compatible) model: the
 * request, the answer, and a stream event by event. What one format cannot express in the other is
 * refused with `translation_unsupported` before any provider is called, never silently dropped; the
 * few fields that are dropped change nothing about the answer and are listed in docs/gateway.md.
 */

type Json = Record<string, unknown>;
export type WireName = 'openai' | 'anthropic';

export interface Translation {
  /** The client's format (the endpoint the call arrived on). */
  from: WireName;
  /** The provider's format. */
  to: WireName;
}

export interface TranslateOptions {
  /** The route target, named in refusals (`fakeant/claude-sonnet-4-5`). */
  target: string;
  /**
   * Where an OpenAI-format upstream takes the output cap: OpenAI itself wants `max_completion_tokens`
   * (its reasoning models refuse `max_tokens`); compatible servers (Ollama, vLLM) know `max_tokens`.
   */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
}

export const wireOf = (endpoint: Endpoint): WireName => (endpoint === 'messages' ? 'anthropic' : 'openai');

/** The other chat endpoint: what a provider that does not speak `endpoint` may be reached through. */
export function counterpart(endpoint: Endpoint): Endpoint | null {
  if (endpoint === 'chat') return 'messages';
  if (endpoint === 'messages') return 'chat';
  return null; // Anthropic has no embeddings
}

const present = (v: unknown) => v !== undefined && v !== null;

function refuse(ctx: TranslateOptions & Translation, parameter: string, why: string): never {
  throw new ApiError(
    'translation_unsupported',
    `${parameter}: ${why} — ${ctx.target} speaks the ${ctx.to === 'anthropic' ? 'Anthropic' : 'OpenAI'} format, and this request cannot be translated to it.`,
    { details: { parameter, from: ctx.from, to: ctx.to, target: ctx.target } },
  );
}

/**
 * Content given as a string or as typed parts: the parts' text joined by `separator`; a part of a type
 * not `allowed` is refused (at `where.<index>`, saying `why(type)`).
 */
function textOf(
  ctx: TranslateOptions & Translation,
  content: unknown,
  where: string,
  separator: string,
  allowed: string[],
  why: (type: string) => string,
): string {
  if (typeof content === 'string') return content;
  return asArray(content)
    .map((p, i) => {
      const part = asRecord(p);
      if (!allowed.includes(String(part.type))) refuse(ctx, `${where}.${i}`, why(String(part.type)));
      return String(part.text ?? part.refusal ?? '');
    })
    .join(separator);
}

// ---------------------------------------------------------------------------------------------------
// Requests

/** OpenAI fields dropped on the way to Anthropic: they do not change the answer (docs/gateway.md). */
const OPENAI_IGNORED = new Set([
  'stream_options', // the gateway asks for usage itself
  'seed', // best-effort determinism; Anthropic has none to ask for
  'store',
  'metadata', // OpenAI's stored-completion tags
  'service_tier',
  'prompt_cache_key',
  'safety_identifier',
]);

/** An OpenAI chat completion request as an Anthropic messages request. */
export function openaiToAnthropicRequest(body: Json, options: TranslateOptions): Json {
  const ctx = extend(options, { from: 'openai', to: 'anthropic' } as const);
  const out: Json = {};
  let maxTokens: number | null = null;
  for (const [key, value] of Object.entries(body)) {
    if (!present(value) || OPENAI_IGNORED.has(key)) continue;
    switch (key) {
      case 'model':
      case 'stream':
      case 'top_p':
        out[key] = value;
        break;
      case 'messages':
      case 'tools':
      case 'tool_choice':
      case 'parallel_tool_calls':
        break; // below
      case 'max_tokens':
      case 'max_completion_tokens':
        if (typeof value === 'number') maxTokens = Math.min(maxTokens ?? Infinity, value);
        break;
      case 'temperature':
        if (typeof value === 'number' && value > 1)
          refuse(ctx, key, 'Anthropic takes a temperature from 0 to 1, OpenAI up to 2');
        out.temperature = value;
        break;
      case 'stop':
        out.stop_sequences = typeof value === 'string' ? [value] : value;
        break;
      case 'user':
        out.metadata = { user_id: value };
        break;
      case 'n':
        if (value !== 1) refuse(ctx, key, 'Anthropic answers with one choice');
        break;
      case 'logprobs':
        if (value !== false) refuse(ctx, key, 'Anthropic does not return log probabilities');
        break;
      case 'top_logprobs':
        if (value !== 0) refuse(ctx, key, 'Anthropic does not return log probabilities');
        break;
      case 'presence_penalty':
      case 'frequency_penalty':
        if (value !== 0) refuse(ctx, key, 'Anthropic has no repetition penalties');
        break;
      case 'logit_bias':
        if (Object.keys(asRecord(value)).length) refuse(ctx, key, 'Anthropic has no logit bias');
        break;
      case 'response_format':
        if (asRecord(value).type !== 'text')
          refuse(ctx, key, 'JSON mode and JSON schemas are not translated to Anthropic');
        break;
      case 'modalities':
        if (asArray(value).some((m) => m !== 'text')) refuse(ctx, key, 'only text output is translated');
        break;
      default:
        // audio, prediction, reasoning_effort, web_search_options, functions, verbosity, vendor extensions…
        refuse(ctx, key, 'this parameter has no Anthropic equivalent');
    }
  }
  const { system, messages } = anthropicMessagesOf(asArray(body.messages), ctx);
  if (system) out.system = system;
  out.messages = messages;
  out.max_tokens = maxTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;

  const tools = asArray(body.tools);
  if (tools.length) {
    out.tools = tools.map((t, i) => {
      const tool = asRecord(t);
      if (tool.type !== 'function')
        refuse(ctx, `tools.${i}.type`, `${String(tool.type)} tools are not translated`);
      const fn = asRecord(tool.function);
      return {
        name: fn.name,
        ...(present(fn.description) ? { description: fn.description } : {}),
        input_schema: present(fn.parameters) ? fn.parameters : { type: 'object', properties: {} },
      };
    });
  }
  let choice: Json | null = null;
  const tc = body.tool_choice;
  if (tc === 'auto') choice = { type: 'auto' };
  else if (tc === 'none') choice = { type: 'none' };
  else if (tc === 'required') choice = { type: 'any' };
  else if (present(tc)) {
    const named = asRecord(tc);
    if (named.type !== 'function')
      refuse(ctx, 'tool_choice', `tool_choice of type ${String(named.type)} is not translated`);
    choice = { type: 'tool', name: asRecord(named.function).name };
  }
  if (body.parallel_tool_calls === false && tools.length && choice?.type !== 'none') {
    choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }
  // without tools a tool_choice changes nothing, and Anthropic refuses it
  if (choice && tools.length) out.tool_choice = choice;
  return out;
}

const DATA_URL = /^data:(image\/(?:png|jpeg|gif|webp));base64,(.*)$/s;

function anthropicMessagesOf(
  list: unknown[],
  ctx: TranslateOptions & Translation,
): { system: string | null; messages: Json[] } {
  const system: string[] = [];
  const messages: Array<{ role: string; content: Json[] }> = [];
  // Anthropic wants user and assistant turns to alternate: consecutive ones (tool results and the
  // user text after them) become one message
  const push = (role: string, blocks: Json[]) => {
    if (!blocks.length) return;
    const last = messages.at(-1);
    if (last?.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  list.forEach((raw, i) => {
    const m = asRecord(raw);
    const where = `messages.${i}`;
    const text = (content: unknown, allowed: string[]): string =>
      textOf(ctx, content, `${where}.content`, '', allowed, (type) => `${type} parts are not translated in ${String(m.role)} messages`);
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(text(m.content, ['text']));
        break;
      case 'user':
        push('user', userBlocks(m.content, where, ctx));
        break;
      case 'assistant': {
        if (present(m.function_call))
          refuse(ctx, `${where}.function_call`, 'legacy function calls are not translated');
        if (present(m.audio)) refuse(ctx, `${where}.audio`, 'audio is not translated');
        const blocks: Json[] = [];
        const said = present(m.content) ? text(m.content, ['text', 'refusal']) : '';
        if (said) blocks.push({ type: 'text', text: said });
        asArray(m.tool_calls).forEach((c, j) => {
          const call = asRecord(c);
          const fn = asRecord(call.function);
          const args = typeof fn.arguments === 'string' ? fn.arguments : '{}';
          const input = parseJsonOr(args || '{}', undefined);
          if (input === null || typeof input !== 'object' || Array.isArray(input))
            refuse(
              ctx,
              `${where}.tool_calls.${j}.function.arguments`,
              'tool call arguments must be a JSON object',
            );
          blocks.push({ type: 'tool_use', id: call.id, name: fn.name, input });
        });
        push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [
          { type: 'tool_result', tool_use_id: m.tool_call_id, content: text(m.content, ['text']) },
        ]);
        break;
      default:
        refuse(ctx, `${where}.role`, `${String(m.role)} messages are not translated`);
    }
  });
  return { system: system.length ? system.join('\n\n') : null, messages };
}

function userBlocks(content: unknown, where: string, ctx: TranslateOptions & Translation): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return asArray(content).map((p, j) => {
    const part = asRecord(p);
    if (part.type === 'text') return { type: 'text', text: part.text };
    if (part.type === 'image_url') {
      const url = String(asRecord(part.image_url).url ?? '');
      const data = DATA_URL.exec(url);
      if (data) return { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } };
      if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
      refuse(
        ctx,
        `${where}.content.${j}`,
        'images are translated from http(s) URLs and base64 PNG, JPEG, GIF or WebP data URLs only',
      );
    }
    return refuse(ctx, `${where}.content.${j}`, `${String(part.type)} parts are not translated`);
  });
}

/** Anthropic fields dropped on the way to OpenAI: they do not change the answer (docs/gateway.md). */
const ANTHROPIC_IGNORED = new Set([
  'service_tier',
  'cache_control', // OpenAI caches long prompts by itself; block-level cache_control is dropped too
  'diagnostics', // asks Anthropic to explain prompt-cache misses
]);

/** An Anthropic messages request as an OpenAI chat completion request. */
export function anthropicToOpenaiRequest(body: Json, options: TranslateOptions): Json {
  const ctx = extend(options, { from: 'anthropic', to: 'openai' } as const);
  const out: Json = {};
  for (const [key, value] of Object.entries(body)) {
    if (!present(value) || ANTHROPIC_IGNORED.has(key)) continue;
    switch (key) {
      case 'model':
      case 'stream':
      case 'temperature':
      case 'top_p':
        out[key] = value;
        break;
      case 'messages':
      case 'system':
      case 'tools':
      case 'tool_choice':
        break; // below
      case 'max_tokens':
        out[options.maxTokensField ?? 'max_tokens'] = value;
        break;
      case 'stop_sequences':
        if (asArray(value).length) out.stop = value;
        break;
      case 'metadata': {
        const user = asRecord(value).user_id;
        if (present(user)) out.user = user;
        break;
      }
      case 'speed':
        if (value !== 'standard') refuse(ctx, key, 'fast mode is an Anthropic feature');
        break;
      case 'thinking':
        if (asRecord(value).type !== 'disabled')
          refuse(ctx, key, 'extended thinking is not translated to OpenAI-format models');
        break;
      default:
        // top_k, output_config (effort, JSON format), inference_geo, container, mcp_servers, vendor extensions…
        refuse(ctx, key, 'this parameter has no OpenAI equivalent');
    }
  }
  const messages: Json[] = [];
  if (present(body.system)) {
    const system = textOf(ctx, body.system, 'system', '\n\n', ['text'], (type) => `${type} system blocks are not translated`);
    messages.push({ role: 'system', content: system });
  }
  asArray(body.messages).forEach((raw, i) =>
    messages.push(...openaiMessagesOf(asRecord(raw), `messages.${i}`, ctx)),
  );
  out.messages = messages;

  const tools = asArray(body.tools);
  if (tools.length) {
    out.tools = tools.map((t, i) => {
      const tool = asRecord(t);
      if (present(tool.type) && tool.type !== 'custom')
        refuse(
          ctx,
          `tools.${i}.type`,
          `Anthropic server tools (${String(tool.type)}) do not run on OpenAI-format models`,
        );
      return {
        type: 'function',
        function: {
          name: tool.name,
          ...(present(tool.description) ? { description: tool.description } : {}),
          parameters: tool.input_schema ?? { type: 'object', properties: {} },
        },
      };
    });
  }
  if (present(body.tool_choice) && tools.length) {
    const choice = asRecord(body.tool_choice);
    switch (choice.type) {
      case 'auto':
        out.tool_choice = 'auto';
        break;
      case 'any':
        out.tool_choice = 'required';
        break;
      case 'none':
        out.tool_choice = 'none';
        break;
      case 'tool':
        out.tool_choice = { type: 'function', function: { name: choice.name } };
        break;
      default:
        refuse(ctx, 'tool_choice', `tool_choice of type ${String(choice.type)} is not translated`);
    }
    if (choice.disable_parallel_tool_use === true && tools.length) out.parallel_tool_calls = false;
  }
  return out;
}

function openaiMessagesOf(m: Json, where: string, ctx: TranslateOptions & Translation): Json[] {
  const blocks =
    typeof m.content === 'string'
      ? [{ type: 'text', text: m.content }]
      : asArray(m.content).map((b) => asRecord(b));
  if (m.role === 'assistant') {
    let text = '';
    const calls: Json[] = [];
    blocks.forEach((block, j) => {
      if (block.type === 'text') text += String(block.text ?? '');
      else if (block.type === 'tool_use')
        calls.push({
          id: block.id,
          type: 'function',
          function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
        });
      // earlier turns' thinking is not part of the context Anthropic models see either
      else if (block.type !== 'thinking' && block.type !== 'redacted_thinking')
        refuse(ctx, `${where}.content.${j}`, `${String(block.type)} blocks are not translated`);
    });
    if (!text && !calls.length) return [];
    return [{ role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) }];
  }
  // user: tool results become tool messages, which OpenAI wants right after the assistant's calls
  const out: Json[] = [];
  const parts: Json[] = [];
  blocks.forEach((block, j) => {
    const at = `${where}.content.${j}`;
    switch (block.type) {
      case 'tool_result': {
        const content = textOf(ctx, block.content, `${at}.content`, '', ['text'], () => 'OpenAI tool results are text only');
        // OpenAI has no error flag on a tool result: say it in the text
        out.push({
          role: 'tool',
          tool_call_id: block.tool_use_id,
          content: block.is_error === true ? `Error: ${content}` : content,
        });
        break;
      }
      case 'text':
        parts.push({ type: 'text', text: block.text });
        break;
      case 'image': {
        const source = asRecord(block.source);
        if (source.type === 'base64')
          parts.push({
            type: 'image_url',
            image_url: { url: `data:${String(source.media_type)};base64,${String(source.data)}` },
          });
        else if (source.type === 'url') parts.push({ type: 'image_url', image_url: { url: source.url } });
        else refuse(ctx, at, `images from a ${String(source.type)} source are not translated`);
        break;
      }
      default:
        refuse(ctx, at, `${String(block.type)} blocks are not translated`);
    }
  });
  if (parts.length) {
    const onlyText = parts.length === 1 && parts[0]!.type === 'text';
    out.push({ role: 'user', content: onlyText ? parts[0]!.text : parts });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Answers

const FINISH_OF_STOP: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};
const STOP_OF_FINISH: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};
export const finishReasonOf = (stop: unknown): string | null =>
  typeof stop === 'string' ? (FINISH_OF_STOP[stop] ?? 'stop') : null;
export const stopReasonOf = (finish: unknown): string =>
  typeof finish === 'string' ? (STOP_OF_FINISH[finish] ?? 'end_turn') : 'end_turn';

/**
 * Anthropic usage in OpenAI's shape. prompt_tokens counts every input token, cached ones included,
 * as OpenAI's does; cache writes, which OpenAI has no field for, are kept as LiteLLM reports them
 * (`cache_creation_input_tokens`), so the journal can still price them.
 */
export function openaiUsageOf(anthropicUsage: unknown): Json {
  const u = asRecord(anthropicUsage);
  const input = numberOrNull(u.input_tokens) ?? 0;
  const read = numberOrNull(u.cache_read_input_tokens) ?? 0;
  const write = numberOrNull(u.cache_creation_input_tokens) ?? 0;
  const output = numberOrNull(u.output_tokens) ?? 0;
  return {
    prompt_tokens: input + read + write,
    completion_tokens: output,
    total_tokens: input + read + write + output,
    prompt_tokens_details: { cached_tokens: read },
    cache_read_input_tokens: read,
    cache_creation_input_tokens: write,
  };
}

/** OpenAI usage in Anthropic's shape: input_tokens are the uncached ones, as Anthropic's are. */
export function anthropicUsageOf(openaiUsage: unknown): Json {
  const u = asRecord(openaiUsage);
  const prompt = numberOrNull(u.prompt_tokens) ?? 0;
  const read = numberOrNull(asRecord(u.prompt_tokens_details).cached_tokens) ?? 0;
  const write = numberOrNull(u.cache_creation_input_tokens) ?? 0;
  return {
    input_tokens: Math.max(0, prompt - read - write),
    output_tokens: numberOrNull(u.completion_tokens) ?? 0,
    cache_read_input_tokens: read,
    cache_creation_input_tokens: write,
  };
}

/** An Anthropic message as an OpenAI chat completion. */
export function anthropicToOpenaiResponse(message: Json): Json {
  let text = '';
  const calls: Json[] = [];
  for (const b of asArray(message.content)) {
    const block = asRecord(b);
    if (block.type === 'text') text += String(block.text ?? '');
    else if (block.type === 'tool_use')
      calls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    // thinking is never asked for by a translated request
  }
  const reply: Json = { role: 'assistant', content: calls.length && !text ? null : text, refusal: null };
  if (calls.length) reply.tool_calls = calls;
  return {
    id: message.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: message.model,
    choices: [
      {
        index: 0,
        message: reply,
        logprobs: null,
        finish_reason: finishReasonOf(message.stop_reason) ?? 'stop',
      },
    ],
    usage: openaiUsageOf(message.usage),
  };
}

const toolInput = (args: unknown): unknown =>
  typeof args === 'string' ? parseJsonOr(args || '{}', args) : (args ?? {});

/** An OpenAI chat completion (its first choice: a translated request never asks for more) as an Anthropic message. */
export function openaiToAnthropicResponse(completion: Json): Json {
  const choice = asRecord(asArray(completion.choices)[0]);
  const m = asRecord(choice.message);
  const content: Json[] = [];
  const said = typeof m.content === 'string' ? m.content : '';
  if (said) content.push({ type: 'text', text: said });
  if (typeof m.refusal === 'string' && m.refusal) content.push({ type: 'text', text: m.refusal });
  for (const c of asArray(m.tool_calls)) {
    const call = asRecord(c);
    const fn = asRecord(call.function);
    content.push({ type: 'tool_use', id: call.id, name: fn.name, input: toolInput(fn.arguments) });
  }
  return {
    id: completion.id,
    type: 'message',
    role: 'assistant',
    model: completion.model,
    content,
    stop_reason: typeof m.refusal === 'string' && m.refusal ? 'refusal' : stopReasonOf(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsageOf(completion.usage),
  };
}

// ---------------------------------------------------------------------------------------------------
// Streams

/**
 * Anthropic's stream (message_start, content_block_*, message_delta, message_stop) as OpenAI chunks:
 * text and tool-call deltas as they come, the finish reason with message_delta, then a usage chunk
 * (the gateway drops it for a client that did not ask) and [DONE].
 */
export async function* anthropicStreamToOpenai(upstream: AsyncIterable<string>): AsyncIterable<string> {
  const parser = createSseParser();
  const created = Math.floor(Date.now() / 1000);
  let id: unknown = null;
  let model: unknown = null;
  let usage: Json = {};
  const toolOfBlock = new Map<number, number>();
  const chunk = (delta: Json, finish: string | null = null) =>
    sseText({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
  for await (const text of upstream) {
    let out = '';
    for (const event of parser.feed(text)) {
      const data = asRecord(parseJsonOr(event.data, null));
      switch (data.type) {
        case 'message_start': {
          const message = asRecord(data.message);
          id = message.id;
          model = message.model;
          usage = { ...asRecord(message.usage) };
          out += chunk({ role: 'assistant', content: '' });
          break;
        }
        case 'content_block_start': {
          const block = asRecord(data.content_block);
          if (block.type === 'tool_use') {
            const index = toolOfBlock.size;
            toolOfBlock.set(Number(data.index), index);
            out += chunk({
              tool_calls: [
                { index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } },
              ],
            });
          } else if (block.type === 'text' && typeof block.text === 'string' && block.text) {
            out += chunk({ content: block.text });
          }
          break;
        }
        case 'content_block_delta': {
          const delta = asRecord(data.delta);
          const tool = toolOfBlock.get(Number(data.index));
          if (delta.type === 'text_delta') out += chunk({ content: delta.text });
          else if (delta.type === 'input_json_delta' && tool !== undefined)
            out += chunk({ tool_calls: [{ index: tool, function: { arguments: delta.partial_json } }] });
          break;
        }
        case 'message_delta':
          // its usage counters are whole-message totals: overwrite, never add
          usage = { ...usage, ...asRecord(data.usage) };
          out += chunk({}, finishReasonOf(asRecord(data.delta).stop_reason) ?? 'stop');
          break;
        case 'message_stop':
          out += sseText({
            id,
            object: 'chat.completion.chunk',
            created,
            model,
            choices: [],
            usage: openaiUsageOf(usage),
          });
          out += 'data: [DONE]\n\n';
          break;
        case 'error': {
          const error = asRecord(data.error);
          out += sseText({
            error: {
              message: error.message ?? 'The provider failed mid-stream.',
              type: error.type ?? 'api_error',
              code: error.type ?? null,
            },
          });
          break;
        }
        default:
          break; // ping, content_block_stop, thinking
      }
    }
    // even when nothing translates (a ping): the gateway's stall timeout counts from the last upstream chunk
    yield out;
  }
}

/**
 * OpenAI chunks as Anthropic's stream: message_start at the first chunk, a content block per run of
 * text and per tool call, and — once [DONE] arrives, after OpenAI's usage chunk — message_delta
 * with the stop reason and the whole usage, then message_stop. Input tokens are known only at the
 * end, so message_start says 0 and message_delta carries them (the Anthropic SDK takes them from there).
 */
export async function* openaiStreamToAnthropic(upstream: AsyncIterable<string>): AsyncIterable<string> {
  const parser = createSseParser();
  const event = (data: Json) => sseText(data, String(data.type));
  let started = false;
  let open: { kind: 'text' | 'tool'; index: number } | null = null;
  let blocks = 0;
  const blockOfTool = new Map<number, number>();
  let stopReason: string | null = null;
  let usage: unknown = null;
  for await (const text of upstream) {
    let out = '';
    const start = (chunk: Json) => {
      if (started) return;
      started = true;
      out += event({
        type: 'message_start',
        message: {
          id: chunk.id ?? `msg_${randomHex(12)}`,
          type: 'message',
          role: 'assistant',
          model: chunk.model ?? null,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      });
    };
    const close = () => {
      if (open) out += event({ type: 'content_block_stop', index: open.index });
      open = null;
    };
    const say = (piece: string) => {
      if (open?.kind !== 'text') {
        close();
        open = { kind: 'text', index: blocks++ };
        out += event({
          type: 'content_block_start',
          index: open.index,
          content_block: { type: 'text', text: '' },
        });
      }
      out += event({
        type: 'content_block_delta',
        index: open.index,
        delta: { type: 'text_delta', text: piece },
      });
    };
    for (const e of parser.feed(text)) {
      if (e.data === '[DONE]') {
        start({});
        close();
        out += event({
          type: 'message_delta',
          delta: { stop_reason: stopReason ?? 'end_turn', stop_sequence: null },
          usage: anthropicUsageOf(usage),
        });
        out += event({ type: 'message_stop' });
        continue;
      }
      const chunk = asRecord(parseJsonOr(e.data, null));
      if (chunk.error) {
        const error = asRecord(chunk.error);
        out += event({
          type: 'error',
          error: {
            type: error.type ?? 'api_error',
            message: error.message ?? 'The provider failed mid-stream.',
          },
        });
        continue;
      }
      start(chunk);
      if (chunk.usage) usage = chunk.usage;
      const choice = asRecord(asArray(chunk.choices)[0]);
      const delta = asRecord(choice.delta);
      if (typeof delta.content === 'string' && delta.content) say(delta.content);
      if (typeof delta.refusal === 'string' && delta.refusal) {
        say(delta.refusal);
        stopReason = 'refusal';
      }
      for (const t of asArray(delta.tool_calls)) {
        const part = asRecord(t);
        const fn = asRecord(part.function);
        const i = typeof part.index === 'number' ? part.index : 0;
        let index = blockOfTool.get(i);
        if (index === undefined) {
          close();
          index = blocks++;
          blockOfTool.set(i, index);
          open = { kind: 'tool', index };
          out += event({
            type: 'content_block_start',
            index,
            content_block: {
              type: 'tool_use',
              id: part.id ?? `toolu_${randomHex(8)}`,
              name: fn.name ?? '',
              input: {},
            },
          });
        }
        if (typeof fn.arguments === 'string' && fn.arguments)
          out += event({
            type: 'content_block_delta',
            index,
            delta: { type: 'input_json_delta', partial_json: fn.arguments },
          });
      }
      if (typeof choice.finish_reason === 'string' && stopReason !== 'refusal')
        stopReason = stopReasonOf(choice.finish_reason);
    }
    // even when nothing translates (a ping): the gateway's stall timeout counts from the last upstream chunk
    yield out;
  }
}

// ---------------------------------------------------------------------------------------------------
// The provider

/** Throws translation_unsupported when `body` (in `endpoint`'s format) cannot be sent in the other format. */
export function assertTranslatable(endpoint: Endpoint, body: Json, options: TranslateOptions): void {
  if (endpoint === 'chat') openaiToAnthropicRequest(body, options);
  else anthropicToOpenaiRequest(body, options);
}

/**
 * A provider that speaks one chat format, offered on the other chat endpoint: requests, answers and
 * streams are translated on the way through. It keeps the provider's name and system, so the journal
 * and prices see the provider that answered.
 */
export function createTranslatingProvider(
  inner: ModelProvider,
  client: Endpoint,
  options: Omit<TranslateOptions, 'target'>,
): ModelProvider {
  const upstream = counterpart(client);
  if (!upstream) throw new Error(`${client} has no other format to translate to`);
  return {
    name: inner.name,
    system: inner.system,
    serves: new Set([client]),
    translation: { from: wireOf(client), to: wireOf(upstream) },
    async send(request: ProviderRequest) {
      const target = `${inner.name}/${String(request.body.model)}`;
      const body =
        client === 'chat'
          ? openaiToAnthropicRequest(request.body, extend(options, { target }))
          : anthropicToOpenaiRequest(request.body, extend(options, { target }));
      const reply = await inner.send({ ...request, endpoint: upstream, body });
      if (reply.chunks) {
        return {
          ...reply,
          chunks:
            client === 'chat' ? anthropicStreamToOpenai(reply.chunks) : openaiStreamToAnthropic(reply.chunks),
        };
      }
      const json = reply.json ?? {};
      return {
        ...reply,
        text: undefined, // the provider's text is of the other format
        json: client === 'chat' ? anthropicToOpenaiResponse(json) : openaiToAnthropicResponse(json),
      };
    },
  };
}
