import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../http/api-error.js';
import { ADMIN_KEY, createTestApp, type TestApp } from '../test-app.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

const SECRET = 'test-secret-0123456789abcdef';
const PROJECT = 'proj_default';

/** Hangar on a real socket (the clients speak HTTP), with a fake provider behind it. */
describe('model gateway through the real OpenAI and Anthropic clients', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<TestApp['listen']>>;
  let url: string;
  let fake: FakeUpstream;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    fake = await startFakeUpstream();
    t = await createTestApp('sqlite', { secret: SECRET });
    server = await t.listen();
    url = server.url;
    openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: ADMIN_KEY, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: url, apiKey: ADMIN_KEY, maxRetries: 0 });
    const put = (path: string, body: unknown) => t.request('PUT', path, { body });
    expect(
      (
        await put('/v1/gateway/providers/fakeai', {
          type: 'openai',
          baseUrl: fake.openaiBaseUrl,
          apiKey: 'sk-fake-openai',
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await put('/v1/gateway/providers/fakeant', {
          type: 'anthropic',
          baseUrl: fake.url,
          apiKey: 'sk-ant-fake',
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await put('/v1/gateway/providers/down', {
          type: 'openai-compatible',
          baseUrl: 'http://127.0.0.1:9/v1',
        })
      ).status,
    ).toBe(200);
    expect((await put('/v1/gateway/routes/fast', { targets: ['fakeai/gpt-4o-mini'] })).status).toBe(200);
    expect((await put('/v1/gateway/routes/claude', { targets: ['fakeant/claude-sonnet-4-5'] })).status).toBe(
      200,
    );
  });
  afterAll(async () => {
    await server.close();
    await t.close();
    await fake.close();
  });
  afterEach(() => {
    fake.queue(); // nothing left queued by a failed test leaks into the next
  });

  /** The gateway journal events, newest last (a call is recorded just after its answer: wait for that). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Recorded = Record<string, any> & { traceId: string; spanId: string };
  const calls = async () => {
    await t.gateway.recorded();
    return (await t.journal.read(PROJECT, 'gateway', 0, 1000)).events.map((e) => e.payload as Recorded);
  };
  const lastCall = async () => (await calls()).at(-1)!;
  /** Waits for the journal to hold more than `count` calls (a disconnect is recorded after the response ended). */
  const callAfter = async (count: number) => {
    for (let i = 0; i < 100; i++) {
      const all = await calls();
      if (all.length > count) return all.at(-1)!;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('no call recorded');
  };
  const spanOf = async (call: { traceId: string; spanId: string }) =>
    (await t.traces.trace(PROJECT, call.traceId)).find((s) => s.spanId === call.spanId)!;

  describe('OpenAI chat completions', () => {
    it('answers through a route, sends the decrypted provider key, and journals and traces the call', async () => {
      const before = fake.requests.length;
      const res = await openai.chat.completions.create({
        model: 'fast',
        messages: [{ role: 'user', content: 'hello there' }],
      });
      expect(res.choices[0]!.message.content).toBe('fake: hello there');
      expect(res.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
      const upstream = fake.requests[before]!;
      expect(upstream.path).toBe('/v1/chat/completions');
      expect(upstream.headers.authorization).toBe('Bearer sk-fake-openai');
      expect(upstream.body.model).toBe('gpt-4o-mini');

      const call = await lastCall();
      expect(call).toMatchObject({
        status: 'ok',
        endpoint: '/v1/chat/completions',
        model: 'fast',
        route: 'fast',
        target: 'fakeai/gpt-4o-mini',
        keyId: expect.stringMatching(/^key_/),
        usage: { input: 11, output: 7, cacheRead: 3 },
        response: { choices: [{ message: { content: 'fake: hello there' } }] },
        request: { messages: [{ role: 'user', content: 'hello there' }] },
      });
      expect(call.requestSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(call.latencyMs).toBeGreaterThan(0);
      expect(call.costMicros === null || typeof call.costMicros === 'number').toBe(true);

      const span = await spanOf(call);
      expect(span).toMatchObject({
        kind: 'llm',
        source: 'gateway',
        status: 'ok',
        provider: 'openai',
        model: 'gpt-4o-mini',
        usage: { input: 11, output: 7, cacheRead: 3 },
      });
      const input = await t.request('GET', `/v1/blobs/${span.inputSha256}`);
      expect(input.status === 404 || input.json).toBeTruthy(); // spans' blobs are served by the traces API, not the journal's
    });

    it('streams, with include_usage giving the client the usage chunk', async () => {
      const stream = await openai.chat.completions.create({
        model: 'fast',
        messages: [{ role: 'user', content: 'stream me please' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe('fake: stream me please');
      expect(chunks).toBeGreaterThan(3);
      expect(usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 7 });
      const call = await lastCall();
      expect(call).toMatchObject({ status: 'ok', stream: true, usage: { input: 11, output: 7 } });
      expect(call.ttftMs).toBeGreaterThan(0);
      expect(call.ttftMs).toBeLessThanOrEqual(call.latencyMs);
      expect(call.response.choices[0].message.content).toBe('fake: stream me please');
    });

    it('echoes a sane x-request-id on answers, streamed and not, and makes one otherwise', async () => {
      const messages = [{ role: 'user' as const, content: 'who asks?' }];
      const given = { headers: { 'x-request-id': 'agent-7.call:42' } };
      const json = await openai.chat.completions.create({ model: 'fast', messages }, given).withResponse();
      expect(json.response.headers.get('x-request-id')).toBe('agent-7.call:42');
      const streamed = await openai.chat.completions.create({ model: 'fast', messages, stream: true }, given).withResponse();
      for await (const _ of streamed.data) {
        // read it to the end
      }
      expect(streamed.response.headers.get('x-request-id')).toBe('agent-7.call:42');
      const made = await openai.chat.completions
        .create({ model: 'fast', messages }, { headers: { 'x-request-id': 'not sane!' } })
        .withResponse();
      expect(made.response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('streams without include_usage: the client gets no usage chunk, the journal still has the usage', async () => {
      const before = fake.requests.length;
      const stream = await openai.chat.completions.create({
        model: 'fast',
        messages: [{ role: 'user', content: 'quiet' }],
        stream: true,
      });
      const seen: unknown[] = [];
      for await (const chunk of stream) if (chunk.usage) seen.push(chunk.usage);
      expect(seen).toEqual([]);
      expect(fake.requests[before]!.body.stream_options).toEqual({ include_usage: true });
      expect((await lastCall()).usage).toMatchObject({ input: 11, output: 7 });
    });

    it('passes tools through and returns tool calls, streaming and not', async () => {
      const tools: OpenAI.ChatCompletionTool[] = [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ];
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'weather in Paris?' }];
      const res = await openai.chat.completions.create({ model: 'fast', messages, tools });
      const call = res.choices[0]!.message.tool_calls![0]!;
      expect(call.type === 'function' && [call.function.name, JSON.parse(call.function.arguments)]).toEqual([
        'get_weather',
        { city: 'Paris' },
      ]);
      expect(res.choices[0]!.finish_reason).toBe('tool_calls');

      const runner = openai.chat.completions.stream({ model: 'fast', messages, tools });
      const final = await runner.finalChatCompletion();
      const streamed = final.choices[0]!.message.tool_calls![0]!;
      expect(
        streamed.type === 'function' && [streamed.function.name, JSON.parse(streamed.function.arguments)],
      ).toEqual(['get_weather', { city: 'Paris' }]);
      const recorded = await lastCall();
      expect(recorded.response.choices[0].message.tool_calls[0].function).toEqual({
        name: 'get_weather',
        arguments: '{"city":"Paris"}',
      });
      const span = await spanOf(recorded);
      expect(span.status).toBe('ok');
    });

    it('does embeddings and lists models', async () => {
      const res = await openai.embeddings.create({
        model: 'fakeai/text-embedding-3-small',
        input: ['a', 'b'],
      });
      expect(res.data.map((d) => d.embedding)).toEqual([
        [0.5, 0.25, 0.125],
        [0.5, 0.25, 0.125],
      ]);
      const call = await lastCall();
      expect(call).toMatchObject({ endpoint: '/v1/embeddings', status: 'ok', usage: { input: 5 } });
      expect((await spanOf(call)).kind).toBe('embedding');

      const ids = [];
      for await (const m of openai.models.list()) ids.push(m.id);
      expect(ids).toEqual(expect.arrayContaining(['hangar/echo', 'fast', 'claude']));
    });
  });

  describe('Anthropic messages', () => {
    it('answers (x-api-key auth), passing anthropic-version and the provider key upstream', async () => {
      const before = fake.requests.length;
      const res = await anthropic.messages.create({
        model: 'claude',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'bonjour' }],
      });
      expect(res.content).toEqual([{ type: 'text', text: 'fake: bonjour' }]);
      const upstream = fake.requests[before]!;
      expect(upstream.path).toBe('/v1/messages');
      expect(upstream.headers['x-api-key']).toBe('sk-ant-fake');
      expect(upstream.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/); // the client's own, passed through
      const call = await lastCall();
      expect(call).toMatchObject({
        status: 'ok',
        endpoint: '/v1/messages',
        usage: { input: 14, output: 9, cacheRead: 2 },
      });
      expect(await spanOf(call)).toMatchObject({
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        kind: 'llm',
      });
    });

    it('streams events, text and tool use', async () => {
      const stream = anthropic.messages.stream({
        model: 'claude',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'stream it' }],
      });
      const texts: string[] = [];
      stream.on('text', (d) => texts.push(d));
      const final = await stream.finalMessage();
      expect(texts.join('')).toBe('fake: stream it');
      expect(texts.length).toBeGreaterThan(1);
      expect(final.usage.output_tokens).toBe(9);
      expect((await lastCall()).response.content).toEqual([{ type: 'text', text: 'fake: stream it' }]);

      const tools: Anthropic.Tool[] = [
        { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
      ];
      const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'weather?' }];
      const plain = await anthropic.messages.create({ model: 'claude', max_tokens: 100, messages, tools });
      expect(plain.content[0]).toMatchObject({
        type: 'tool_use',
        name: 'get_weather',
        input: { city: 'Paris' },
      });
      const streamed = await anthropic.messages
        .stream({ model: 'claude', max_tokens: 100, messages, tools })
        .finalMessage();
      expect(streamed.content[0]).toMatchObject({
        type: 'tool_use',
        name: 'get_weather',
        input: { city: 'Paris' },
      });
      expect(streamed.stop_reason).toBe('tool_use');
      expect((await lastCall()).response.content[0]).toMatchObject({
        type: 'tool_use',
        input: { city: 'Paris' },
      });
    });

    it('refuses an Anthropic model for embeddings with model_not_supported, and records the refusal', async () => {
      // chat is translated (gateway-cross-format.test.ts); Anthropic has no embeddings to translate to
      const err = await openai.embeddings
        .create({ model: 'fakeant/claude-sonnet-4-5', input: 'x' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
        code: 'model_not_supported',
      });
      expect(await lastCall()).toMatchObject({ status: 'error', error: { code: 'model_not_supported' } });
    });
  });

  describe('hangar/echo', () => {
    it('answers with the last user message, streams, and reports usage — in both formats', async () => {
      const res = await openai.chat.completions.create({
        model: 'hangar/echo',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'ok' },
          { role: 'user', content: 'say this back' },
        ],
      });
      expect(res.choices[0]!.message.content).toBe('say this back');
      expect(res.usage!.completion_tokens).toBeGreaterThan(0);

      const stream = await openai.chat.completions.create({
        model: 'hangar/echo',
        messages: [{ role: 'user', content: 'one two three' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      const pieces: string[] = [];
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const c of stream) {
        if (c.choices[0]?.delta.content) pieces.push(c.choices[0].delta.content);
        if (c.usage) usage = c.usage;
      }
      expect(pieces.join('')).toBe('one two three');
      expect(pieces.length).toBe(3);
      expect(usage!.prompt_tokens).toBeGreaterThan(0);

      const msg = await anthropic.messages
        .stream({ model: 'hangar/echo', max_tokens: 10, messages: [{ role: 'user', content: 'hallo welt' }] })
        .finalMessage();
      expect(msg.content).toEqual([{ type: 'text', text: 'hallo welt' }]);
      expect(msg.usage.input_tokens).toBeGreaterThan(0);
      expect(await spanOf(await lastCall())).toMatchObject({
        provider: 'hangar',
        model: 'hangar/echo',
        status: 'ok',
      });
    });
  });

  describe('routing', () => {
    it('falls back to the next target on 5xx after retries, and records the fallbacks taken', async () => {
      await t.request('PUT', '/v1/gateway/routes/sturdy', {
        body: {
          targets: ['fakeai/primary', 'fakeai/secondary'],
          retry: { maxRetries: 1, initialBackoffMs: 10, maxBackoffMs: 50 },
        },
      });
      fake.queue({ status: 500 }, { status: 503 });
      const before = fake.requests.length;
      const res = await openai.chat.completions.create({
        model: 'sturdy',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.choices[0]!.message.content).toBe('fake: hi');
      expect(fake.requests.slice(before).map((r) => r.body.model)).toEqual([
        'primary',
        'primary',
        'secondary',
      ]);
      const call = await lastCall();
      expect(call.attempts.map((a: { target: string; status: number }) => [a.target, a.status])).toEqual([
        ['fakeai/primary', 500],
        ['fakeai/primary', 503],
        ['fakeai/secondary', 200],
      ]);
      expect(call.fallbacksTaken).toEqual(['fakeai/secondary']);
      expect((await spanOf(call)).attributes['hangar.fallbacks']).toEqual(['fakeai/secondary']);
    });

    it('falls back on a connection error to a target that answers', async () => {
      await t.request('PUT', '/v1/gateway/routes/offline-ok', {
        body: { targets: ['down/llama3', 'hangar/echo'], retry: { maxRetries: 0 } },
      });
      const res = await openai.chat.completions.create({
        model: 'offline-ok',
        messages: [{ role: 'user', content: 'still here' }],
      });
      expect(res.choices[0]!.message.content).toBe('still here');
      expect((await lastCall()).attempts.map((a: { outcome: string }) => a.outcome)).toEqual([
        'connection',
        'ok',
      ]);
    });

    it('honours Retry-After on 429 before retrying', async () => {
      await t.request('PUT', '/v1/gateway/routes/patient', {
        body: {
          targets: ['fakeai/gpt-4o-mini'],
          retry: { maxRetries: 1, initialBackoffMs: 1, maxBackoffMs: 5000 },
        },
      });
      fake.queue({ status: 429, retryAfter: 1 });
      const started = Date.now();
      const res = await openai.chat.completions.create({
        model: 'patient',
        messages: [{ role: 'user', content: 'wait' }],
      });
      expect(res.choices[0]!.message.content).toBe('fake: wait');
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });

    it('answers 429 with Retry-After when every target is rate limited', async () => {
      await t.request('PUT', '/v1/gateway/routes/limited', {
        body: { targets: ['fakeai/a'], retry: { maxRetries: 0 } },
      });
      fake.queue({ status: 429, retryAfter: 7 });
      const err = (await openai.chat.completions
        .create({ model: 'limited', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      expect(err.headers?.get('retry-after')).toBe('7');
      expect(err.error).toMatchObject({ code: 'upstream_rate_limited' });
    });

    it('passes a provider 4xx on as upstream_rejected (422) without retrying or falling back', async () => {
      await t.request('PUT', '/v1/gateway/routes/strict', { body: { targets: ['fakeai/a', 'hangar/echo'] } });
      fake.queue({ status: 400 });
      const before = fake.requests.length;
      const err = (await openai.chat.completions
        .create({ model: 'strict', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err.status).toBe(422);
      expect(err.error).toMatchObject({ code: 'upstream_rejected', details: { upstreamStatus: 400 } });
      expect(fake.requests.length - before).toBe(1);
    });

    it('times out a slow attempt (per-try) and falls back; gives 504 when the total timeout passes', async () => {
      await t.request('PUT', '/v1/gateway/routes/hurried', {
        body: {
          targets: ['fakeai/slow', 'hangar/echo'],
          retry: { maxRetries: 0 },
          timeouts: { perTryMs: 150, totalMs: 5000 },
        },
      });
      fake.queue({ delayMs: 1000 });
      const res = await openai.chat.completions.create({
        model: 'hurried',
        messages: [{ role: 'user', content: 'quick' }],
      });
      expect(res.choices[0]!.message.content).toBe('quick');
      expect((await lastCall()).attempts.map((a: { outcome: string }) => a.outcome)).toEqual([
        'timeout',
        'ok',
      ]);

      await t.request('PUT', '/v1/gateway/routes/doomed', {
        body: {
          targets: ['fakeai/slow'],
          retry: { maxRetries: 3, initialBackoffMs: 1 },
          timeouts: { perTryMs: 1000, totalMs: 200 },
        },
      });
      fake.queue({ delayMs: 1000 });
      const err = (await openai.chat.completions
        .create({ model: 'doomed', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err.status).toBe(504);
      expect(err.error).toMatchObject({ code: 'upstream_timeout' });
    });

    it('says which model is unknown with 404 model_not_found', async () => {
      const err = (await openai.chat.completions
        .create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect(err.error).toMatchObject({ code: 'model_not_found' });
      const anthropicErr = await anthropic.messages
        .create({ model: 'ghost/x', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect(anthropicErr).toBeInstanceOf(Anthropic.NotFoundError);
      expect((anthropicErr as Error).message).toContain('model_not_found');
    });
  });

  describe('streams that go wrong', () => {
    it('aborts the upstream request and records the call when the client disconnects mid-stream', async () => {
      const recorded = (await calls()).length;
      const abortedBefore = fake.aborted.length;
      fake.queue({ eventGapMs: 150, text: 'one two three four five six seven eight nine ten' });
      const controller = new AbortController();
      const stream = await openai.chat.completions.create(
        { model: 'fast', messages: [{ role: 'user', content: 'long story' }], stream: true },
        { signal: controller.signal },
      );
      let received = '';
      // the client ends its loop quietly when aborted
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta.content ?? '';
        if (received.length > 0) controller.abort();
      }
      expect(received.length).toBeGreaterThan(0);
      expect(received).not.toContain('ten');
      const call = await callAfter(recorded);
      expect(call).toMatchObject({ status: 'error', error: { code: 'client_disconnected' }, stream: true });
      for (let i = 0; i < 100 && fake.aborted.length === abortedBefore; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(fake.aborted.length).toBe(abortedBefore + 1);
      expect(fake.aborted.at(-1)!.body.messages).toEqual([{ role: 'user', content: 'long story' }]);
      expect((await spanOf(call)).status).toBe('error');
    });

    it('aborts the upstream request and records the call when the client gives up on a non-streaming call', async () => {
      const recorded = (await calls()).length;
      const abortedBefore = fake.aborted.length;
      fake.queue({ delayMs: 3000 });
      const sent = fake.requests.length;
      const controller = new AbortController();
      const pending = openai.chat.completions
        .create(
          { model: 'fast', messages: [{ role: 'user', content: 'too slow' }] },
          { signal: controller.signal },
        )
        .catch((e: unknown) => e);
      // abort once the provider has the request (and is taking its time)
      for (let i = 0; i < 200 && fake.requests.length === sent; i++)
        await new Promise((r) => setTimeout(r, 10));
      controller.abort();
      expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
      const call = await callAfter(recorded);
      expect(call).toMatchObject({ status: 'error', error: { code: 'client_disconnected' }, stream: false });
      for (let i = 0; i < 100 && fake.aborted.length === abortedBefore; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(fake.aborted.at(-1)!.body.messages).toEqual([{ role: 'user', content: 'too slow' }]);
    });

    it('ends a stalled stream with an error event after the per-try timeout and aborts upstream', async () => {
      await t.request('PUT', '/v1/gateway/routes/stally', {
        body: { targets: ['fakeai/gpt-4o-mini'], timeouts: { perTryMs: 200, totalMs: 5000 } },
      });
      fake.queue({ stallAfterEvents: 2 });
      const abortedBefore = fake.aborted.length;
      const stream = await openai.chat.completions.create({
        model: 'stally',
        messages: [{ role: 'user', content: 'hang' }],
        stream: true,
      });
      const err = await (async () => {
        for await (const _ of stream) {
          // read until the error event
        }
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect(String((err as Error).message)).toMatch(/stalled/);
      expect(await lastCall()).toMatchObject({ status: 'error', error: { code: 'upstream_timeout' } });
      for (let i = 0; i < 100 && fake.aborted.length === abortedBefore; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(fake.aborted.length).toBe(abortedBefore + 1);
    });

    it('records a stream the provider cut off as an error', async () => {
      fake.queue({ dropAfterEvents: 2 });
      const stream = anthropic.messages.stream({
        model: 'claude',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'cut' }],
      });
      await expect(stream.finalMessage()).rejects.toThrow();
      expect(await lastCall()).toMatchObject({ status: 'error', error: { code: 'upstream_unavailable' } });
    });
  });

  describe('response cache', () => {
    it('answers an identical request from the cache within the TTL, traced as a hit with cost 0', async () => {
      await t.request('PUT', '/v1/gateway/routes/cached', {
        body: { targets: ['fakeai/gpt-4o-mini'], cache: { ttlSeconds: 60 } },
      });
      const before = fake.requests.length;
      const ask = (content: string) =>
        openai.chat.completions
          .create({ model: 'cached', messages: [{ role: 'user', content }], temperature: 0 })
          .withResponse();
      const first = await ask('same question');
      expect(first.response.headers.get('x-hangar-cache')).toBe('miss');
      const second = await ask('same question');
      expect(second.response.headers.get('x-hangar-cache')).toBe('hit');
      expect(second.data.choices[0]!.message.content).toBe('fake: same question');
      expect(fake.requests.length - before).toBe(1);
      const hit = await lastCall();
      expect(hit).toMatchObject({ cache: 'hit', costMicros: 0, status: 'ok' });
      const span = await spanOf(hit);
      expect(span.attributes['hangar.cache_hit']).toBe(true);
      expect(span.usage).toMatchObject({ input: 0, output: 0 });

      // the same request, streamed, is answered from the cache too
      const stream = await openai.chat.completions.create({
        model: 'cached',
        messages: [{ role: 'user', content: 'same question' }],
        temperature: 0,
        stream: true,
      });
      let text = '';
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
      expect(text).toBe('fake: same question');
      expect(fake.requests.length - before).toBe(1);

      await ask('another question');
      expect(fake.requests.length - before).toBe(2);
    });
  });

  describe('offline providers', () => {
    it('scripted: answers by turn and by regex, with tool calls', async () => {
      const script = {
        rules: [
          {
            match: { lastUser: 'weather' },
            reply: { toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }] },
          },
          { match: { turn: 2 }, reply: { text: 'second turn' } },
        ],
        fallback: { text: 'default answer' },
      };
      expect(
        (await t.request('PUT', '/v1/gateway/providers/script', { body: { type: 'scripted', script } }))
          .status,
      ).toBe(200);
      const first = await openai.chat.completions.create({
        model: 'script/bot',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(first.choices[0]!.message.content).toBe('default answer');
      const second = await openai.chat.completions.create({
        model: 'script/bot',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'default answer' },
          { role: 'user', content: 'and now?' },
        ],
      });
      expect(second.choices[0]!.message.content).toBe('second turn');
      const tool = await anthropic.messages.create({
        model: 'script/bot',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      });
      expect(tool.content[0]).toMatchObject({
        type: 'tool_use',
        name: 'get_weather',
        input: { city: 'Oslo' },
      });
      expect(tool.stop_reason).toBe('tool_use');
      const streamed = await openai.chat.completions
        .stream({ model: 'script/bot', messages: [{ role: 'user', content: 'weather' }] })
        .finalChatCompletion();
      expect(streamed.choices[0]!.message.tool_calls![0]).toMatchObject({
        function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
      });
    });

    it('replay: answers from the journal by canonical request, without calling the provider', async () => {
      await t.request('PUT', '/v1/gateway/routes/recorded', { body: { targets: ['fakeai/gpt-4o-mini'] } });
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'remember me' }];
      const live = await openai.chat.completions.create({ model: 'recorded', messages });
      await t.request('PUT', '/v1/gateway/providers/tape', { body: { type: 'replay' } });
      await t.request('PUT', '/v1/gateway/routes/recorded', { body: { targets: ['tape/any'] } });
      const before = fake.requests.length;
      const replayed = await openai.chat.completions.create({ model: 'recorded', messages });
      expect(replayed.choices[0]!.message.content).toBe(live.choices[0]!.message.content);
      expect(fake.requests.length).toBe(before);
      expect((await lastCall()).replayOf).toMatchObject({ stream: 'gateway', seq: expect.any(Number) });
      const miss = (await openai.chat.completions
        .create({ model: 'recorded', messages: [{ role: 'user', content: 'never said' }] })
        .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(miss.status).toBe(422);
      expect(miss.error).toMatchObject({ code: 'upstream_rejected' });
    });
  });

  describe('provider keys', () => {
    it('stores keys encrypted and never returns them', async () => {
      const row = await t.database.db
        .selectFrom('gateway_providers')
        .selectAll()
        .where('name', '=', 'fakeai')
        .executeTakeFirstOrThrow();
      expect(row.key_ciphertext).toMatch(/^v1\./);
      expect(JSON.stringify(row)).not.toContain('sk-fake-openai');
      const listed = await t.request('GET', '/v1/gateway/providers');
      expect(listed.text).not.toContain('sk-fake-openai');
      expect(listed.json.providers.find((p: { name: string }) => p.name === 'fakeai')).toMatchObject({
        hasApiKey: true,
        type: 'openai',
      });
      const journal = await t.request('GET', '/v1/streams/admin/events');
      expect(journal.text).not.toContain('sk-fake-openai');
    });

    it('keeps the stored key when a provider is saved without apiKey, and removes it with null', async () => {
      await t.request('PUT', '/v1/gateway/providers/rotating', {
        body: { type: 'openai', baseUrl: fake.openaiBaseUrl, apiKey: 'sk-one' },
      });
      await t.request('PUT', '/v1/gateway/providers/rotating', {
        body: { type: 'openai', baseUrl: fake.openaiBaseUrl },
      });
      await openai.chat.completions.create({
        model: 'rotating/m',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(fake.requests.at(-1)!.headers.authorization).toBe('Bearer sk-one');
      const removed = await t.request('PUT', '/v1/gateway/providers/rotating', {
        body: { type: 'openai', baseUrl: fake.openaiBaseUrl, apiKey: null },
      });
      expect(removed.json.hasApiKey).toBe(false);
      await openai.chat.completions.create({
        model: 'rotating/m',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(fake.requests.at(-1)!.headers.authorization).toBeUndefined();
    });

    it('refuses bad provider and route definitions with validation_failed', async () => {
      const noUrl = await t.request('PUT', '/v1/gateway/providers/x', {
        body: { type: 'openai-compatible' },
      });
      expect([noUrl.status, noUrl.json.error.code]).toEqual([400, 'validation_failed']);
      const badRegex = await t.request('PUT', '/v1/gateway/providers/x', {
        body: { type: 'scripted', script: { rules: [{ match: { lastUser: '(' }, reply: { text: 'a' } }] } },
      });
      expect([badRegex.status, badRegex.json.error.code]).toEqual([400, 'validation_failed']);
      const reserved = await t.request('PUT', '/v1/gateway/providers/hangar', { body: { type: 'replay' } });
      expect(reserved.status).toBe(400);
      const noTargets = await t.request('PUT', '/v1/gateway/routes/empty', { body: { targets: [] } });
      expect([noTargets.status, noTargets.json.error.code]).toEqual([400, 'validation_failed']);
      expect(
        (await t.request('GET', '/v1/gateway/providers')).json.providers.map((p: { name: string }) => p.name),
      ).not.toContain('x');
    });

    it('needs admin to configure, ingest to call', async () => {
      const ingest = (await t.request('POST', '/v1/keys', { body: { name: 'bot', role: 'ingest-only' } }))
        .json.key as string;
      const put = await t.request('PUT', '/v1/gateway/routes/r2', {
        key: ingest,
        body: { targets: ['hangar/echo'] },
      });
      expect([put.status, put.json.error.code]).toEqual([403, 'forbidden']);
      const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: ingest, maxRetries: 0 });
      const res = await client.chat.completions.create({
        model: 'hangar/echo',
        messages: [{ role: 'user', content: 'ok' }],
      });
      expect(res.choices[0]!.message.content).toBe('ok');
      const readOnly = (await t.request('POST', '/v1/keys', { body: { name: 'ro', role: 'read-only' } })).json
        .key as string;
      const err = await new OpenAI({ baseURL: `${url}/v1`, apiKey: readOnly, maxRetries: 0 }).chat.completions
        .create({ model: 'hangar/echo', messages: [{ role: 'user', content: 'ok' }] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
      const bad = await new Anthropic({
        baseURL: url,
        apiKey: 'hk_' + 'z'.repeat(32),
        maxRetries: 0,
      }).messages
        .create({ model: 'hangar/echo', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
        .catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(Anthropic.AuthenticationError);
    });
  });

  it('refuses a malformed request with 400 and records nothing', async () => {
    const before = (await calls()).length;
    const err = (await openai.chat.completions
      .create({ model: 'fast', messages: [] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(400);
    expect(err.error).toMatchObject({ code: 'validation_failed' });
    const anthropicErr = await anthropic.messages
      .create({
        model: 'claude',
        messages: [{ role: 'user', content: 'x' }],
      } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(anthropicErr).toBeInstanceOf(Anthropic.BadRequestError);
    expect((await calls()).length).toBe(before);
  });

  it('takes the trace id and parent span from a traceparent header', async () => {
    const traceId = 'ab'.repeat(16);
    await openai.chat.completions.create(
      { model: 'hangar/echo', messages: [{ role: 'user', content: 'traced' }] },
      { headers: { traceparent: `00-${traceId}-${'cd'.repeat(8)}-01` } },
    );
    await t.gateway.recorded();
    const spans = await t.traces.trace(PROJECT, traceId);
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ parentSpanId: 'cd'.repeat(8), source: 'gateway' });
  });
});

describe('gateway without HANGAR_SECRET', () => {
  it('refuses to store a provider key with secret_not_configured, and keyless providers still work', async () => {
    const t = await createTestApp('sqlite');
    try {
      const res = await t.request('PUT', '/v1/gateway/providers/openai', {
        body: { type: 'openai', apiKey: 'sk-x' },
      });
      expect([res.status, res.json.error.code]).toEqual([409, 'secret_not_configured']);
      expect((await t.request('GET', '/v1/gateway/providers')).json.providers).toEqual([]);
      const ok = await t.request('PUT', '/v1/gateway/providers/local', {
        body: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:11434/v1' },
      });
      expect(ok.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('call stages', () => {
  it('lets an authorize stage refuse a call (recorded with its reason) and always settles a hold', async () => {
    const settled: Array<{ hold: unknown; status: string }> = [];
    const t = await createTestApp('sqlite', {
      gatewayHooks: {
        async authorize(call) {
          if (call.model === 'hangar/echo' && call.request.user === 'mallory') {
            throw new ApiError('forbidden', 'mallory may not call models');
          }
        },
        async hold(call) {
          return { heldFor: call.callId };
        },
        async settle(call, outcome) {
          settled.push({ hold: call.hold, status: outcome.status });
        },
      },
    });
    try {
      const ask = (user: string) =>
        t.request('POST', '/v1/chat/completions', {
          body: { model: 'hangar/echo', user, messages: [{ role: 'user', content: 'hi' }] },
        });
      expect((await ask('alice')).status).toBe(200);
      const refused = await ask('mallory');
      expect([refused.status, refused.json.error.code]).toEqual([403, 'forbidden']);
      await t.gateway.recorded();
      const events = (await t.journal.read(PROJECT, 'gateway', 0, 10)).events.map(
        (e) => e.payload as { status: string; error: unknown },
      );
      expect(events.map((e) => e.status)).toEqual(['ok', 'error']);
      expect(events[1]!.error).toEqual({ code: 'forbidden', message: 'mallory may not call models' });
      expect(settled).toEqual([
        { hold: { heldFor: expect.stringMatching(/^call_/) }, status: 'ok' },
        { hold: undefined, status: 'error' }, // refused before the hold stage
      ]);
    } finally {
      await t.close();
    }
  });
});
