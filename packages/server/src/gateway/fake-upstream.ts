import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A stand-in for paid providers in tests and benchmarks: a real HTTP server on 127.0.0.1 speaking
 * OpenAI's (`/v1/chat/completions`, `/v1/embeddings`) and Anthropic's (`/v1/messages`) wire formats,
 * streaming included. By default it answers "fake: <last user message>", calls the first tool
 * offered when the message mentions "weather", and answers "fake: the tool said <result>" to a tool
 * result. Queue behaviours to make it fail, stall or dawdle.
 */
export interface FakeBehaviour {
  /** Answer with this error status (and an error body in the provider's format). */
  status?: number;
  /** With `status`: the Retry-After header, in seconds. */
  retryAfter?: number;
  /** Wait this long before answering (headers included). */
  delayMs?: number;
  /** Streaming: send this many events, then stop sending without closing (a stalled stream). */
  stallAfterEvents?: number;
  /** Streaming: send this many events, then destroy the connection. */
  dropAfterEvents?: number;
  /** Streaming: wait this long between events. */
  eventGapMs?: number;
  /** Answer with this text instead of "fake: …". */
  text?: string;
}

export interface FakeRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface FakeUpstream {
  url: string;
  /** OpenAI-style base URL: `${url}/v1`. */
  openaiBaseUrl: string;
  requests: FakeRequest[];
  /** Requests whose connection closed before the answer was complete. */
  aborted: FakeRequest[];
  /** Behaviours for the next requests, in order (one each); then back to normal answers. */
  queue(...behaviours: FakeBehaviour[]): void;
  close(): Promise<void>;
}

const lastUserText = (body: Record<string, unknown>): string => {
  const messages = (body.messages as Array<{ role: string; content: unknown }> | undefined) ?? [];
  const last = messages.filter((m) => m.role === 'user').at(-1);
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return (last.content as Array<{ type: string; text?: string }>)
    .filter((p) => p.type === 'text')
    .map((p) => p.text ?? '')
    .join('');
};

/** The text of the tool result the conversation ends with, in either format; null when it does not end with one. */
const lastToolResult = (body: Record<string, unknown>): string | null => {
  const last = (body.messages as Array<{ role: string; content: unknown }> | undefined)?.at(-1);
  if (!last) return null;
  if (last.role === 'tool')
    return typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
  if (last.role !== 'user' || !Array.isArray(last.content)) return null;
  const result = (last.content as Array<{ type: string; content?: unknown }>).find(
    (b) => b.type === 'tool_result',
  );
  if (!result) return null;
  return typeof result.content === 'string' ? result.content : JSON.stringify(result.content);
};

/** The default answer: "fake: <last user message>", or "fake: the tool said <result>" after a tool result. */
const defaultText = (body: Record<string, unknown>, b: FakeBehaviour): string => {
  if (b.text !== undefined) return b.text;
  const result = lastToolResult(body);
  return result === null ? `fake: ${lastUserText(body)}` : `fake: the tool said ${result}`;
};

