import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
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
});
