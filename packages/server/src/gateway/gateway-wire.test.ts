import http from 'node:http';
import { Writable } from 'node:stream';
import Anthropic from '@anthropic-ai/sdk';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestApp, type TestApp } from '../test-app.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

const LIMIT = 4096;
const PROJECT = 'proj_default';
const CHAT = '/v1/chat/completions';

interface Sent {
  method?: string;
  /** Header values; an array sends the header once per value. */
  headers?: Record<string, string | string[]>;
  /** A string goes with its content-length; an array of strings goes chunked, without one. */
  body?: string | string[];
}

/** What a client sees of an answer, and what the server logged and counted for it. */
interface Seen {
  status: number;
  contentType: string | undefined;
  requestId: string | undefined;
  retryAfter: string | undefined;
  body: unknown;
  log: Record<string, unknown> | undefined;
  counted: string[];
}

/**
 * The model-call endpoints are served on node:http without Hono (gateway-wire.ts) when the server
 * listens; the Hono routes still answer `app.request()`. Each request here is sent both ways, and
 * what a client, the log and the metrics see must be the same.
 */
describe('model calls on the wire path and through the Hono routes', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<TestApp['listen']>>;
  let fake: FakeUpstream;
  let readOnlyKey: string;
  const logLines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    fake = await startFakeUpstream();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    t = await createTestApp('sqlite', { maxBodyBytes: LIMIT, logger: pino({ level: 'info' }, sink) });
    server = await t.listen();
    expect((await t.request('PUT', '/v1/gateway/providers/fakeant', { body: { type: 'anthropic', baseUrl: fake.url } })).status).toBe(200);
    readOnlyKey = (await t.request('POST', '/v1/keys', { body: { name: 'viewer', role: 'read-only' } })).json.key as string;
  });
  afterAll(async () => {
    await server.close();
    await t.close();
    await fake.close();
  });
  afterEach(() => {
    fake.queue();
  });

  /** The request counter's lines, by labels. */
  const counters = async (): Promise<Map<string, number>> => {
    const text = await (await t.app.request('/metrics')).text();
    const lines = text.split('\n').filter((l) => l.startsWith('hangar_http_requests_total{method="POST"'));
    return new Map(lines.map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
  };
  /** Runs `send`, then says what was seen, logged and counted for it. */
  const observe = async (send: () => Promise<Omit<Seen, 'log' | 'counted'>>): Promise<Seen> => {
    const before = await counters();
    const logged = logLines.length;
    const answer = await send();
    const after = await counters();
    const counted = [...after].filter(([labels, n]) => n !== (before.get(labels) ?? 0)).map(([labels, n]) => `${labels} +${n - (before.get(labels) ?? 0)}`);
    const log = logLines.slice(logged).find((l) => l.msg === 'request');
    return { ...answer, log: log && { requestId: log.requestId, method: log.method, path: log.path, status: log.status }, counted };
  };
  const parsed = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };

  /** Over a socket, to the server's own listener. */
  const overSocket = (path: string, sent: Sent) =>
    observe(
      () =>
        new Promise((resolve, reject) => {
          const headers: Record<string, string | string[]> = { ...sent.headers };
          if (typeof sent.body === 'string') headers['content-length'] = String(Buffer.byteLength(sent.body));
          const req = http.request(`${server.url}${path}`, { method: sent.method ?? 'POST', headers }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                contentType: res.headers['content-type'],
                requestId: res.headers['x-request-id'] as string | undefined,
                retryAfter: res.headers['retry-after'],
                body: parsed(text),
              }),
            );
          });
          req.on('error', reject);
          for (const chunk of Array.isArray(sent.body) ? sent.body : []) req.write(chunk);
          req.end(typeof sent.body === 'string' ? sent.body : undefined);
        }),
    );

  /** Through Hono's `app.request()`, as a test without a socket calls it. */
  const throughHono = (path: string, sent: Sent) =>
    observe(async () => {
      const headers = new Headers();
      for (const [name, value] of Object.entries(sent.headers ?? {})) for (const v of [value].flat()) headers.append(name, v);
      let body: Uint8Array | ReadableStream<Uint8Array> | undefined;
      if (typeof sent.body === 'string') {
        headers.set('content-length', String(Buffer.byteLength(sent.body)));
        body = new TextEncoder().encode(sent.body); // bytes: a string would bring a content-type of its own
      } else if (sent.body) {
        const chunks = sent.body.map((c) => new TextEncoder().encode(c));
        body = new ReadableStream({
          pull(controller) {
            const next = chunks.shift();
            if (next) controller.enqueue(next);
            else controller.close();
          },
        });
      }
      const res = await t.app.request(path, { method: sent.method ?? 'POST', headers, body, ...(body instanceof ReadableStream ? { duplex: 'half' } : {}) } as RequestInit);
      return {
        status: res.status,
        contentType: res.headers.get('content-type') ?? undefined,
        requestId: res.headers.get('x-request-id') ?? undefined,
        retryAfter: res.headers.get('retry-after') ?? undefined,
        body: parsed(await res.text()),
      };
    });

  const asAdmin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json', 'x-request-id': 'same-id-1' };
  const chat = (body: unknown) => JSON.stringify(body);
  const ok = chat({ model: 'hangar/echo', messages: [{ role: 'user', content: 'hello' }] });
  const big = chat({ model: 'hangar/echo', messages: [{ role: 'user', content: 'x'.repeat(LIMIT) }] });

  /** What is sent, the error code it gets, where and how. */
  const refusals: Array<[string, string, string, Sent]> = [
    ['no key', 'unauthenticated', CHAT, { headers: { 'content-type': 'application/json', 'x-request-id': 'same-id-1' }, body: ok }],
    ['an unknown key', 'invalid_key', CHAT, { headers: { ...asAdmin, authorization: `Bearer hk_${'z'.repeat(32)}` }, body: ok }],
    ['two keys (joined, they are no key)', 'invalid_key', CHAT, { headers: { ...asAdmin, authorization: [`Bearer ${ADMIN_KEY}`, `Bearer ${ADMIN_KEY}`] }, body: ok }],
    ['a key without ingest permission', 'forbidden', CHAT, { headers: { ...asAdmin, authorization: 'Bearer <read-only>' }, body: ok }],
    ['a body over the limit by its content-length', 'payload_too_large', CHAT, { headers: asAdmin, body: big }],
    ['a body over the limit by its content-length, without a key', 'payload_too_large', CHAT, { headers: { 'content-type': 'application/json' }, body: big }],
    ['a chunked body over the limit', 'payload_too_large', CHAT, { headers: asAdmin, body: [big.slice(0, 3000), big.slice(3000)] }],
    ['malformed JSON', 'invalid_json', CHAT, { headers: asAdmin, body: '{"model": "hangar/echo", "messages": [' }],
    ['JSON that is not an object', 'validation_failed', CHAT, { headers: asAdmin, body: '[1, 2]' }],
    ['no model', 'validation_failed', CHAT, { headers: asAdmin, body: chat({ messages: [{ role: 'user', content: 'hi' }] }) }],
    ['no messages, a wrong stream flag', 'validation_failed', CHAT, { headers: asAdmin, body: chat({ model: 'hangar/echo', messages: [], stream: 'yes' }) }],
    ['messages without max_tokens', 'validation_failed', '/v1/messages', { headers: asAdmin, body: chat({ model: 'hangar/echo', messages: [{ role: 'user', content: 'hi' }] }) }],
    ['a message of an unknown role', 'validation_failed', '/v1/messages', { headers: asAdmin, body: chat({ model: 'hangar/echo', max_tokens: 5, messages: [{ role: 'system', content: 'hi' }] }) }],
    ['embeddings of no input', 'validation_failed', '/v1/embeddings', { headers: asAdmin, body: chat({ model: 'hangar/echo', input: [] }) }],
    ['a text/plain body', 'unsupported_media_type', CHAT, { headers: { ...asAdmin, 'content-type': 'text/plain' }, body: ok }],
    ['a content-type with a space before its parameter', 'unsupported_media_type', CHAT, { headers: { ...asAdmin, 'content-type': 'application/json ;charset=utf-8' }, body: ok }],
    ['a body without a content-type', 'unsupported_media_type', CHAT, { headers: { authorization: asAdmin.authorization, 'x-request-id': 'same-id-1' }, body: ok }],
    ['no body and no content-type', 'validation_failed', CHAT, { headers: { authorization: asAdmin.authorization, 'x-request-id': 'same-id-1' }, body: '' }],
    ['an unknown model', 'model_not_found', CHAT, { headers: asAdmin, body: chat({ model: 'nobody', messages: [{ role: 'user', content: 'hi' }] }) }],
    ['a malformed run id', 'validation_failed', CHAT, { headers: { ...asAdmin, 'x-hangar-run-id': 'not a run id' }, body: ok }],
    ['an insane x-request-id', 'invalid_json', CHAT, { headers: { ...asAdmin, 'x-request-id': 'white space' }, body: '{' }],
  ];

  for (const [what, code, path, template] of refusals) {
    it(`refuses ${what} (${code}) as the Hono route does`, async () => {
      // the read-only key is made once the app is
      const sent = JSON.parse(JSON.stringify(template).replace('<read-only>', readOnlyKey)) as Sent;
      const wire = await overSocket(path, sent);
      const hono = await throughHono(path, sent);
      expect((wire.body as { error: { code: string } }).error.code).toBe(code);
      const sameId = (seen: Seen) => {
        // a made-up request id differs between two requests; it must still be the one in the body and the log
        if (sent.headers?.['x-request-id'] === 'same-id-1') return seen;
        expect(seen.requestId).toMatch(/^[0-9a-f-]{36}$/);
        expect((seen.body as { error: { requestId: string } }).error.requestId).toBe(seen.requestId);
        expect(seen.log?.requestId).toBe(seen.requestId);
        return { ...seen, requestId: 'made', body: JSON.parse(JSON.stringify(seen.body).replaceAll(seen.requestId!, 'made')), log: { ...seen.log, requestId: 'made' } };
      };
      expect(sameId(wire)).toEqual(sameId(hono));
    });
  }

  it('counts answers from before the route (body limit, key) under /v1/* and the rest under the route, as Hono does', async () => {
    const noKey = await overSocket(CHAT, refusals[0]![3]);
    expect(noKey.counted).toEqual(['hangar_http_requests_total{method="POST",route="/v1/*",status="401"} +1']);
    const answered = await overSocket(CHAT, { headers: asAdmin, body: ok });
    expect(answered.status).toBe(200);
    expect(answered.counted).toEqual(['hangar_http_requests_total{method="POST",route="/v1/chat/completions",status="200"} +1']);
    expect(answered.log).toEqual({ requestId: 'same-id-1', method: 'POST', path: CHAT, status: 200 });
  });

  it('refuses a body over the limit without writing anything, and the connection serves the next call', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = (body: string) =>
      new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
        const req = http.request(
          `${server.url}${CHAT}`,
          { method: 'POST', agent, headers: { ...asAdmin, 'content-length': String(Buffer.byteLength(body)) } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, socket: req.socket }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    await t.gateway.recorded();
    const before = (await t.journal.read(PROJECT, 'gateway', 0, 1000)).events.length;
    const refused = await post(big);
    const answered = await post(ok);
    expect([refused.status, answered.status]).toEqual([413, 200]);
    expect(answered.socket).toBe(refused.socket);
    await t.gateway.recorded();
    expect((await t.journal.read(PROJECT, 'gateway', 0, 1000)).events.length).toBe(before + 1);
    agent.destroy();
  });

  it('answers a chunked body within the limit, and a query string changes nothing', async () => {
    const res = await overSocket(`${CHAT}?from=test`, { headers: asAdmin, body: [ok.slice(0, 10), ok.slice(10)] });
    expect(res.status).toBe(200);
    expect((res.body as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('hello');
    expect(res.requestId).toBe('same-id-1');
  });

  it('takes a JSON body with a byte order mark, a charset or a +json type, as Hono does', async () => {
    for (const [contentType, body] of [
      ['application/json; charset=utf-8', '\uFEFF' + ok],
      ['application/vnd.api+json', ok],
    ] as const) {
      const sent = { headers: { ...asAdmin, 'content-type': contentType }, body };
      const [wire, hono] = [await overSocket(CHAT, sent), await throughHono(CHAT, sent)];
      for (const seen of [wire, hono]) {
        expect(seen.status).toBe(200);
        expect((seen.body as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('hello');
      }
    }
  });

  it('leaves every other request to Hono', async () => {
    const whoami = await overSocket('/v1/whoami', { method: 'GET', headers: { authorization: asAdmin.authorization } });
    expect(whoami.body).toMatchObject({ key: { role: 'admin' } });
    const get = await overSocket(CHAT, { method: 'GET', headers: { authorization: asAdmin.authorization } });
    expect([get.status, (get.body as { error: { code: string } }).error.code]).toEqual([404, 'not_found']);
    const slash = await overSocket(`${CHAT}/`, { headers: asAdmin, body: ok });
    expect([slash.status, (slash.body as { error: { code: string } }).error.code]).toEqual([404, 'not_found']);
    const doc = (await overSocket('/openapi.json', { method: 'GET' })).body as { paths: Record<string, { post?: unknown }> };
    for (const path of [CHAT, '/v1/messages', '/v1/embeddings']) expect(doc.paths[path]?.post).toBeTruthy();
  });

  it('records a stream the Anthropic client abandons midway as disconnected, and aborts the provider request', async () => {
    await t.gateway.recorded();
    const recorded = (await t.journal.read(PROJECT, 'gateway', 0, 1000)).events.length;
    const abortedBefore = fake.aborted.length;
    fake.queue({ eventGapMs: 150, text: 'one two three four five six seven eight nine ten' });
    const anthropic = new Anthropic({ baseURL: server.url, apiKey: ADMIN_KEY, maxRetries: 0 });
    const controller = new AbortController();
    const stream = await anthropic.messages.create(
      { model: 'fakeant/claude-sonnet-4-5', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'long story' }] },
      { signal: controller.signal },
    );
    let received = '';
    try {
      for await (const event of stream) {
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') received += event.delta.text;
        if (received.length > 0) controller.abort();
      }
    } catch (err) {
      expect(err).toBeInstanceOf(Anthropic.APIUserAbortError);
    }
    expect(received).not.toContain('ten');
    let call: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && !call; i++) {
      await t.gateway.recorded();
      call = (await t.journal.read(PROJECT, 'gateway', 0, 1000)).events.slice(recorded).at(-1)?.payload as Record<string, unknown> | undefined;
      if (!call) await new Promise((r) => setTimeout(r, 20));
    }
    expect(call).toMatchObject({ endpoint: '/v1/messages', status: 'error', error: { code: 'client_disconnected' }, stream: true });
    for (let i = 0; i < 100 && fake.aborted.length === abortedBefore; i++) await new Promise((r) => setTimeout(r, 20));
    expect(fake.aborted.length).toBe(abortedBefore + 1);
  });
});
