import { describe, expect, it } from 'vitest';
import { indexed, ioOf, isoOfMs, kindOf, messageFrom, modelOf, normalizeProvider, normalizeSpan, providerCostOf, providerOf, statusOf, toolNameOf, usageOf } from './normalize.js';
import type { Attributes, OtlpSpan } from './otlp-decode.js';

describe('kindOf', () => {
  const cases: [string, Attributes, string, string][] = [
    ['OpenInference LLM', { 'openinference.span.kind': 'LLM' }, 'ChatCompletion', 'llm'],
    ['OpenInference reranker', { 'openinference.span.kind': 'RERANKER' }, 'rerank', 'retriever'],
    ['OpenInference guardrail', { 'openinference.span.kind': 'GUARDRAIL' }, 'g', 'guardrail'],
    ['OpenInference evaluator', { 'openinference.span.kind': 'EVALUATOR' }, 'e', 'evaluator'],
    ['OpenInference unknown', { 'openinference.span.kind': 'PROMPT' }, 'p', 'other'],
    ['GenAI chat', { 'gen_ai.operation.name': 'chat' }, 'chat gpt-4o', 'llm'],
    ['GenAI generate_content', { 'gen_ai.operation.name': 'generate_content' }, 'x', 'llm'],
    ['GenAI embeddings', { 'gen_ai.operation.name': 'embeddings' }, 'x', 'embedding'],
    ['GenAI execute_tool', { 'gen_ai.operation.name': 'execute_tool' }, 'x', 'tool'],
    ['GenAI invoke_agent', { 'gen_ai.operation.name': 'invoke_agent' }, 'x', 'agent'],
    ['GenAI without operation (older)', { 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4' }, 'openai.chat', 'llm'],
    ['AI SDK provider call', { 'ai.operationId': 'ai.generateText.doGenerate', 'gen_ai.system': 'openai.chat' }, 'ai.generateText.doGenerate', 'llm'],
    ['AI SDK stream call', { 'operation.name': 'ai.streamText.doStream my-fn', 'ai.model.id': 'gpt-4o' }, 'ai.streamText.doStream', 'llm'],
    ['AI SDK operation', { 'ai.operationId': 'ai.generateText', 'ai.model.id': 'gpt-4o' }, 'ai.generateText', 'chain'],
    ['AI SDK embed call', { 'ai.operationId': 'ai.embed.doEmbed' }, 'ai.embed.doEmbed', 'embedding'],
    ['AI SDK tool call', { 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': 'weather' }, 'ai.toolCall', 'tool'],
    ['OpenLLMetry workflow', { 'traceloop.span.kind': 'workflow' }, 'plan.workflow', 'chain'],
    ['OpenLLMetry tool', { 'traceloop.span.kind': 'tool' }, 'search.tool', 'tool'],
    ['OpenLLMetry model call', { 'gen_ai.system': 'Anthropic', 'llm.request.type': 'chat' }, 'anthropic.chat', 'llm'],
    ['plain span', { 'http.method': 'GET' }, 'GET /', 'other'],
  ];
  for (const [name, attrs, spanName, kind] of cases) it(name, () => expect(kindOf(attrs, spanName)).toBe(kind));
});

describe('providers and models', () => {
  const providers: [string, string][] = [
    ['openai', 'openai'],
    ['OpenAI', 'openai'],
    ['openai.chat', 'openai'],
    ['openai.responses', 'openai'],
    ['anthropic.messages', 'anthropic'],
    ['gcp.gemini', 'google'],
    ['gcp.vertex_ai', 'google'],
    ['google.generative-ai', 'google'],
    ['az.ai.openai', 'azure'],
    ['aws.bedrock', 'bedrock'],
  ];
  for (const [raw, expected] of providers) it(`${raw} → ${expected}`, () => expect(normalizeProvider(raw)).toBe(expected));

  it('prefers the current GenAI name over the older one', () => {
    expect(providerOf({ 'gen_ai.provider.name': 'anthropic', 'gen_ai.system': 'openai' })).toBe('anthropic');
    expect(providerOf({ 'gen_ai.system': 'openai' })).toBe('openai');
    expect(providerOf({ 'llm.provider': 'openai', 'llm.system': 'openai' })).toBe('openai');
    expect(providerOf({ 'ai.model.provider': 'openai.chat' })).toBe('openai');
    expect(providerOf({})).toBeNull();
  });
  it('prefers the response model (the snapshot that answered) over the requested one', () => {
    expect(modelOf({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o-2024-08-06' })).toBe('gpt-4o-2024-08-06');
    expect(modelOf({ 'llm.model_name': 'gpt-4o-mini' })).toBe('gpt-4o-mini');
    expect(modelOf({ 'ai.model.id': 'gpt-4o', 'ai.response.model': 'gpt-4o-2024-11-20' })).toBe('gpt-4o-2024-11-20');
    expect(modelOf({ 'embedding.model_name': 'text-embedding-3-small' })).toBe('text-embedding-3-small');
  });
});

describe('usageOf', () => {
  const cases: [string, Attributes, object][] = [
    [
      'GenAI current',
      {
        'gen_ai.usage.input_tokens': 100,
        'gen_ai.usage.output_tokens': 20,
        'gen_ai.usage.cache_read.input_tokens': 40,
        'gen_ai.usage.cache_creation.input_tokens': 10,
        'gen_ai.usage.reasoning.output_tokens': 5,
      },
      { input: 100, output: 20, cacheRead: 40, cacheWrite: 10, reasoning: 5 },
    ],
    [
      'GenAI older names',
      { 'gen_ai.usage.prompt_tokens': '100', 'gen_ai.usage.completion_tokens': 20, 'gen_ai.usage.cache_read_input_tokens': 3, 'gen_ai.usage.cache_creation_input_tokens': 4 },
      { input: 100, output: 20, cacheRead: 3, cacheWrite: 4, reasoning: null },
    ],
    [
      'OpenInference',
      {
        'llm.token_count.prompt': 100,
        'llm.token_count.completion': 20,
        'llm.token_count.total': 120,
        'llm.token_count.prompt_details.cache_read': 30,
        'llm.token_count.prompt_details.cache_write': 2,
        'llm.token_count.completion_details.reasoning': 7,
      },
      { input: 100, output: 20, cacheRead: 30, cacheWrite: 2, reasoning: 7 },
    ],
    [
      'AI SDK 5+',
      { 'ai.usage.inputTokens': 100, 'ai.usage.outputTokens': 20, 'ai.usage.cachedInputTokens': 8, 'ai.usage.reasoningTokens': 6 },
      { input: 100, output: 20, cacheRead: 8, cacheWrite: null, reasoning: 6 },
    ],
    ['AI SDK 4', { 'ai.usage.promptTokens': 100, 'ai.usage.completionTokens': 20 }, { input: 100, output: 20, cacheRead: null, cacheWrite: null, reasoning: null }],
    ['nonsense is unknown, not zero', { 'gen_ai.usage.input_tokens': 'lots', 'gen_ai.usage.output_tokens': -3 }, { input: null, output: null, cacheRead: null, cacheWrite: null, reasoning: null }],
  ];
  for (const [name, attrs, expected] of cases) it(name, () => expect(usageOf(attrs)).toEqual(expected));

  it('reads a reported cost in USD as micro-USD', () => {
    expect(providerCostOf({ 'llm.cost.total': 0.00042 })).toBe(420);
    expect(providerCostOf({ 'gen_ai.usage.cost': '0.0015' })).toBe(1500);
    expect(providerCostOf({})).toBeNull();
  });
});

describe('messages', () => {
  it('flattened lists group by index, in numeric order', () => {
    expect(indexed({ 'p.10.a': 1, 'p.2.a': 2, 'p.2.b': 3, other: 4 }, 'p.')).toEqual([{ a: 2, b: 3 }, { a: 1 }]);
  });

  it('OpenInference input and output messages, with tool calls', () => {
    const io = ioOf('llm', {
      'llm.input_messages.0.message.role': 'system',
      'llm.input_messages.0.message.content': 'Be brief.',
      'llm.input_messages.1.message.role': 'user',
      'llm.input_messages.1.message.contents.0.message_content.type': 'text',
      'llm.input_messages.1.message.contents.0.message_content.text': 'Weather in Oslo?',
      'llm.output_messages.0.message.role': 'assistant',
      'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'call_1',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'weather',
      'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"city":"Oslo"}',
    }, []);
    expect(io.input).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Oslo?' },
    ]);
    expect(io.output).toEqual([{ role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'weather', arguments: { city: 'Oslo' } }] }]);
  });

  it('GenAI current: parts, system instructions, tool call responses', () => {
    const io = ioOf('llm', {
      'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'Be brief.' }]),
      'gen_ai.input.messages': JSON.stringify([
        { role: 'user', parts: [{ type: 'text', content: 'Weather?' }] },
        { role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'weather', arguments: { city: 'Oslo' } }] },
        { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: 'rain' }] },
      ]),
      'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Rain.' }], finish_reason: 'stop' }]),
    }, []);
    expect(io.input).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'weather', arguments: { city: 'Oslo' } }] },
      { role: 'tool', content: 'rain', toolCallId: 'c1' },
    ]);
    expect(io.output).toEqual([{ role: 'assistant', content: 'Rain.' }]);
  });

  it('GenAI older indexed attributes (OpenLLMetry)', () => {
    const io = ioOf('llm', {
      'gen_ai.prompt.0.role': 'user',
      'gen_ai.prompt.0.content': 'Hi',
      'gen_ai.completion.0.role': 'assistant',
      'gen_ai.completion.0.content': '',
      'gen_ai.completion.0.tool_calls.0.id': 'c9',
      'gen_ai.completion.0.tool_calls.0.name': 'search',
      'gen_ai.completion.0.tool_calls.0.arguments': '{"q":"x"}',
    }, []);
    expect(io.input).toEqual([{ role: 'user', content: 'Hi' }]);
    expect(io.output).toEqual([{ role: 'assistant', content: '', toolCalls: [{ id: 'c9', name: 'search', arguments: { q: 'x' } }] }]);
  });

  it('GenAI span events, older spec', () => {
    const io = ioOf('llm', {}, [
      { name: 'gen_ai.system.message', timeNs: 1, attributes: { content: 'Be brief.' } },
      { name: 'gen_ai.user.message', timeNs: 2, attributes: { content: 'Hi' } },
      { name: 'gen_ai.choice', timeNs: 3, attributes: { message: JSON.stringify({ role: 'assistant', content: 'Hello' }) } },
    ]);
    expect(io.input).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
    expect(io.output).toEqual([{ role: 'assistant', content: 'Hello' }]);
  });

  it('GenAI content events holding JSON', () => {
    const io = ioOf('llm', {}, [
      { name: 'gen_ai.content.prompt', timeNs: 1, attributes: { 'gen_ai.prompt': JSON.stringify([{ role: 'user', content: 'Hi' }]) } },
      { name: 'gen_ai.content.completion', timeNs: 2, attributes: { 'gen_ai.completion': JSON.stringify([{ role: 'assistant', content: 'Yo' }]) } },
    ]);
    expect(io).toEqual({ input: [{ role: 'user', content: 'Hi' }], output: [{ role: 'assistant', content: 'Yo' }] });
  });

  it('AI SDK prompt messages with parts, response text and tool calls', () => {
    const io = ioOf('llm', {
      'ai.prompt.messages': JSON.stringify([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
        { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 't1', toolName: 'weather', input: { city: 'Oslo' } }] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 't1', toolName: 'weather', output: { type: 'json', value: { temp: 3 } } }] },
      ]),
      'ai.response.text': 'Cold.',
      'ai.response.toolCalls': JSON.stringify([{ toolCallId: 't2', toolName: 'map', input: '{"city":"Oslo"}' }]),
    }, []);
    expect(io.input).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'weather', arguments: { city: 'Oslo' } }] },
      { role: 'tool', content: { type: 'json', value: { temp: 3 } }, toolCallId: 't1' },
    ]);
    expect(io.output).toEqual([{ role: 'assistant', content: 'Cold.', toolCalls: [{ id: 't2', name: 'map', arguments: { city: 'Oslo' } }] }]);
  });

  it('AI SDK operation prompt (system + prompt)', () => {
    expect(ioOf('chain', { 'ai.prompt': JSON.stringify({ system: 'S', prompt: 'P' }) }, []).input).toEqual([
      { role: 'system', content: 'S' },
      { role: 'user', content: 'P' },
    ]);
  });

  it('OpenAI-shaped messages', () => {
    expect(messageFrom({ role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }] })).toEqual({
      role: 'assistant',
      content: '',
      toolCalls: [{ id: 'a', name: 'f', arguments: {} }],
    });
  });

  it('tool spans: arguments and result from each convention', () => {
    expect(ioOf('tool', { 'gen_ai.tool.call.arguments': '{"a":1}', 'gen_ai.tool.call.result': '{"ok":true}' }, [])).toEqual({ input: { a: 1 }, output: { ok: true } });
    expect(ioOf('tool', { 'ai.toolCall.args': '{"a":1}', 'ai.toolCall.result': '"done"' }, [])).toEqual({ input: { a: 1 }, output: '"done"' });
    expect(ioOf('tool', { 'input.value': '{"a":1}', 'input.mime_type': 'application/json', 'output.value': 'plain', 'output.mime_type': 'text/plain' }, [])).toEqual({
      input: { a: 1 },
      output: 'plain',
    });
    expect(toolNameOf({ 'gen_ai.tool.name': 'weather' })).toBe('weather');
    expect(toolNameOf({ 'tool.name': 'search' })).toBe('search');
    expect(toolNameOf({ 'ai.toolCall.name': 'calc' })).toBe('calc');
  });
});

