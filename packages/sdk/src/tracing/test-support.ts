/**
 * Test support for the tracing tests: a fake model provider speaking the OpenAI and Anthropic wire
 * formats (JSON and SSE) over a real socket, and an OpenTelemetry SDK recording spans in memory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** Registers a global tracer provider recording into memory (once per test file). */
export function recordSpans(): { spans: () => ReadableSpan[]; reset: () => void } {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return { spans: () => memory.getFinishedSpans(), reset: () => memory.reset() };
}

export interface FakeProvider {
  url: string;
  /** Request bodies received, in order. */
  requests: { path: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

export const USAGE = { input: 11, output: 7, cacheRead: 3, cacheWrite: 5, reasoning: 2 };

const TOOL = { name: 'get_weather', arguments: { city: 'Paris' } };

/**
 * Answers with the last user message prefixed by "echo: ", or with a `get_weather` tool call when
 * the request offers tools. Model `rate-limited` gets a 429; model `slow` streams one chunk, then
 * waits for the client to go away.
 */
export async function startFakeProvider(): Promise<FakeProvider> {
  const requests: FakeProvider['requests'] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: String(error) } }));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = (chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {}) as Record<
      string,
      unknown
    >;
    const path = (req.url ?? '').replace(/\?.*$/, '');
    requests.push({ path, body });
    if (body.model === 'rate-limited') {
      const anthropic = path === '/v1/messages';
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': '0',
        'x-should-retry': 'false',
      });
      res.end(
        JSON.stringify(
          anthropic
            ? { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }
            : { error: { message: 'slow down', type: 'rate_limit_exceeded', code: 'rate_limit_exceeded' } },
        ),
      );
      return;
    }
    switch (path) {
      case '/v1/chat/completions':
        return chat(body, res);
      case '/v1/embeddings':
        return json(res, {
          object: 'list',
          model: 'text-embedding-3-small',
          data: [
            {
              object: 'embedding',
              index: 0,
              embedding: embedding([0.1, 0.2, 0.3, 0.4], body.encoding_format),
            },
          ],
          usage: { prompt_tokens: 4, total_tokens: 4 },
        });
      case '/v1/responses':
        return responses(body, res);
      case '/v1/messages':
        return messages(body, res);
      default:
        res.writeHead(404).end();
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, value: unknown) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

/** As OpenAI sends embeddings: floats, or little-endian float32s in base64 (what the client asks for). */
function embedding(values: number[], format: unknown): number[] | string {
  return format === 'base64' ? Buffer.from(new Float32Array(values).buffer).toString('base64') : values;
}

function lastUserText(messages: unknown): string {
  const list = Array.isArray(messages) ? (messages as { role?: string; content?: unknown }[]) : [];
  const last = [...list].reverse().find((m) => m.role === 'user');
  const content = last?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p: { text?: string }) => p.text ?? '').join('');
  return '';
}

function sse(res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

/** Splits text into a few pieces, as a model streams it. */
function pieces(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 4) out.push(text.slice(i, i + 4));
  return out;
}

