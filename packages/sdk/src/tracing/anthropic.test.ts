import Anthropic from '@anthropic-ai/sdk';
import { SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { wrapAnthropic } from './anthropic.js';
import { USAGE, attrs, jsonAttr, recordSpans, startFakeProvider, type FakeProvider } from './test-support.js';

const recorded = recordSpans();
let provider: FakeProvider;
let raw: Anthropic;
let anthropic: Anthropic;

beforeAll(async () => {
  provider = await startFakeProvider();
  raw = new Anthropic({ baseURL: provider.url, apiKey: 'sk-ant-test', maxRetries: 0 });
  anthropic = wrapAnthropic(raw);
});
afterAll(() => provider.close());
beforeEach(() => recorded.reset());

const tools = [{ name: 'get_weather', input_schema: { type: 'object' as const, properties: {} } }];
/** GenAI counts every input token; Anthropic's input_tokens leaves out cache reads and writes. */
const ALL_INPUT = USAGE.input + USAGE.cacheRead + USAGE.cacheWrite;

describe('wrapAnthropic', () => {
  it('records a message with GenAI attributes, cache usage, system instructions and messages', async () => {
    const msg = await anthropic.messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello there' }],
    });
    expect(msg.content).toEqual([{ type: 'text', text: 'echo: Hello there' }]);

    const spans = recorded.spans();
    expect(spans).toHaveLength(1); // the client's own spans are off: one span per call
    const span = spans[0]!;
    expect(span.name).toBe('chat claude-sonnet-5-5');
    expect(attrs(span)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.system': 'anthropic',
      'gen_ai.request.model': 'claude-sonnet-5-5',
      'gen_ai.request.max_tokens': 100,
      'gen_ai.response.model': 'claude-sonnet-5-5-2025',
      'gen_ai.response.id': 'msg_1',
      'gen_ai.response.finish_reasons': ['end_turn'],
      'gen_ai.usage.input_tokens': ALL_INPUT,
      'gen_ai.usage.output_tokens': USAGE.output,
      'gen_ai.usage.cache_read.input_tokens': USAGE.cacheRead,
      'gen_ai.usage.cache_creation.input_tokens': USAGE.cacheWrite,
    });
    expect(jsonAttr(span, 'gen_ai.system_instructions')).toEqual([{ type: 'text', content: 'Be brief.' }]);
    expect(jsonAttr(span, 'gen_ai.input.messages')).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Hello there' }] },
    ]);
    expect(jsonAttr(span, 'gen_ai.output.messages')).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'text', content: 'echo: Hello there' }],
        finish_reason: 'end_turn',
      },
    ]);
  });

  it('records tool use and tool results', async () => {
    await anthropic.messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 100,
      tools,
      messages: [
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_0', name: 'get_weather', input: { city: 'Oslo' } }],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_0', content: [{ type: 'text', text: 'rainy' }] },
          ],
        },
      ],
    });
    const [span] = recorded.spans();
    expect(jsonAttr(span!, 'gen_ai.input.messages')).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'Weather?' }] },
      {
        role: 'assistant',
        parts: [{ type: 'tool_call', id: 'toolu_0', name: 'get_weather', arguments: { city: 'Oslo' } }],
      },
      { role: 'user', parts: [{ type: 'tool_call_response', id: 'toolu_0', response: 'rainy' }] },
    ]);
    expect(jsonAttr(span!, 'gen_ai.output.messages')).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Let me check.' },
          { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris' } },
        ],
        finish_reason: 'tool_use',
      },
    ]);
  });

  it('streams exactly what the unwrapped client streams, and rebuilds the message for the span', async () => {
    const request = {
      model: 'claude-sonnet-5-5',
      max_tokens: 100,
      stream: true as const,
      tools,
      messages: [{ role: 'user' as const, content: 'Weather?' }],
    };
    const plain: unknown[] = [];
    for await (const event of await raw.messages.create(request)) plain.push(event);
    recorded.reset();
    const wrapped: unknown[] = [];
    for await (const event of await anthropic.messages.create(request)) wrapped.push(event);
    expect(wrapped).toEqual(plain);

    const [span] = recorded.spans();
    expect(attrs(span!)).toMatchObject({
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['tool_use'],
      'gen_ai.usage.input_tokens': ALL_INPUT,
      'gen_ai.usage.output_tokens': USAGE.output,
    });
    expect(jsonAttr(span!, 'gen_ai.output.messages')).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Let me check.' },
          { type: 'tool_call', id: 'toolu_1', name: 'get_weather', arguments: { city: 'Paris' } },
        ],
        finish_reason: 'tool_use',
      },
    ]);
  });

  it('traces messages.stream() once, ending when the final message is in', async () => {
    const stream = anthropic.messages.stream({
      model: 'claude-sonnet-5-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('echo: hi');
    expect(final.usage.output_tokens).toBe(USAGE.output);
    const spans = recorded.spans();
    expect(spans).toHaveLength(1);
    expect(jsonAttr(spans[0]!, 'gen_ai.output.messages')).toEqual([
      { role: 'assistant', parts: [{ type: 'text', content: 'echo: hi' }], finish_reason: 'end_turn' },
    ]);
  });

  it('records a failed call as an error span and throws the original error', async () => {
    const error = await anthropic.messages
      .create({ model: 'rate-limited', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const [span] = recorded.spans();
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes['error.type']).toBe('RateLimitError');
  });

  it('without the wrapper, the client traces itself, without content: the wrapper is what adds messages', async () => {
    await raw.messages.create({
      model: 'claude-sonnet-5-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const spans = recorded.spans();
    expect(spans.length).toBeGreaterThan(0);
    expect(spans.every((s) => s.attributes['gen_ai.output.messages'] === undefined)).toBe(true);
  });
});
