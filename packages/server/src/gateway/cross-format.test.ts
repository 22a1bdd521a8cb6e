import { describe, expect, it } from 'vitest';
import { ApiError } from '../http/api-error.js';
import { anthropicFormat } from './anthropic-format.js';
import {
  anthropicStreamToOpenai,
  anthropicToOpenaiRequest,
  anthropicToOpenaiResponse,
  openaiStreamToAnthropic,
  openaiToAnthropicRequest,
  openaiToAnthropicResponse,
} from './cross-format.js';
import { openaiFormat } from './openai-format.js';
import { createSseParser } from './sse.js';

const opts = { target: 'p/m' };

async function collect(source: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const s of source) out += s;
  return out;
}
/** Text fed in awkward pieces, as a network delivers it. */
async function* pieces(text: string, size = 7): AsyncIterable<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return { code: (err as ApiError).code, details: (err as ApiError).details };
  }
  throw new Error('not refused');
};

describe('OpenAI request → Anthropic', () => {
  it('gathers system and developer messages, merges tool results into one user turn, and maps the options', () => {
    const body = openaiToAnthropicRequest(
      {
        model: 'claude',
        messages: [
          { role: 'system', content: 'one' },
          { role: 'developer', content: [{ type: 'text', text: 'two' }] },
          { role: 'user', content: 'weather and time?' },
          {
            role: 'assistant',
            content: 'checking',
            tool_calls: [
              { id: 'a', type: 'function', function: { name: 'w', arguments: '{"c":1}' } },
              { id: 'b', type: 'function', function: { name: 't', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'a', content: 'sunny' },
          { role: 'tool', tool_call_id: 'b', content: [{ type: 'text', text: 'noon' }] },
          { role: 'user', content: 'thanks' },
        ],
        max_completion_tokens: 50,
        stop: 'STOP',
        tool_choice: { type: 'function', function: { name: 'w' } },
        tools: [{ type: 'function', function: { name: 'w' } }],
        stream: true,
        stream_options: { include_usage: true },
        seed: 1,
      },
      opts,
    );
    expect(body).toEqual({
      model: 'claude',
      stream: true,
      system: 'one\n\ntwo',
      max_tokens: 50,
      stop_sequences: ['STOP'],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'weather and time?' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'checking' },
            { type: 'tool_use', id: 'a', name: 'w', input: { c: 1 } },
            { type: 'tool_use', id: 'b', name: 't', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'a', content: 'sunny' },
            { type: 'tool_result', tool_use_id: 'b', content: 'noon' },
            { type: 'text', text: 'thanks' },
          ],
        },
      ],
      tools: [{ name: 'w', input_schema: { type: 'object', properties: {} } }],
      tool_choice: { type: 'tool', name: 'w' },
    });
  });

  it('sends no tool_choice without tools, in either direction', () => {
    expect(
      openaiToAnthropicRequest({ model: 'm', messages: [], tool_choice: 'auto' }, opts),
    ).not.toHaveProperty('tool_choice');
    expect(
      anthropicToOpenaiRequest(
        { model: 'm', max_tokens: 1, messages: [], tool_choice: { type: 'auto' } },
        opts,
      ),
    ).not.toHaveProperty('tool_choice');
  });

  it('refuses audio, files, legacy functions, unknown parameters and arguments that are not JSON', () => {
    const ask = (extra: Record<string, unknown>, messages: unknown[] = [{ role: 'user', content: 'x' }]) =>
      refusal(() => openaiToAnthropicRequest({ model: 'm', messages, ...extra }, opts));
    expect(ask({}, [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }])).toMatchObject({
      code: 'translation_unsupported',
      details: { parameter: 'messages.0.content.0', from: 'openai', to: 'anthropic', target: 'p/m' },
    });
    expect(
      ask({}, [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x' } }] }]),
    ).toMatchObject({ details: { parameter: 'messages.0.content.0' } });
    expect(ask({ functions: [{ name: 'f' }] }).details).toMatchObject({ parameter: 'functions' });
    expect(ask({ reasoning_effort: 'high' }).details).toMatchObject({ parameter: 'reasoning_effort' });
    expect(ask({ provider: { order: ['x'] } }).details).toMatchObject({ parameter: 'provider' });
    expect(
      ask({}, [
        { role: 'user', content: 'x' },
        { role: 'assistant', tool_calls: [{ id: 'a', function: { name: 'f', arguments: '{oops' } }] },
      ]).details,
    ).toMatchObject({ parameter: 'messages.1.tool_calls.0.function.arguments' });
  });
});

describe('Anthropic request → OpenAI', () => {
  it('puts tool results first as tool messages, marks errors, drops earlier thinking, and translates images', () => {
    const body = anthropicToOpenaiRequest(
      {
        model: 'gpt',
        max_tokens: 10,
        temperature: 0.3, // older Claude models take them; an OpenAI model always does
        top_p: 0.8,
        speed: 'standard',
        messages: [
          { role: 'user', content: 'go' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hmm', signature: 's' },
              { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 't1', content: 'boom', is_error: true },
              { type: 'text', text: 'and this?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'AAAA' } },
            ],
          },
        ],
      },
      { ...opts, maxTokensField: 'max_completion_tokens' },
    );
    expect(body).toMatchObject({ max_completion_tokens: 10, temperature: 0.3, top_p: 0.8 });
    expect(body.messages).toEqual([
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
      },
      { role: 'tool', tool_call_id: 't1', content: 'Error: boom' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'and this?' },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } },
        ],
      },
    ]);
  });

  it('refuses documents, images in tool results and non-text system blocks', () => {
    const ask = (extra: Record<string, unknown>) =>
      refusal(() =>
        anthropicToOpenaiRequest(
          { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], ...extra },
          opts,
        ),
      );
    expect(
      ask({ messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }).details,
    ).toMatchObject({ parameter: 'messages.0.content.0', from: 'anthropic', to: 'openai' });
    expect(
      ask({
        messages: [
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 'a', content: [{ type: 'image', source: {} }] }],
          },
        ],
      }).details,
    ).toMatchObject({ parameter: 'messages.0.content.0.content.0' });
    expect(ask({ system: [{ type: 'image' }] }).details).toMatchObject({ parameter: 'system.0' });
    expect(ask({ mcp_servers: [] }).details).toMatchObject({ parameter: 'mcp_servers' });
  });
});