async function chat(body: Record<string, unknown>, res: ServerResponse) {
  const model = String(body.model);
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0;
  const text = `echo: ${lastUserText(body.messages)}`;
  const usage = {
    prompt_tokens: USAGE.input,
    completion_tokens: USAGE.output,
    total_tokens: USAGE.input + USAGE.output,
    prompt_tokens_details: { cached_tokens: USAGE.cacheRead },
    completion_tokens_details: { reasoning_tokens: USAGE.reasoning },
  };
  const base = { id: 'chatcmpl-1', created: 1_764_000_000, model: `${model}-2025` };
  const toolCall = {
    id: 'call_1',
    type: 'function',
    function: { name: TOOL.name, arguments: JSON.stringify(TOOL.arguments) },
  };
  if (body.stream !== true) {
    return json(res, {
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: wantsTool
            ? { role: 'assistant', content: null, tool_calls: [toolCall] }
            : { role: 'assistant', content: text },
          finish_reason: wantsTool ? 'tool_calls' : 'stop',
        },
      ],
      usage,
    });
  }
  sse(res);
  const send = (chunk: object) =>
    res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...chunk })}\n\n`);
  send({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
  if (model === 'slow') {
    send({ choices: [{ index: 0, delta: { content: 'first' }, finish_reason: null }] });
    return; // never ends: the client gives up
  }
  if (wantsTool) {
    const args = toolCall.function.arguments;
    send({
      choices: [
        {
          index: 0,
          delta: {
            tool_calls: [
              { index: 0, id: 'call_1', type: 'function', function: { name: TOOL.name, arguments: '' } },
            ],
          },
          finish_reason: null,
        },
      ],
    });
    for (const p of pieces(args))
      send({
        choices: [
          {
            index: 0,
            delta: { tool_calls: [{ index: 0, function: { arguments: p } }] },
            finish_reason: null,
          },
        ],
      });
  } else {
    for (const p of pieces(text))
      send({ choices: [{ index: 0, delta: { content: p }, finish_reason: null }] });
  }
  send({ choices: [{ index: 0, delta: {}, finish_reason: wantsTool ? 'tool_calls' : 'stop' }] });
  const options = body.stream_options as { include_usage?: boolean } | undefined;
  if (options?.include_usage) send({ choices: [], usage });
  res.end('data: [DONE]\n\n');
}

function responses(body: Record<string, unknown>, res: ServerResponse) {
  const input = typeof body.input === 'string' ? body.input : lastUserText(body.input);
  const text = `echo: ${input}`;
  const response = {
    id: 'resp_1',
    object: 'response',
    created_at: 1_764_000_000,
    status: 'completed',
    model: `${String(body.model)}-2025`,
    output: [
      {
        type: 'message',
        id: 'msg_1',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text, annotations: [] }],
      },
    ],
    usage: {
      input_tokens: USAGE.input,
      output_tokens: USAGE.output,
      total_tokens: USAGE.input + USAGE.output,
      input_tokens_details: { cached_tokens: USAGE.cacheRead },
      output_tokens_details: { reasoning_tokens: USAGE.reasoning },
    },
  };
  if (body.stream !== true) return json(res, response);
  sse(res);
  let n = 0;
  const send = (event: Record<string, unknown>) =>
    res.write(
      `event: ${String(event.type)}\ndata: ${JSON.stringify({ ...event, sequence_number: n++ })}\n\n`,
    );
  send({
    type: 'response.created',
    response: { ...response, status: 'in_progress', output: [], usage: null },
  });
  for (const p of pieces(text))
    send({
      type: 'response.output_text.delta',
      item_id: 'msg_1',
      output_index: 0,
      content_index: 0,
      delta: p,
    });
  send({ type: 'response.completed', response });
  res.end();
}

function messages(body: Record<string, unknown>, res: ServerResponse) {
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0;
  const text = `echo: ${lastUserText(body.messages)}`;
  const model = `${String(body.model)}-2025`;
  const usage = {
    input_tokens: USAGE.input,
    output_tokens: USAGE.output,
    cache_read_input_tokens: USAGE.cacheRead,
    cache_creation_input_tokens: USAGE.cacheWrite,
  };
  const toolUse = { type: 'tool_use', id: 'toolu_1', name: TOOL.name, input: TOOL.arguments };
  const content = wantsTool ? [{ type: 'text', text: 'Let me check.' }, toolUse] : [{ type: 'text', text }];
  const stopReason = wantsTool ? 'tool_use' : 'end_turn';
  if (body.stream !== true) {
    return json(res, {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    });
  }
  sse(res);
  const send = (event: Record<string, unknown>) =>
    res.write(`event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`);
  send({
    type: 'message_start',
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  });
  content.forEach((block, index) => {
    if (block.type === 'text') {
      send({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      for (const p of pieces(String((block as { text: string }).text)))
        send({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: p } });
    } else {
      send({ type: 'content_block_start', index, content_block: { ...toolUse, input: {} } });
      for (const p of pieces(JSON.stringify(TOOL.arguments)))
        send({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: p } });
    }
    send({ type: 'content_block_stop', index });
  });
  send({
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: USAGE.output },
  });
  send({ type: 'message_stop' });
  res.end();
}

/** The attributes of a span, as a plain object. */
export function attrs(span: ReadableSpan): Record<string, unknown> {
  return { ...span.attributes };
}

/** A JSON-string attribute, parsed. */
export function jsonAttr(span: ReadableSpan, key: string): unknown {
  const v = span.attributes[key];
  if (typeof v !== 'string') throw new Error(`${key} is ${JSON.stringify(v)}, not a JSON string`);
  return JSON.parse(v) as unknown;
}