describe('statusOf', () => {
  it('error with type and message from the exception event', () => {
    expect(
      statusOf({
        statusCode: 2,
        statusMessage: '',
        attributes: {},
        events: [{ name: 'exception', timeNs: 1, attributes: { 'exception.type': 'RateLimitError', 'exception.message': '429 slow down' } }],
      }),
    ).toEqual({ status: 'error', statusMessage: '429 slow down', errorType: 'RateLimitError' });
  });
  it('error.type attribute wins; ok and unset', () => {
    expect(statusOf({ statusCode: 2, statusMessage: 'boom', attributes: { 'error.type': '500' }, events: [] })).toEqual({ status: 'error', statusMessage: 'boom', errorType: '500' });
    expect(statusOf({ statusCode: 1, statusMessage: '', attributes: {}, events: [] }).status).toBe('ok');
    expect(statusOf({ statusCode: 0, statusMessage: '', attributes: {}, events: [] })).toEqual({ status: 'unset', statusMessage: null, errorType: null });
  });
});

describe('normalizeSpan', () => {
  const base: OtlpSpan = {
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    parentSpanId: 'c'.repeat(16),
    name: 'ai.generateText',
    kind: 1,
    startNs: 1_760_000_000_123_000_000n,
    endNs: 1_760_000_002_623_000_001n,
    attributes: {},
    events: [],
    statusCode: 0,
    statusMessage: '',
    resource: { 'service.name': 'support-bot', 'hangar.agent': 'triage' },
    scopeName: 'ai',
  };

  it('an AI SDK operation keeps no tokens (its provider calls carry them) and moves content out of attributes', () => {
    const s = normalizeSpan({
      ...base,
      attributes: {
        'ai.operationId': 'ai.generateText',
        'ai.model.id': 'gpt-4o-mini',
        'ai.model.provider': 'openai.chat',
        'ai.usage.inputTokens': 10,
        'ai.usage.outputTokens': 5,
        'ai.prompt': '{"prompt":"hi"}',
        'ai.response.text': 'hello',
      },
    });
    expect(s).toMatchObject({
      kind: 'chain',
      provider: 'openai',
      model: 'gpt-4o-mini',
      usage: { input: null, output: null },
      serviceName: 'support-bot',
      agent: 'triage',
      startTime: '2025-10-09T08:53:20.123Z',
      endTime: '2025-10-09T08:53:22.623Z',
      durationMs: 2500.000001,
      input: [{ role: 'user', content: 'hi' }],
      output: [{ role: 'assistant', content: 'hello' }],
      source: 'otlp',
    });
    expect(Object.keys(s.attributes).sort()).toEqual(['ai.model.id', 'ai.model.provider', 'ai.operationId', 'ai.usage.inputTokens', 'ai.usage.outputTokens', 'otel.scope.name']);
  });
});

describe('isoOfMs', () => {
  it('writes what Date.toISOString writes, at the edges of days and years and outside the fast range', () => {
    const times = [0, 1, 999, 86_399_999, 86_400_000, 951_782_400_000, 1_760_000_000_123, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -1, 0.5];
    for (let i = 0; i < 2000; i++) times.push(Math.floor((i * 126_701_150_399_999.5) % 253_402_300_800_000));
    for (const ms of times) expect(isoOfMs(ms)).toBe(new Date(ms).toISOString());
  });
});
