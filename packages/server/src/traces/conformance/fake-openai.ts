import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the OpenAI API on 127.0.0.1, speaking its wire format (JSON and SSE) over a real
 * socket, so real clients and their instrumentation run unchanged. It answers by the last user
 * message: one that asks about the weather (with tools offered) gets a tool call, "fail" gets a 500,
 * anything else gets "Hello from the fake".
 */
export const FAKE_MODEL = 'gpt-4o-mini-2024-07-18';
export const FAKE_USAGE = { prompt_tokens: 1200, completion_tokens: 700, total_tokens: 1900, prompt_tokens_details: { cached_tokens: 400 } };
export const FAKE_TEXT = 'Hello from the fake';
export const FAKE_TOOL_CALL = { id: 'call_weather_1', name: 'get_weather', arguments: '{"city":"Oslo"}' };

interface ChatRequest {
  model: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: unknown[];
  messages: { role: string; content: unknown }[];
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function lastUserText(body: ChatRequest): string {
  const last = [...body.messages].reverse().find((m) => m.role === 'user' || m.role === 'tool');
  if (!last) return '';
  if (last.role === 'tool') return '';
  return typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
}

export async function startFakeOpenAI(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = (await readJson(req)) as ChatRequest & { input?: unknown };
      if (req.url === '/v1/embeddings') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2, 0.3] }], model: 'text-embedding-3-small', usage: { prompt_tokens: 5, total_tokens: 5 } }));
        return;
      }
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no ${req.url}`, type: 'invalid_request_error' } }));
        return;
      }
      const text = lastUserText(body);
      if (text.includes('fail')) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'The fake upstream failed on purpose', type: 'server_error', code: null } }));
        return;
      }
      const toolCall = body.tools?.length && text.includes('weather');
      const message = toolCall
        ? { role: 'assistant', content: null, tool_calls: [{ id: FAKE_TOOL_CALL.id, type: 'function', function: { name: FAKE_TOOL_CALL.name, arguments: FAKE_TOOL_CALL.arguments } }] }
        : { role: 'assistant', content: FAKE_TEXT };
      const finish = toolCall ? 'tool_calls' : 'stop';
      const base = { id: 'chatcmpl-fake', created: 1_760_000_000, model: FAKE_MODEL, system_fingerprint: 'fp_fake' };
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: finish, logprobs: null }], usage: FAKE_USAGE }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const send = (chunk: object) => res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...chunk })}\n\n`);
      send({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
      for (const piece of ['Hello ', 'from ', 'the ', 'fake']) send({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
      send({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      if (body.stream_options?.include_usage) send({ choices: [], usage: FAKE_USAGE });
      res.end('data: [DONE]\n\n');
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
