import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../../packages/server/src/gateway/fake-upstream.js';
import { startServer, type TestServer } from './harness.js';

/** The gateway in a real `hangar up`: HANGAR_SECRET from the environment, the real clients over HTTP. */
describe('model gateway in a running server', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  const put = (server: TestServer, path: string, body: unknown) =>
    fetch(server.url + path, {
      method: 'PUT',
      headers: { authorization: `Bearer ${server.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('stores provider keys under HANGAR_SECRET, answers both SDKs, and journals every call', async () => {
    const server = await startServer({ env: { HANGAR_SECRET: 'e2e-secret-0123456789' } });
    servers.push(server);
    expect(
      (await put(server, '/v1/gateway/providers/openai', { type: 'openai', apiKey: 'sk-e2e' })).status,
    ).toBe(200);
    expect((await put(server, '/v1/gateway/routes/default', { targets: ['hangar/echo'] })).status).toBe(200);

    const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.adminKey, maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: 'default',
      messages: [{ role: 'user', content: 'up and running' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('up and running');

    const anthropic = new Anthropic({ baseURL: server.url, apiKey: server.adminKey, maxRetries: 0 });
    const msg = await anthropic.messages.create({
      model: 'hangar/echo',
      max_tokens: 20,
      messages: [{ role: 'user', content: 'hallo' }],
    });
    expect(msg.content).toEqual([{ type: 'text', text: 'hallo' }]);

    const events = await fetch(`${server.url}/v1/streams/gateway/events`, {
      headers: { authorization: `Bearer ${server.adminKey}` },
    });
    const body = (await events.json()) as {
      events: Array<{ payload: { status: string; endpoint: string } }>;
    };
    expect(body.events.map((e) => [e.payload.endpoint, e.payload.status])).toEqual([
      ['/v1/chat/completions', 'ok'],
      ['/v1/messages', 'ok'],
    ]);
  });

  it('without HANGAR_SECRET refuses provider keys and says so at start', async () => {
    const server = await startServer({ env: { HANGAR_SECRET: '', HANGAR_LOG_LEVEL: 'warn' } });
    servers.push(server);
    const res = await put(server, '/v1/gateway/providers/openai', { type: 'openai', apiKey: 'sk-e2e' });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('secret_not_configured');
    expect(server.output()).toContain('HANGAR_SECRET is not set');
  });

  it('translates across formats: an OpenAI stream falls back to Claude, the Anthropic SDK uses a tool on GPT', async () => {
    const fake = await startFakeUpstream();
    try {
      const server = await startServer({ env: { HANGAR_SECRET: 'e2e-secret-0123456789' } });
      servers.push(server);
      await put(server, '/v1/gateway/providers/oai', {
        type: 'openai',
        baseUrl: fake.openaiBaseUrl,
        apiKey: 'sk-1',
      });
      await put(server, '/v1/gateway/providers/ant', {
        type: 'anthropic',
        baseUrl: fake.url,
        apiKey: 'sk-2',
      });
      await put(server, '/v1/gateway/routes/smart', {
        targets: ['oai/gpt-4o-mini', 'ant/claude-sonnet-4-5'],
        retry: { maxRetries: 0 },
      });

      fake.queue({ status: 500 });
      const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.adminKey, maxRetries: 0 });
      const stream = await openai.chat.completions.create({
        model: 'smart',
        messages: [{ role: 'user', content: 'are you there' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        usage = chunk.usage ?? usage;
      }
      expect(text).toBe('fake: are you there');
      expect(usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 9 });
      expect(fake.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/messages']);

      const anthropic = new Anthropic({ baseURL: server.url, apiKey: server.adminKey, maxRetries: 0 });
      const tools: Anthropic.Tool[] = [
        { name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
      ];
      const question: Anthropic.MessageParam = { role: 'user', content: 'weather in Paris?' };
      const first = await anthropic.messages
        .stream({ model: 'oai/gpt-4o-mini', max_tokens: 100, messages: [question], tools })
        .finalMessage();
      expect(first.content).toEqual([
        { type: 'tool_use', id: 'call_fake1', name: 'get_weather', input: { city: 'Paris' } },
      ]);
      const second = await anthropic.messages.create({
        model: 'oai/gpt-4o-mini',
        max_tokens: 100,
        tools,
        messages: [
          question,
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_fake1', content: 'sunny' }] },
        ],
      });
      expect(second.content).toEqual([{ type: 'text', text: 'fake: the tool said sunny' }]);

      const events = await fetch(`${server.url}/v1/streams/gateway/events`, {
        headers: { authorization: `Bearer ${server.adminKey}` },
      });
      const body = (await events.json()) as {
        events: Array<{
          payload: { provider: string; translation: unknown; usage: { input: number }; costMicros: number };
        }>;
      };
      expect(body.events.map((e) => [e.payload.provider, e.payload.translation])).toEqual([
        ['ant', { from: 'openai', to: 'anthropic' }],
        ['oai', { from: 'anthropic', to: 'openai' }],
        ['oai', { from: 'anthropic', to: 'openai' }],
      ]);
      expect(body.events[0]!.payload.usage).toMatchObject({ input: 14 });
      expect(body.events[0]!.payload.costMicros).toBeGreaterThan(0);
    } finally {
      await fake.close();
    }
  });

  it("keeps provider base URLs where the operator's HANGAR_PROVIDER_* settings allow", async () => {
    const server = await startServer({
      env: {
        HANGAR_PROVIDER_DENY_PRIVATE: 'true',
        HANGAR_PROVIDER_ALLOWED_HOSTS: '*.example.com, 192.0.2.0/24',
      },
    });
    servers.push(server);
    const status = async (baseUrl: string) => {
      const res = await put(server, '/v1/gateway/providers/p', { type: 'openai-compatible', baseUrl });
      return [res.status, res.ok ? 'saved' : ((await res.json()) as { error: { code: string } }).error.code];
    };
    expect(await status('http://169.254.169.254/latest')).toEqual([403, 'provider_url_not_allowed']);
    expect(await status('http://127.0.0.1:11434/v1')).toEqual([403, 'provider_url_not_allowed']);
    expect(await status('http://198.51.100.7/v1')).toEqual([403, 'provider_url_not_allowed']);
    expect(await status('http://192.0.2.10:8000/v1')).toEqual([200, 'saved']);

    await expect(
      startServer({ env: { HANGAR_PROVIDER_ALLOWED_HOSTS: 'https://api.example.com' } }),
    ).rejects.toThrow(/HANGAR_PROVIDER_ALLOWED_HOSTS/);
  });
});