describe('answers', () => {
  it('maps stop reasons, refusals and cache-write tokens, so usage and cost survive the round trip', () => {
    const message = {
      id: 'msg_1',
      type: 'message',
      model: 'claude',
      content: [{ type: 'text', text: 'cut' }],
      stop_reason: 'max_tokens',
      usage: {
        input_tokens: 10,
        output_tokens: 5,
        cache_read_input_tokens: 4,
        cache_creation_input_tokens: 6,
      },
    };
    const completion = anthropicToOpenaiResponse(message);
    expect(completion).toMatchObject({ choices: [{ finish_reason: 'length', message: { content: 'cut' } }] });
    // the usage Hangar records from the translated answer is the usage of the original
    expect(openaiFormat.usage(completion).usage).toEqual(anthropicFormat.usage(message).usage);
    expect(openaiFormat.usage(completion).usage).toMatchObject({ input: 20, cacheRead: 4, cacheWrite: 6 });

    const refused = openaiToAnthropicResponse({
      id: 'c',
      model: 'gpt',
      choices: [{ message: { role: 'assistant', content: null, refusal: 'no' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 9, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 4 } },
    });
    expect(refused).toMatchObject({
      content: [{ type: 'text', text: 'no' }],
      stop_reason: 'refusal',
      usage: { input_tokens: 5, cache_read_input_tokens: 4, output_tokens: 1 },
    });
    expect(anthropicFormat.usage(refused).usage).toMatchObject({ input: 9, output: 1, cacheRead: 4 });
  });
});

describe('streams', () => {
  it('turns Anthropic events split across network chunks into OpenAI chunks, with the usage chunk last', async () => {
    const answer = anthropicFormat.build({
      model: 'claude',
      text: 'hello there',
      toolCalls: [{ id: 'toolu_1', name: 'f', arguments: { x: 1 } }],
      usage: { input: 3, output: 4 },
    });
    const events = anthropicFormat.toSse(answer, { includeUsage: true, chunkText: true }).join('');
    const out = await collect(anthropicStreamToOpenai(pieces(events)));
    const aggregator = openaiFormat.aggregator({ includeUsage: true });
    for (const e of createSseParser().feed(out)) aggregator.push(e);
    expect(aggregator.finished()).toBe(true);
    expect(aggregator.result()).toMatchObject({
      choices: [
        {
          message: {
            content: 'hello there',
            tool_calls: [{ id: 'toolu_1', function: { name: 'f', arguments: '{"x":1}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 4 },
    });
  });

  it('turns OpenAI chunks into Anthropic events, one block per text run and per tool call', async () => {
    const completion = openaiFormat.build({
      model: 'gpt',
      text: 'on it',
      toolCalls: [
        { id: 'call_1', name: 'f', arguments: { x: 1 } },
        { id: 'call_2', name: 'g', arguments: {} },
      ],
      usage: { input: 8, output: 2 },
    });
    const chunks = openaiFormat.toSse(completion, { includeUsage: true, chunkText: true }).join('');
    const out = await collect(openaiStreamToAnthropic(pieces(chunks, 5)));
    const parsed = createSseParser().feed(out);
    expect(parsed.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const aggregator = anthropicFormat.aggregator({ includeUsage: true });
    for (const e of parsed) aggregator.push(e);
    expect(aggregator.finished()).toBe(true);
    expect(aggregator.result()).toMatchObject({
      content: [
        { type: 'text', text: 'on it' },
        { type: 'tool_use', id: 'call_1', name: 'f', input: { x: 1 } },
        { type: 'tool_use', id: 'call_2', name: 'g', input: {} },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 8, output_tokens: 2 },
    });
  });

  it("passes a provider's mid-stream error on in the client's format, and never claims the stream finished", async () => {
    const anthropicBroken =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m","model":"c","usage":{}}}\n\n' +
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"busy"}}\n\n';
    const openaiOut = createSseParser().feed(await collect(anthropicStreamToOpenai(pieces(anthropicBroken))));
    expect(JSON.parse(openaiOut.at(-1)!.data)).toEqual({
      error: { message: 'busy', type: 'overloaded_error', code: 'overloaded_error' },
    });
    expect(openaiOut.some((e) => e.data === '[DONE]')).toBe(false);

    const openaiBroken =
      'data: {"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: {"error":{"message":"gone","type":"server_error"}}\n\n';
    const anthropicOut = createSseParser().feed(await collect(openaiStreamToAnthropic(pieces(openaiBroken))));
    expect(anthropicOut.at(-1)).toMatchObject({ event: 'error' });
    expect(JSON.parse(anthropicOut.at(-1)!.data)).toEqual({
      type: 'error',
      error: { type: 'server_error', message: 'gone' },
    });
    expect(anthropicOut.some((e) => e.event === 'message_stop')).toBe(false);
  });
});
