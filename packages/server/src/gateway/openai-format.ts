import type { Message } from '@hangar/protocol';
import { randomHex } from '../util/ids.js';
import { extend } from '../util/objects.js';
import { sseText } from './sse.js';
import {
  asArray,
  asRecord,
  numberOrNull,
  parseJsonOr,
  textPieces,
  type Answer,
  type StreamAggregator,
  type WireFormat,
} from './wire-format.js';

const contentText = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : asArray(content)
        .map((p) => asRecord(p))
        .filter((p) => p.type === 'text' && typeof p.text === 'string')
        .map((p) => p.text as string)
        .join('');

/** OpenAI's chat completions format (also spoken by Ollama, vLLM, llama.cpp server and OpenRouter). */
export const openaiFormat: WireFormat = {
  name: 'openai',

  build(answer: Answer) {
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: answer.text || null,
      refusal: null,
    };
    if (answer.toolCalls.length) {
      message.tool_calls = answer.toolCalls.map((t) => ({
        id: t.id,
        type: 'function',
        function: { name: t.name, arguments: JSON.stringify(t.arguments) },
      }));
    }
    return {
      id: `chatcmpl-${randomHex(12)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: answer.model,
      choices: [
        { index: 0, message, logprobs: null, finish_reason: answer.toolCalls.length ? 'tool_calls' : 'stop' },
      ],
      usage: {
        prompt_tokens: answer.usage.input,
        completion_tokens: answer.usage.output,
        total_tokens: answer.usage.input + answer.usage.output,
      },
    };
  },

  toSse(response, { includeUsage, chunkText }) {
    const base = {
      id: response.id,
      object: 'chat.completion.chunk',
      created: response.created,
      model: response.model,
    };
    const events: string[] = [];
    for (const c of asArray(response.choices)) {
      const choice = asRecord(c);
      const index = choice.index ?? 0;
      const message = asRecord(choice.message);
      const chunk = (delta: Record<string, unknown>, finish: unknown = null) =>
        events.push(sseText(extend(base, { choices: [{ index, delta, logprobs: null, finish_reason: finish }] })));
      chunk({ role: 'assistant', content: '' });
      if (typeof message.content === 'string' && message.content) {
        for (const piece of chunkText ? textPieces(message.content) : [message.content])
          chunk({ content: piece });
      }
      asArray(message.tool_calls).forEach((t, i) => {
        const call = asRecord(t);
        const fn = asRecord(call.function);
        chunk({
          tool_calls: [
            { index: i, id: call.id, type: 'function', function: { name: fn.name, arguments: '' } },
          ],
        });
        chunk({ tool_calls: [{ index: i, function: { arguments: fn.arguments ?? '' } }] });
      });
      chunk({}, choice.finish_reason ?? 'stop');
    }
    if (includeUsage && response.usage) events.push(sseText(extend(base, { choices: [], usage: response.usage })));
    events.push('data: [DONE]\n\n');
    return events;
  },

  aggregator({ includeUsage }): StreamAggregator {
    const result: Record<string, unknown> = { object: 'chat.completion', choices: [] };
    const choices = new Map<
      number,
      {
        message: Record<string, unknown>;
        finish_reason: unknown;
        tools: Map<number, Record<string, unknown>>;
      }
    >();
    let done = false;
    return {
      push(event) {
        if (event.data === '[DONE]') {
          done = true;
          return { forward: true };
        }
        const chunk = asRecord(parseJsonOr(event.data, null));
        for (const key of ['id', 'created', 'model', 'system_fingerprint', 'service_tier'] as const) {
          if (chunk[key] !== undefined) result[key] = chunk[key];
        }
        if (chunk.usage) result.usage = chunk.usage;
        const deltas = asArray(chunk.choices);
        for (const c of deltas) {
          const choice = asRecord(c);
          const index = typeof choice.index === 'number' ? choice.index : 0;
          let acc = choices.get(index);
          if (!acc) {
            acc = { message: { role: 'assistant', content: null }, finish_reason: null, tools: new Map() };
            choices.set(index, acc);
          }
          const delta = asRecord(choice.delta);
          if (typeof delta.content === 'string')
            acc.message.content = ((acc.message.content as string | null) ?? '') + delta.content;
          if (typeof delta.refusal === 'string')
            acc.message.refusal = ((acc.message.refusal as string | undefined) ?? '') + delta.refusal;
          for (const t of asArray(delta.tool_calls)) {
            const part = asRecord(t);
            const i = typeof part.index === 'number' ? part.index : 0;
            const fn = asRecord(part.function);
            const tool = acc.tools.get(i) ?? {
              id: null,
              type: 'function',
              function: { name: '', arguments: '' },
            };
            const tfn = tool.function as { name: string; arguments: string };
            if (typeof part.id === 'string') tool.id = part.id;
            if (typeof fn.name === 'string') tfn.name += fn.name;
            if (typeof fn.arguments === 'string') tfn.arguments += fn.arguments;
            acc.tools.set(i, tool);
          }
          if (choice.finish_reason != null) acc.finish_reason = choice.finish_reason;
        }
        // a chunk with no choices and usage is the one stream_options.include_usage asked for
        return { forward: includeUsage || deltas.length > 0 || !chunk.usage };
      },
      result() {
        result.choices = [...choices.entries()]
          .sort(([a], [b]) => a - b)
          .map(([index, acc]) => ({
            index,
            message: acc.tools.size
              ? {
                  ...acc.message,
                  tool_calls: [...acc.tools.entries()].sort(([a], [b]) => a - b).map(([, t]) => t),
                }
              : acc.message,
            logprobs: null,
            finish_reason: acc.finish_reason,
          }));
        return result;
      },
      finished: () => done,
    };
  },

  usage(response) {
    const u = asRecord(response.usage);
    const cost = numberOrNull(typeof u.cost === 'number' ? u.cost * 1_000_000 : null); // OpenRouter reports usage.cost in USD
    return {
      usage: {
        input: numberOrNull(u.prompt_tokens),
        output: numberOrNull(u.completion_tokens),
        cacheRead: numberOrNull(asRecord(u.prompt_tokens_details).cached_tokens),
        // not OpenAI's: LiteLLM's, and Hangar's own for answers translated from Anthropic (cross-format.ts)
        cacheWrite: numberOrNull(u.cache_creation_input_tokens),
        reasoning: numberOrNull(asRecord(u.completion_tokens_details).reasoning_tokens),
      },
      providerCostMicros: cost,
    };
  },

  inputMessages(request) {
    return asArray(request.messages).map((m) => toMessage(asRecord(m)));
  },

  outputMessages(response) {
    return asArray(response.choices).map((c) => toMessage(asRecord(asRecord(c).message)));
  },

  lastUserText(request) {
    const last = asArray(request.messages)
      .map((m) => asRecord(m))
      .filter((m) => m.role === 'user')
      .at(-1);
    return last ? contentText(last.content) : '';
  },

  userTurns(request) {
    return asArray(request.messages).filter((m) => asRecord(m).role === 'user').length;
  },

  errorEvent(code, message) {
    return sseText({ error: { code, message, type: code } });
  },
};

function toMessage(m: Record<string, unknown>): Message {
  const message: Message = {
    role: typeof m.role === 'string' ? m.role : 'unknown',
    content: (m.content ?? null) as Message['content'],
  };
  const calls = asArray(m.tool_calls).map((t) => {
    const call = asRecord(t);
    const fn = asRecord(call.function);
    return {
      id: typeof call.id === 'string' ? call.id : null,
      name: typeof fn.name === 'string' ? fn.name : '',
      arguments: (typeof fn.arguments === 'string'
        ? parseJsonOr(fn.arguments, fn.arguments)
        : (fn.arguments ?? null)) as Message['content'],
    };
  });
  if (calls.length) message.toolCalls = calls;
  if (typeof m.tool_call_id === 'string') message.toolCallId = m.tool_call_id;
  if (typeof m.name === 'string') message.name = m.name;
  return message;
}
