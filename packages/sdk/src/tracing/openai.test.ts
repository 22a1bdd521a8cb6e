import OpenAI from 'openai';
import { SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { wrapOpenAI } from './openai.js';
import { withSpan } from './spans.js';
import { USAGE, attrs, jsonAttr, recordSpans, startFakeProvider, type FakeProvider } from './test-support.js';

const recorded = recordSpans();
let provider: FakeProvider;
let openai: OpenAI;
let raw: OpenAI;

beforeAll(async () => {
  provider = await startFakeProvider();
  raw = new OpenAI({ baseURL: `${provider.url}/v1`, apiKey: 'sk-test', maxRetries: 0 });
  openai = wrapOpenAI(raw);
});
afterAll(() => provider.close());
beforeEach(() => recorded.reset());

const port = () => Number(new URL(provider.url).port);

describe('wrapOpenAI', () => {
  it('records a chat completion with GenAI attributes, usage and messages', async () => {
    const reply = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      temperature: 0.2,
      max_tokens: 50,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello there' },
      ],
    });
    expect(reply.choices[0]!.message.content).toBe('echo: Hello there');

    const [span, ...others] = recorded.spans();
    expect(others).toHaveLength(0);
    expect(span!.name).toBe('chat gpt-4o-mini');
    expect(attrs(span!)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.response.model': 'gpt-4o-mini-2025',
      'gen_ai.response.id': 'chatcmpl-1',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': USAGE.input,
      'gen_ai.usage.output_tokens': USAGE.output,
      'gen_ai.usage.cache_read.input_tokens': USAGE.cacheRead,
      'gen_ai.usage.reasoning.output_tokens': USAGE.reasoning,
      'server.address': '127.0.0.1',
      'server.port': port(),
    });
    expect(jsonAttr(span!, 'gen_ai.input.messages')).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Hello there' }] },
    ]);
    expect(jsonAttr(span!, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'echo: Hello there' }], finish_reason: 'stop' },
    ]);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records tool calls asked for and tool results sent back', async () => {
    const reply = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
        },
      ],
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_0',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_0', content: 'rainy' },
      ],
    });
    expect(reply.choices[0]!.message.tool_calls?.[0]?.id).toBe('call_1');
    const [span] = recorded.spans();
    expect(jsonAttr(span!, 'gen_ai.input.messages')).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather?' }] },
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_0', name: 'get_weather', arguments: { city: 'Oslo' } }],
      },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_0', response: 'rainy' }] },
    ]);
    expect(jsonAttr(span!, 'gen_ai.output.messages')).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }],
        finish_reason: 'tool_calls',
      },
    ]);
  });

  it('streams exactly what the unwrapped client streams, and ends the span with usage when consumed', async () => {
    const request = {
      model: 'gpt-4o-mini',
      stream: true as const,
      stream_options: { include_usage: true },
      messages: [{ role: 'user' as const, content: 'stream me please' }],
    };
    const collect = async (client: OpenAI) => {
      const out: unknown[] = [];
      for await (const chunk of await client.chat.completions.create(request)) out.push(chunk);
      return out;
    };
    const plain = await collect(raw);
    recorded.reset();
    const stream = await openai.chat.completions.create(request);
    expect(recorded.spans()).toHaveLength(0); // not over until the stream is read
    const wrapped: unknown[] = [];
    for await (const chunk of stream) wrapped.push(chunk);
    expect(wrapped).toEqual(plain);

    const [span] = recorded.spans();
    expect(attrs(span!)).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.model': 'gpt-4o-mini-2025',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': USAGE.input,
      'gen_ai.usage.output_tokens': USAGE.output,
    });
    expect(span!.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(span!.attributes['hangar.stream.aborted']).toBeUndefined();
    expect(jsonAttr(span!, 'gen_ai.output.messages')).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'text', content: 'echo: stream me please' }],
        finish_reason: 'stop',
      },
    ]);
  });

  it('assembles streamed tool-call arguments', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      tools: [
        {
          type: 'function',
          function: { name: 'get_weather', parameters: { type: 'object', properties: {} } },
        },
      ],
      messages: [{ role: 'user', content: 'Weather?' }],
    });
    for await (const _ of stream) {
      // drain
    }
    const [span] = recorded.spans();
    expect(jsonAttr(span!, 'gen_ai.output.messages')).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }],
        finish_reason: 'tool_calls',
      },
    ]);
  });

  it('ends the span, marked aborted, when the caller stops reading a stream', async () => {
    const stream = await openai.chat.completions.create({
      model: 'slow',
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content === 'first') break;
    }
    const [span] = recorded.spans();
    expect(span!.attributes['hangar.stream.aborted']).toBe(true);
    expect(stream.controller.signal.aborted).toBe(true); // the request itself was stopped
  });

  it('keeps withResponse() working on the returned promise', async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('echo: hi');
    expect(response.status).toBe(200);
    expect(recorded.spans()).toHaveLength(1);
  });

  it('records a failed call as an error span and throws the original error', async () => {
    const error = await openai.chat.completions
      .create({ model: 'rate-limited', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const [span] = recorded.spans();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    expect(span!.attributes['error.type']).toBe('RateLimitError');
    expect(span!.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('records embeddings', async () => {
    const res = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    expect(res.data[0]!.embedding).toHaveLength(4);
    const [span] = recorded.spans();
    expect(span!.name).toBe('embeddings text-embedding-3-small');
    expect(attrs(span!)).toMatchObject({
      'gen_ai.operation.name': 'embeddings',
      'gen_ai.usage.input_tokens': 4,
      'gen_ai.embeddings.dimension.count': 4,
    });
  });

  it('records the Responses API, streaming and not', async () => {
    const res = await openai.responses.create({
      model: 'gpt-4.1',
      instructions: 'Be brief.',
      input: 'hi there',
    });
    expect(res.output_text).toBe('echo: hi there');
    const stream = await openai.responses.create({ model: 'gpt-4.1', input: 'again', stream: true });
    for await (const _ of stream) {
      // drain
    }
    const [plain, streamed] = recorded.spans();
    expect(attrs(plain!)).toMatchObject({
      'gen_ai.response.id': 'resp_1',
      'gen_ai.usage.input_tokens': USAGE.input,
      'gen_ai.usage.cache_read.input_tokens': USAGE.cacheRead,
    });
    expect(jsonAttr(plain!, 'gen_ai.system_instructions')).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect(jsonAttr(plain!, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'echo: hi there' }], finish_reason: 'stop' },
    ]);
    expect(jsonAttr(streamed!, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'echo: again' }], finish_reason: 'stop' },
    ]);
    expect(streamed!.attributes['gen_ai.usage.output_tokens']).toBe(USAGE.output);
  });

  it('nests under the active span and leaves message content out when asked', async () => {
    const quiet = wrapOpenAI(raw, { recordContent: false });
    await withSpan('agent turn', () =>
      quiet.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'secret' }],
      }),
    );
    const spans = recorded.spans();
    const parent = spans.find((s) => s.name === 'agent turn')!;
    const child = spans.find((s) => s.name === 'chat gpt-4o-mini')!;
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(child.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(child.attributes['gen_ai.output.messages']).toBeUndefined();
    expect(child.attributes['gen_ai.usage.input_tokens']).toBe(USAGE.input);
  });

  it('cuts long texts in recorded messages, keeping valid JSON, and flags the span', async () => {
    const small = wrapOpenAI(raw, { maxContentChars: 100 });
    const long = 'x'.repeat(5000);
    const reply = await small.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: long }],
    });
    expect(reply.choices[0]!.message.content).toBe(`echo: ${long}`); // the call itself is untouched
    const [span] = recorded.spans();
    expect(jsonAttr(span!, 'gen_ai.input.messages')).toEqual([
      { role: 'user', parts: [{ type: 'text', content: `${'x'.repeat(100)}…[truncated 4900 chars]` }] },
    ]);
    expect(span!.attributes['hangar.content.truncated']).toBe(true);
    expect(String(span!.attributes['gen_ai.output.messages']).length).toBeLessThan(300);
  });

  it('leaves the rest of the client alone', async () => {
    expect(openai.chat).toBe(openai.chat);
    expect(openai.baseURL).toBe(raw.baseURL);
    const models = await openai.models.list().catch((e: unknown) => e);
    expect(models).toBeInstanceOf(OpenAI.NotFoundError); // passed through, untraced
    expect(recorded.spans()).toHaveLength(0);
  });
});