const sse = (data: unknown, event?: string) =>
  (event ? `event: ${event}\n` : '') + `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

function openaiAnswer(body: Record<string, unknown>, b: FakeBehaviour) {
  const text = defaultText(body, b);
  const tools = (body.tools as Array<{ function: { name: string } }> | undefined) ?? [];
  const callTool = tools.length > 0 && /weather/i.test(lastUserText(body)) && lastToolResult(body) === null;
  const id = 'chatcmpl-fake';
  const created = 1_764_000_000;
  const model = String(body.model);
  const usage = {
    prompt_tokens: 11,
    completion_tokens: 7,
    total_tokens: 18,
    prompt_tokens_details: { cached_tokens: 3 },
  };
  const toolCall = {
    id: 'call_fake1',
    type: 'function',
    function: { name: tools[0]?.function.name ?? '', arguments: '{"city":"Paris"}' },
  };
  if (!body.stream) {
    return {
      json: {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: callTool
              ? { role: 'assistant', content: null, tool_calls: [toolCall] }
              : { role: 'assistant', content: text },
            finish_reason: callTool ? 'tool_calls' : 'stop',
            logprobs: null,
          },
        ],
        usage,
      },
    };
  }
  const includeUsage =
    (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  const chunk = (delta: object, finish: string | null = null) =>
    sse({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
  const events = [chunk({ role: 'assistant', content: '' })];
  if (callTool) {
    events.push(
      chunk({
        tool_calls: [
          {
            index: 0,
            id: toolCall.id,
            type: 'function',
            function: { name: toolCall.function.name, arguments: '' },
          },
        ],
      }),
    );
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }));
  } else {
    for (const piece of text.match(/\S+\s*/g) ?? ['']) events.push(chunk({ content: piece }));
  }
  events.push(chunk({}, callTool ? 'tool_calls' : 'stop'));
  if (includeUsage)
    events.push(sse({ id, object: 'chat.completion.chunk', created, model, choices: [], usage }));
  events.push('data: [DONE]\n\n');
  return { events };
}

function anthropicAnswer(body: Record<string, unknown>, b: FakeBehaviour) {
  const text = defaultText(body, b);
  const tools = (body.tools as Array<{ name: string }> | undefined) ?? [];
  const callTool = tools.length > 0 && /weather/i.test(lastUserText(body)) && lastToolResult(body) === null;
  const model = String(body.model);
  const usage = {
    input_tokens: 12,
    output_tokens: 9,
    cache_read_input_tokens: 2,
    cache_creation_input_tokens: 0,
  };
  const content = callTool
    ? [{ type: 'tool_use', id: 'toolu_fake1', name: tools[0]!.name, input: { city: 'Paris' } }]
    : [{ type: 'text', text }];
  const message = {
    id: 'msg_fake',
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: callTool ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage,
  };
  if (!body.stream) return { json: message };
  const events = [
    sse(
      {
        type: 'message_start',
        message: { ...message, content: [], stop_reason: null, usage: { ...usage, output_tokens: 1 } },
      },
      'message_start',
    ),
    sse({ type: 'ping' }, 'ping'),
  ];
  if (callTool) {
    events.push(
      sse(
        {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'tool_use', id: 'toolu_fake1', name: tools[0]!.name, input: {} },
        },
        'content_block_start',
      ),
    );
    events.push(
      sse(
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '{"city": ' },
        },
        'content_block_delta',
      ),
    );
    events.push(
      sse(
        {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'input_json_delta', partial_json: '"Paris"}' },
        },
        'content_block_delta',
      ),
    );
  } else {
    events.push(
      sse(
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        'content_block_start',
      ),
    );
    for (const piece of text.match(/\S+\s*/g) ?? ['']) {
      events.push(
        sse(
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } },
          'content_block_delta',
        ),
      );
    }
  }
  events.push(sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop'));
  events.push(
    sse(
      {
        type: 'message_delta',
        delta: { stop_reason: message.stop_reason, stop_sequence: null },
        usage: { output_tokens: 9 },
      },
      'message_delta',
    ),
  );
  events.push(sse({ type: 'message_stop' }, 'message_stop'));
  return { events };
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const requests: FakeRequest[] = [];
  const aborted: FakeRequest[] = [];
  const pending: FakeBehaviour[] = [];
  const sockets = new Set<Socket>();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      void (async () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(raw || '{}') as Record<string, unknown>;
        } catch {
          // answered below
        }
        const record: FakeRequest = { path: req.url ?? '', headers: req.headers, body };
        requests.push(record);
        let complete = false;
        res.on('close', () => {
          if (!complete) aborted.push(record);
        });
        const b = pending.shift() ?? {};
        if (b.delayMs) await sleep(b.delayMs);
        if (res.destroyed) return;
        const anthropic = record.path.startsWith('/v1/messages');
        if (b.status) {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (b.retryAfter !== undefined) headers['retry-after'] = String(b.retryAfter);
          const error = anthropic
            ? {
                type: 'error',
                error: {
                  type: b.status === 429 ? 'rate_limit_error' : 'api_error',
                  message: `fake ${b.status}`,
                },
              }
            : {
                error: {
                  message: `fake ${b.status}`,
                  type: b.status === 429 ? 'rate_limit_exceeded' : 'server_error',
                  code: null,
                },
              };
          res.writeHead(b.status, headers).end(JSON.stringify(error));
          complete = true;
          return;
        }
        let answer: { json?: unknown; events?: string[] };
        if (record.path.startsWith('/v1/chat/completions')) answer = openaiAnswer(body, b);
        else if (anthropic) answer = anthropicAnswer(body, b);
        else if (record.path.startsWith('/v1/embeddings')) {
          const inputs = typeof body.input === 'string' ? [body.input] : (body.input as unknown[]);
          answer = {
            json: {
              object: 'list',
              data: inputs.map((_, index) => ({
                object: 'embedding',
                index,
                // the openai client asks for base64 (little-endian float32) by default, as the real API allows
                embedding:
                  body.encoding_format === 'base64'
                    ? Buffer.from(new Float32Array([0.5, 0.25, 0.125]).buffer).toString('base64')
                    : [0.5, 0.25, 0.125],
              })),
              model: body.model,
              usage: { prompt_tokens: 5, total_tokens: 5 },
            },
          };
        } else {
          res
            .writeHead(404, { 'content-type': 'application/json' })
            .end('{"error":{"message":"no such path"}}');
          complete = true;
          return;
        }
        if (answer.json !== undefined) {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer.json));
          complete = true;
          return;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const events = answer.events!;
        for (let i = 0; i < events.length; i++) {
          if (b.stallAfterEvents !== undefined && i === b.stallAfterEvents) return; // never ends
          if (b.dropAfterEvents !== undefined && i === b.dropAfterEvents) {
            res.destroy();
            return;
          }
          if (res.destroyed) return;
          // split every event across two writes: clients must not assume an event arrives whole
          const e = events[i]!;
          const cut = Math.floor(e.length / 2);
          res.write(e.slice(0, cut));
          await new Promise((r) => setImmediate(r));
          res.write(e.slice(cut));
          if (b.eventGapMs) await sleep(b.eventGapMs);
        }
        complete = true;
        res.end();
      })();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    requests,
    aborted,
    queue: (...behaviours) => pending.push(...behaviours),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
