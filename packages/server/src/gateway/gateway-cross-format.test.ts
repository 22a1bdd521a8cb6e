import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, type TestApp } from '../test-app.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

const PROJECT = 'proj_default';

/**
 * OpenAI-format calls answered by an Anthropic provider and Anthropic-format calls answered by an
 * OpenAI one: the real clients against Hangar on a socket, the fake provider behind it speaking each
 * wire format for real.
 */
describe('cross-format routing through the real OpenAI and Anthropic clients', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<TestApp['listen']>>;
  let fake: FakeUpstream;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    t = await createTestApp('sqlite', { secret: 'test-secret-0123456789abcdef' });
    server = await t.listen();
    const { url } = server;
    openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: url, apiKey: ADMIN_KEY, maxRetries: 0 });
    const put = async (path: string, body: unknown) =>
      expect((await t.request('PUT', path, { body })).status).toBe(200);
    await put('/v1/gateway/providers/fakeai', {
      type: 'openai',
      baseUrl: fake.openaiBaseUrl,
      apiKey: 'sk-oai',
    });
    await put('/v1/gateway/providers/fakeant', { type: 'anthropic', baseUrl: fake.url, apiKey: 'sk-ant' });
    await put('/v1/gateway/providers/local', { type: 'openai-compatible', baseUrl: fake.openaiBaseUrl });
    await put('/v1/gateway/routes/claude', { targets: ['fakeant/claude-sonnet-4-5'] });
    await put('/v1/gateway/routes/gpt', { targets: ['fakeai/gpt-4o-mini'] });
  });
  afterAll(async () => {
    await server.close();
    await t.close();
    await fake.close();
  });
  afterEach(() => {
    fake.queue();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Recorded = Record<string, any> & { traceId: string; spanId: string };
  const lastCall = async () => {
    await t.gateway.recorded();
    const events = (await t.journal.read(PROJECT, 'gateway', 0, 1000)).events;
    return events.at(-1)!.payload as Recorded;
  };
  const spanOf = async (call: Recorded) =>
    (await t.traces.trace(PROJECT, call.traceId)).find((s) => s.spanId === call.spanId)!;
  const upstreamSince = (before: number) => fake.requests.slice(before);

  const weather: OpenAI.ChatCompletionTool[] = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        description: 'Weather in a city',
        parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
      },
    },
  ];
  const weatherTool: Anthropic.Tool[] = [
    {
      name: 'get_weather',
      description: 'Weather in a city',
      input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  ];

  describe('OpenAI client → Anthropic provider', () => {
    it('translates the request and the answer, and records the provider, usage and cost of Claude', async () => {
      const before = fake.requests.length;
      const res = await openai.chat.completions
        .create({
          model: 'claude',
          messages: [
            { role: 'system', content: 'be brief' },
            { role: 'user', content: 'hello claude' },
          ],
          temperature: 0.5,
          top_p: 0.9,
          stop: ['END'],
          user: 'u-42',
        })
        .withResponse();
      expect(res.data.choices[0]!.message.content).toBe('fake: hello claude');
      expect(res.data.choices[0]!.finish_reason).toBe('stop');
      // Anthropic's 12 uncached + 2 cache-read input tokens are OpenAI's 14 prompt tokens, 2 of them cached
      expect(res.data.usage).toMatchObject({
        prompt_tokens: 14,
        completion_tokens: 9,
        total_tokens: 23,
        prompt_tokens_details: { cached_tokens: 2 },
      });
      expect(res.response.headers.get('x-hangar-target')).toBe('fakeant/claude-sonnet-4-5');

      const [upstream] = upstreamSince(before);
      expect(upstream!.path).toBe('/v1/messages');
      expect(upstream!.headers['x-api-key']).toBe('sk-ant');
      expect(upstream!.headers['anthropic-version']).toBe('2023-06-01');
      expect(upstream!.body).toEqual({
        model: 'claude-sonnet-4-5',
        system: 'be brief',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'hello claude' }] }],
        max_tokens: 4096,
        temperature: 0.5,
        top_p: 0.9,
        stop_sequences: ['END'],
        metadata: { user_id: 'u-42' },
      });

      const call = await lastCall();
      expect(call).toMatchObject({
        status: 'ok',
        endpoint: '/v1/chat/completions',
        provider: 'fakeant',
        target: 'fakeant/claude-sonnet-4-5',
        translation: { from: 'openai', to: 'anthropic' },
        usage: { input: 14, output: 9, cacheRead: 2, cacheWrite: 0 },
        response: { object: 'chat.completion', choices: [{ message: { content: 'fake: hello claude' } }] },
      });
      const span = await spanOf(call);
      expect(span).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-5', status: 'ok' });
      expect(span.attributes['hangar.translation']).toBe('openai-to-anthropic');

      // the same call through Anthropic's own endpoint costs the same: priced as Claude, cache reads included
      await anthropic.messages.create({
        model: 'claude',
        max_tokens: 4096,
        system: 'be brief',
        messages: [{ role: 'user', content: 'hello claude' }],
      });
      const native = await lastCall();
      expect(native.usage).toEqual(call.usage);
      expect(call.costMicros).toBeGreaterThan(0);
      expect(call.costMicros).toBe(native.costMicros);
    });

    it('streams: text deltas, the finish reason, and the usage chunk when asked', async () => {
      const stream = await openai.chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: 'stream from claude' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const pieces: string[] = [];
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta.content) pieces.push(chunk.choices[0].delta.content);
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(pieces.join('')).toBe('fake: stream from claude');
      expect(pieces.length).toBeGreaterThan(1);
      expect(finish).toBe('stop');
      expect(usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 9 });
      expect(fake.requests.at(-1)!.body.stream).toBe(true);
      const call = await lastCall();
      expect(call).toMatchObject({
        status: 'ok',
        stream: true,
        provider: 'fakeant',
        usage: { input: 14, output: 9, cacheRead: 2 },
        response: { choices: [{ message: { content: 'fake: stream from claude' }, finish_reason: 'stop' }] },
      });
      expect(call.ttftMs).toBeGreaterThan(0);

      // without include_usage the client gets no usage chunk, the journal still has it
      const quiet = await openai.chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: 'quiet' }],
        stream: true,
      });
      const seen: unknown[] = [];
      for await (const chunk of quiet) if (chunk.usage) seen.push(chunk.usage);
      expect(seen).toEqual([]);
      expect((await lastCall()).usage).toMatchObject({ input: 14, output: 9 });
    });

    it('does a tool call round trip, streaming and not', async () => {
      const before = fake.requests.length;
      const question: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'weather in Paris?' };
      const first = await openai.chat.completions.create({
        model: 'claude',
        messages: [question],
        tools: weather,
        tool_choice: 'auto',
        parallel_tool_calls: false,
      });
      const choice = first.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      const call = choice.message.tool_calls![0]!;
      expect(
        call.type === 'function' && [call.id, call.function.name, JSON.parse(call.function.arguments)],
      ).toEqual(['toolu_fake1', 'get_weather', { city: 'Paris' }]);
      expect(upstreamSince(before)[0]!.body).toMatchObject({
        tools: [
          {
            name: 'get_weather',
            description: 'Weather in a city',
            input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        ],
        tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      });

      const second = await openai.chat.completions.create({
        model: 'claude',
        tools: weather,
        messages: [
          question,
          choice.message,
          { role: 'tool', tool_call_id: call.id, content: '18°C and sunny' },
        ],
      });
      expect(second.choices[0]!.message.content).toBe('fake: the tool said 18°C and sunny');
      expect(fake.requests.at(-1)!.body.messages).toEqual([
        { role: 'user', content: [{ type: 'text', text: 'weather in Paris?' }] },
        {
          role: 'assistant',
          content: [{ type: 'tool_use', id: 'toolu_fake1', name: 'get_weather', input: { city: 'Paris' } }],
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: 'toolu_fake1', content: '18°C and sunny' }],
        },
      ]);

      const streamed = await openai.chat.completions
        .stream({ model: 'claude', messages: [question], tools: weather, tool_choice: 'required' })
        .finalChatCompletion();
      const streamedCall = streamed.choices[0]!.message.tool_calls![0]!;
      expect(streamed.choices[0]!.finish_reason).toBe('tool_calls');
      expect(
        streamedCall.type === 'function' && [
          streamedCall.function.name,
          JSON.parse(streamedCall.function.arguments),
        ],
      ).toEqual(['get_weather', { city: 'Paris' }]);
      expect(fake.requests.at(-1)!.body.tool_choice).toEqual({ type: 'any' });
      const recorded = await lastCall();
      expect(recorded.response.choices[0].message.tool_calls[0]).toMatchObject({
        id: 'toolu_fake1',
        function: { name: 'get_weather' },
      });
      expect(JSON.parse(recorded.response.choices[0].message.tool_calls[0].function.arguments)).toEqual({
        city: 'Paris',
      });
    });

    it('sends image URLs and base64 images as Anthropic image blocks', async () => {
      const png = 'iVBORw0KGgo=';
      await openai.chat.completions.create({
        model: 'claude',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what are these?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'low' } },
            ],
          },
        ],
      });
      expect(fake.requests.at(-1)!.body.messages).toEqual([
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what are these?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
      ]);
    });

    it('refuses what Anthropic cannot do with translation_unsupported, before any provider is called', async () => {
      const before = fake.requests.length;
      const refused = async (params: Record<string, unknown>, model = 'claude') => {
        const err = (await openai.chat.completions
          .create({ model, messages: [{ role: 'user', content: 'x' }], ...params } as never)
          .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
        expect(err).toBeInstanceOf(OpenAI.BadRequestError);
        return err.error as { code: string; details: { parameter: string; target: string } };
      };
      expect(await refused({ n: 2 })).toMatchObject({
        code: 'translation_unsupported',
        details: { parameter: 'n', target: 'fakeant/claude-sonnet-4-5' },
      });
      expect((await refused({ logprobs: true, top_logprobs: 3 })).details.parameter).toBe('logprobs');
      expect((await refused({ temperature: 1.5 })).details.parameter).toBe('temperature');
      expect((await refused({ response_format: { type: 'json_object' } })).details.parameter).toBe(
        'response_format',
      );
      expect((await refused({ presence_penalty: 0.5 })).details.parameter).toBe('presence_penalty');
      // defaults are not features: n 1, logprobs false, a text response format go through
      const fine = await openai.chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: 'plain' }],
        n: 1,
        logprobs: false,
        response_format: { type: 'text' },
        presence_penalty: 0,
        seed: 7,
      });
      expect(fine.choices[0]!.message.content).toBe('fake: plain');
      expect(fake.requests.length - before).toBe(1);

      // a route refuses up front if any of its targets would need the translation, whichever is up
      await t.request('PUT', '/v1/gateway/routes/mixed', {
        body: { targets: ['fakeai/gpt-4o-mini', 'fakeant/claude-sonnet-4-5'] },
      });
      expect(await refused({ n: 2 }, 'mixed')).toMatchObject({ details: { parameter: 'n' } });
      expect(fake.requests.length - before).toBe(1);
      expect(await lastCall()).toMatchObject({
        status: 'error',
        error: { code: 'translation_unsupported' },
        attempts: [],
      });
    });
  });

  describe('Anthropic client → OpenAI provider', () => {
    it('translates the request and the answer, and records the provider, usage and cost of the OpenAI model', async () => {
      const before = fake.requests.length;
      const msg = await anthropic.messages.create({
        model: 'gpt',
        max_tokens: 100,
        system: [{ type: 'text', text: 'be brief' }],
        messages: [{ role: 'user', content: 'hola' }],
        stop_sequences: ['END'],
        metadata: { user_id: 'u-7' },
        cache_control: { type: 'ephemeral' }, // OpenAI caches by itself
      });
      expect(msg).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: 'gpt-4o-mini',
        content: [{ type: 'text', text: 'fake: hola' }],
        stop_reason: 'end_turn',
        // OpenAI's 11 prompt tokens, 3 of them cached, are Anthropic's 8 uncached + 3 cache-read
        usage: {
          input_tokens: 8,
          output_tokens: 7,
          cache_read_input_tokens: 3,
          cache_creation_input_tokens: 0,
        },
      });
      const [upstream] = upstreamSince(before);
      expect(upstream!.path).toBe('/v1/chat/completions');
      expect(upstream!.headers.authorization).toBe('Bearer sk-oai');
      expect(upstream!.headers['anthropic-version']).toBeUndefined();
      expect(upstream!.body).toEqual({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'hola' },
        ],
        max_completion_tokens: 100, // OpenAI's own field; compatible servers get max_tokens (below)
        stop: ['END'],
        user: 'u-7',
      });
      const call = await lastCall();
      expect(call).toMatchObject({
        status: 'ok',
        endpoint: '/v1/messages',
        provider: 'fakeai',
        translation: { from: 'anthropic', to: 'openai' },
        usage: { input: 11, output: 7, cacheRead: 3 },
      });
      expect(await spanOf(call)).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });

      await openai.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'hola' }] });
      const native = await lastCall();
      expect(call.costMicros).toBeGreaterThan(0);
      expect(call.costMicros).toBe(native.costMicros);

      await anthropic.messages.create({
        model: 'local/llama3.1',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(fake.requests.at(-1)!.body).toMatchObject({ model: 'llama3.1', max_tokens: 50 });
    });

    it('streams events: text deltas, then the stop reason and whole usage in message_delta', async () => {
      const stream = anthropic.messages.stream({
        model: 'gpt',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'stream from gpt' }],
      });
      const texts: string[] = [];
      const types: string[] = [];
      stream.on('text', (d) => texts.push(d));
      stream.on('streamEvent', (e) => types.push(e.type));
      const final = await stream.finalMessage();
      expect(texts.join('')).toBe('fake: stream from gpt');
      expect(texts.length).toBeGreaterThan(1);
      expect(final.stop_reason).toBe('end_turn');
      expect(final.usage).toMatchObject({ input_tokens: 8, output_tokens: 7, cache_read_input_tokens: 3 });
      expect(types[0]).toBe('message_start');
      expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
      expect(fake.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
      expect(await lastCall()).toMatchObject({
        status: 'ok',
        stream: true,
        usage: { input: 11, output: 7, cacheRead: 3 },
        response: { content: [{ type: 'text', text: 'fake: stream from gpt' }], stop_reason: 'end_turn' },
      });
    });

    it('does a tool use round trip, streaming and not', async () => {
      const question: Anthropic.MessageParam = { role: 'user', content: 'weather in Paris?' };
      const first = await anthropic.messages.create({
        model: 'gpt',
        max_tokens: 100,
        messages: [question],
        tools: weatherTool,
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
      });
      expect(first.stop_reason).toBe('tool_use');
      expect(first.content).toEqual([
        { type: 'tool_use', id: 'call_fake1', name: 'get_weather', input: { city: 'Paris' } },
      ]);
      expect(fake.requests.at(-1)!.body).toMatchObject({
        tools: [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Weather in a city',
              parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            },
          },
        ],
        tool_choice: 'required',
        parallel_tool_calls: false,
      });

      const second = await anthropic.messages.create({
        model: 'gpt',
        max_tokens: 100,
        tools: weatherTool,
        messages: [
          question,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'call_fake1', content: [{ type: 'text', text: '18°C' }] },
            ],
          },
        ],
      });
      expect(second.content).toEqual([{ type: 'text', text: 'fake: the tool said 18°C' }]);
      expect(fake.requests.at(-1)!.body.messages).toEqual([
        { role: 'user', content: 'weather in Paris?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_fake1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_fake1', content: '18°C' },
      ]);

      const streamed = await anthropic.messages
        .stream({ model: 'gpt', max_tokens: 100, messages: [question], tools: weatherTool })
        .finalMessage();
      expect(streamed.stop_reason).toBe('tool_use');
      expect(streamed.content).toEqual([
        { type: 'tool_use', id: 'call_fake1', name: 'get_weather', input: { city: 'Paris' } },
      ]);
      expect((await lastCall()).response.content[0]).toMatchObject({
        type: 'tool_use',
        input: { city: 'Paris' },
      });
    });

    it('refuses what OpenAI-format models cannot do with translation_unsupported', async () => {
      const before = fake.requests.length;
      const refused = async (params: Record<string, unknown>) => {
        const err = await anthropic.messages
          .create({
            model: 'gpt',
            max_tokens: 2000,
            messages: [{ role: 'user', content: 'x' }],
            ...params,
          } as never)
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(Anthropic.BadRequestError);
        return (err as InstanceType<typeof Anthropic.APIError>).error as {
          error: { code: string; details: { parameter: string } };
        };
      };
      expect((await refused({ thinking: { type: 'enabled', budget_tokens: 1024 } })).error).toMatchObject({
        code: 'translation_unsupported',
        details: { parameter: 'thinking' },
      });
      expect((await refused({ top_k: 5 })).error.details.parameter).toBe('top_k');
      expect((await refused({ inference_geo: 'eu' })).error.details.parameter).toBe('inference_geo');
      expect((await refused({ output_config: { effort: 'high' } })).error.details.parameter).toBe(
        'output_config',
      );
      expect(
        (await refused({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] })).error.details
          .parameter,
      ).toBe('tools.0.type');
      expect(fake.requests.length).toBe(before);
    });
  });

  describe('fallbacks across formats', () => {
    it('falls back from a failing OpenAI provider (500) to Claude, and records the provider that answered', async () => {
      await t.request('PUT', '/v1/gateway/routes/sturdy', {
        body: {
          targets: ['fakeai/gpt-4o-mini', 'fakeant/claude-sonnet-4-5'],
          retry: { maxRetries: 1, initialBackoffMs: 5, maxBackoffMs: 20 },
        },
      });
      fake.queue({ status: 500 }, { status: 500 });
      const before = fake.requests.length;
      const res = await openai.chat.completions
        .create({ model: 'sturdy', messages: [{ role: 'user', content: 'anyone there?' }] })
        .withResponse();
      expect(res.data.choices[0]!.message.content).toBe('fake: anyone there?');
      expect(res.data.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 9 });
      expect(res.response.headers.get('x-hangar-target')).toBe('fakeant/claude-sonnet-4-5');
      expect(upstreamSince(before).map((r) => r.path)).toEqual([
        '/v1/chat/completions',
        '/v1/chat/completions',
        '/v1/messages',
      ]);
      const call = await lastCall();
      expect(call).toMatchObject({
        status: 'ok',
        provider: 'fakeant',
        target: 'fakeant/claude-sonnet-4-5',
        fallbacksTaken: ['fakeant/claude-sonnet-4-5'],
        translation: { from: 'openai', to: 'anthropic' },
        usage: { input: 14, output: 9, cacheRead: 2 },
      });
      expect(call.attempts.map((a: { target: string; status: number }) => [a.target, a.status])).toEqual([
        ['fakeai/gpt-4o-mini', 500],
        ['fakeai/gpt-4o-mini', 500],
        ['fakeant/claude-sonnet-4-5', 200],
      ]);
      const span = await spanOf(call);
      expect(span).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-5' });
      // priced as Claude (the provider that answered), not as the route's first target
      const claudeCost = await t.pricing.costOf({
        projectId: PROJECT,
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        time: span.startTime,
        usage: { input: 14, output: 9, cacheRead: 2, cacheWrite: 0, reasoning: null },
      });
      expect(claudeCost).toBeGreaterThan(0);
      expect(call.costMicros).toBe(claudeCost);
    });

    it('streams from Claude when the OpenAI provider answers 429 with a long Retry-After', async () => {
      await t.request('PUT', '/v1/gateway/routes/busy', {
        body: {
          targets: ['fakeai/gpt-4o-mini', 'fakeant/claude-sonnet-4-5'],
          retry: { maxRetries: 2, initialBackoffMs: 5, maxBackoffMs: 1000 },
        },
      });
      fake.queue({ status: 429, retryAfter: 30 });
      const started = Date.now();
      const stream = await openai.chat.completions.create({
        model: 'busy',
        messages: [{ role: 'user', content: 'hurry' }],
        stream: true,
      });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe('fake: hurry');
      expect(Date.now() - started).toBeLessThan(5000); // did not wait out the 30 s
      expect(await lastCall()).toMatchObject({
        status: 'ok',
        stream: true,
        provider: 'fakeant',
        attempts: [{ status: 429 }, { status: 200 }],
        usage: { input: 14, output: 9 },
      });
    });

    it('falls back from a failing Anthropic provider to an OpenAI one for an Anthropic client', async () => {
      await t.request('PUT', '/v1/gateway/routes/either', {
        body: { targets: ['fakeant/claude-sonnet-4-5', 'fakeai/gpt-4o-mini'], retry: { maxRetries: 0 } },
      });
      fake.queue({ status: 503 });
      const msg = await anthropic.messages
        .stream({ model: 'either', max_tokens: 100, messages: [{ role: 'user', content: 'fallback' }] })
        .finalMessage();
      expect(msg.content).toEqual([{ type: 'text', text: 'fake: fallback' }]);
      expect(msg.model).toBe('gpt-4o-mini');
      expect(await lastCall()).toMatchObject({
        provider: 'fakeai',
        translation: { from: 'anthropic', to: 'openai' },
        fallbacksTaken: ['fakeai/gpt-4o-mini'],
      });
    });
  });
});
