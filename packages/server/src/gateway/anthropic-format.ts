import type { Message } from '@hangar/protocol';
import { randomHex } from '../util/ids.js';
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

const blocksOf = (content: unknown): Record<string, unknown>[] =>
  typeof content === 'string' ? [{ type: 'text', text: content }] : asArray(content).map((b) => asRecord(b));

const textOf = (content: unknown): string =>
  blocksOf(content)
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string)
    .join('');

/** A user turn is a user message that is not only tool results. */
const isUserTurn = (m: Record<string, unknown>) =>
  m.role === 'user' && blocksOf(m.content).some((b) => b.type !== 'tool_result');

/** Anthropic's messages format. */
export const anthropicFormat: WireFormat = {
  name: 'anthropic',

  build(answer: Answer) {
    const content: Record<string, unknown>[] = [];
    if (answer.text) content.push({ type: 'text', text: answer.text });
    for (const t of answer.toolCalls)
      content.push({ type: 'tool_use', id: t.id, name: t.name, input: t.arguments });
    return {
      id: `msg_${randomHex(12)}`,
      type: 'message',
      role: 'assistant',
      model: answer.model,
      content,
      stop_reason: answer.toolCalls.length ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: answer.usage.input,
        output_tokens: answer.usage.output,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    };
  },

  toSse(response, { chunkText }) {
    const usage = asRecord(response.usage);
    const events = [
      sseText(
        {
          type: 'message_start',
          message: {
            ...response,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { ...usage, output_tokens: 1 },
          },
        },
        'message_start',
      ),
    ];
    blocksOf(response.content).forEach((block, index) => {
      if (block.type === 'text') {
        events.push(
          sseText(
            { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
            'content_block_start',
          ),
        );
        for (const piece of chunkText ? textPieces(String(block.text ?? '')) : [String(block.text ?? '')]) {
          events.push(
            sseText(
              { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } },
              'content_block_delta',
            ),
          );
        }
      } else if (block.type === 'tool_use') {
        events.push(
          sseText(
            {
              type: 'content_block_start',
              index,
              content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
            },
            'content_block_start',
          ),
        );
        events.push(
          sseText(
            {
              type: 'content_block_delta',
              index,
              delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input ?? {}) },
            },
            'content_block_delta',
          ),
        );
      } else {
        events.push(
          sseText({ type: 'content_block_start', index, content_block: block }, 'content_block_start'),
        );
      }
      events.push(sseText({ type: 'content_block_stop', index }, 'content_block_stop'));
    });
    events.push(
      sseText(
        {
          type: 'message_delta',
          delta: {
            stop_reason: response.stop_reason ?? 'end_turn',
            stop_sequence: response.stop_sequence ?? null,
          },
          usage: { output_tokens: usage.output_tokens ?? 0 },
        },
        'message_delta',
      ),
    );
    events.push(sseText({ type: 'message_stop' }, 'message_stop'));
    return events;
  },

  aggregator(): StreamAggregator {
    let message: Record<string, unknown> = { type: 'message', role: 'assistant', content: [] };
    const blocks: Record<string, unknown>[] = [];
    const partialJson = new Map<number, string>();
    let done = false;
    return {
      push(event) {
        const data = asRecord(parseJsonOr(event.data, null));
        switch (data.type) {
          case 'message_start':
            message = { ...asRecord(data.message) };
            break;
          case 'content_block_start':
            blocks[Number(data.index)] = { ...asRecord(data.content_block) };
            break;
          case 'content_block_delta': {
            const i = Number(data.index);
            const block = (blocks[i] ??= { type: 'text', text: '' });
            const delta = asRecord(data.delta);
            if (delta.type === 'text_delta') block.text = String(block.text ?? '') + String(delta.text ?? '');
            else if (delta.type === 'input_json_delta')
              partialJson.set(i, (partialJson.get(i) ?? '') + String(delta.partial_json ?? ''));
            else if (delta.type === 'thinking_delta')
              block.thinking = String(block.thinking ?? '') + String(delta.thinking ?? '');
            else if (delta.type === 'signature_delta') block.signature = String(delta.signature ?? '');
            break;
          }
          case 'content_block_stop': {
            const i = Number(data.index);
            const json = partialJson.get(i);
            if (json !== undefined && blocks[i]) blocks[i].input = parseJsonOr(json || '{}', json);
            break;
          }
          case 'message_delta': {
            Object.assign(message, asRecord(data.delta));
            message.usage = { ...asRecord(message.usage), ...asRecord(data.usage) };
            break;
          }
          case 'message_stop':
            done = true;
            break;
          default:
            break;
        }
        return { forward: true };
      },
      result() {
        return { ...message, content: blocks.filter(Boolean) };
      },
      finished: () => done,
    };
  },

  usage(response) {
    const u = asRecord(response.usage);
    const input = numberOrNull(u.input_tokens);
    const cacheRead = numberOrNull(u.cache_read_input_tokens);
    const cacheWrite = numberOrNull(u.cache_creation_input_tokens);
    return {
      // input counts every input token, cached or not, as OpenAI's prompt_tokens does
      usage: {
        input: input === null ? null : input + (cacheRead ?? 0) + (cacheWrite ?? 0),
        output: numberOrNull(u.output_tokens),
        cacheRead,
        cacheWrite,
        reasoning: null,
      },
      providerCostMicros: null,
    };
  },

  inputMessages(request) {
    const messages: Message[] = [];
    if (request.system !== undefined) messages.push({ role: 'system', content: textOf(request.system) });
    for (const m of asArray(request.messages).map((x) => asRecord(x))) messages.push(...toMessages(m));
    return messages;
  },

  outputMessages(response) {
    return toMessages({ role: 'assistant', content: response.content });
  },

  lastUserText(request) {
    const last = asArray(request.messages)
      .map((m) => asRecord(m))
      .filter(isUserTurn)
      .at(-1);
    return last ? textOf(last.content) : '';
  },

  userTurns(request) {
    return asArray(request.messages)
      .map((m) => asRecord(m))
      .filter(isUserTurn).length;
  },

  errorEvent(code, message) {
    return sseText({ type: 'error', error: { type: code, message } }, 'error');
  },
};

function toMessages(m: Record<string, unknown>): Message[] {
  const role = typeof m.role === 'string' ? m.role : 'unknown';
  const blocks = blocksOf(m.content);
  const out: Message[] = [];
  for (const r of blocks.filter((b) => b.type === 'tool_result')) {
    out.push({
      role: 'tool',
      content: (typeof r.content === 'string' ? r.content : textOf(r.content)) as Message['content'],
      toolCallId: String(r.tool_use_id ?? ''),
    });
  }
  const rest = blocks.filter((b) => b.type !== 'tool_result' && b.type !== 'tool_use');
  const calls = blocks
    .filter((b) => b.type === 'tool_use')
    .map((b) => ({
      id: typeof b.id === 'string' ? b.id : null,
      name: String(b.name ?? ''),
      arguments: (b.input ?? null) as Message['content'],
    }));
  if (rest.length || calls.length) {
    const message: Message = {
      role,
      content: typeof m.content === 'string' ? m.content : (rest as Message['content']),
    };
    if (calls.length) message.toolCalls = calls;
    out.push(message);
  }
  return out;
}
