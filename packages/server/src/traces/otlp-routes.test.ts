import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobStore } from '../blobs/blob-store.js';
import { DIALECTS } from '../db/test-databases.js';
import { createTestApp, type TestApp } from '../test-app.js';

// OpenTelemetry's own generated protobuf code (the same the server decodes with)
interface PbType {
  encode(m: object): { finish(): Uint8Array };
  decode(b: Uint8Array): Record<string, unknown>;
  toObject(m: object, o: object): Record<string, unknown>;
}
const pb = (
  createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
    opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: PbType; ExportTraceServiceResponse: PbType } } } } };
  }
).opentelemetry.proto.collector.trace.v1;

const T0 = 1_760_000_000_000_000_000n;
const kv = (key: string, v: string | number) => ({ key, value: typeof v === 'string' ? { stringValue: v } : { intValue: v } });

/** A GenAI chat span as an OTLP/JSON object. */
function jsonSpan(traceId: string, spanId: string, extra: Record<string, unknown> = {}) {
  return {
    traceId,
    spanId,
    name: 'chat gpt-4o-mini',
    kind: 3,
    startTimeUnixNano: String(T0),
    endTimeUnixNano: String(T0 + 1_250_000_000n),
    attributes: [
      kv('gen_ai.operation.name', 'chat'),
      kv('gen_ai.provider.name', 'openai'),
      kv('gen_ai.request.model', 'gpt-4o-mini'),
      kv('gen_ai.usage.input_tokens', 1000),
      kv('gen_ai.usage.output_tokens', 500),
      kv('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }])),
    ],
    status: { code: 1 },
    ...extra,
  };
}
const jsonRequest = (spans: object[]) => ({
  resourceSpans: [{ resource: { attributes: [kv('service.name', 'bot')] }, scopeSpans: [{ scope: { name: 'test' }, spans }] }],
});

/** The same request as protobuf: ids as bytes, times as integers. */
function protobufRequest(spans: { traceId: string; spanId: string; name: string; attributes?: object[]; statusCode?: number }[]) {
  return pb.ExportTraceServiceRequest.encode({
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', 'bot')] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: spans.map((s) => ({
              traceId: Buffer.from(s.traceId, 'hex'),
              spanId: Buffer.from(s.spanId, 'hex'),
              name: s.name,
              kind: 3,
              startTimeUnixNano: Number(T0),
              endTimeUnixNano: Number(T0 + 2_000_000_000n),
              attributes: s.attributes ?? [],
              status: { code: s.statusCode ?? 0 },
            })),
          },
        ],
      },
    ],
  }).finish();
}

const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
const trace = (n: number) => hex(n, 32);
const span = (n: number) => hex(n, 16);

describe('POST /v1/traces (OTLP/HTTP)', () => {
  let t: TestApp;
  const post = (body: Uint8Array | string, headers: Record<string, string>, key: string | null = null) =>
    t.app.request('/v1/traces', {
      method: 'POST',
      headers: { authorization: `Bearer ${key ?? adminKey}`, ...headers },
      body: typeof body === 'string' ? body : Buffer.from(body),
    });
  let adminKey: string;
  const count = async () => Number((await t.database.db.selectFrom('spans').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    t = await createTestApp('sqlite', { maxTraceBodyBytes: 64 * 1024 });
    adminKey = (await import('../test-app.js')).ADMIN_KEY;
  });
  afterAll(async () => {
    await t.close();
  });

  it('stores JSON spans, normalized and priced, and answers an empty ExportTraceServiceResponse', async () => {
    const res = await post(JSON.stringify(jsonRequest([jsonSpan(trace(1), span(1))])), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({});
    const [s] = await t.traces.trace('proj_default', trace(1));
    expect(s).toMatchObject({
      kind: 'llm',
      provider: 'openai',
      model: 'gpt-4o-mini',
      status: 'ok',
      serviceName: 'bot',
      durationMs: 1250,
      usage: { input: 1000, output: 500 },
      costMicros: 450, // 1000 × $0.15/M + 500 × $0.60/M
      source: 'otlp',
    });
    const blob = await createBlobStore({ dir: t.database.blobDir }).get(t.database.db, s!.inputSha256!);
    expect(JSON.parse(Buffer.from(blob!).toString())).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it('keeps a cost the span reports beside its own, and flags the difference', async () => {
    const reported = (usd: number, n: number) => jsonSpan(trace(20), span(n), { attributes: [...jsonSpan('', '').attributes, { key: 'gen_ai.usage.cost', value: { doubleValue: usd } }] });
    const res = await post(JSON.stringify(jsonRequest([reported(0.0005, 20), reported(0.00045, 21)])), { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const spans = (await t.traces.trace('proj_default', trace(20))).sort((a, b) => a.spanId.localeCompare(b.spanId));
    expect(spans.map((s) => [s.costMicros, s.providerCostMicros, s.costDiffers])).toEqual([
      [450, 500, true],
      [450, 450, false],
    ]);
  });

  it('stores protobuf spans and answers in protobuf', async () => {
    const body = protobufRequest([
      { traceId: trace(2), spanId: span(2), name: 'ChatCompletion', attributes: [kv('openinference.span.kind', 'LLM'), kv('llm.model_name', 'gpt-4o'), kv('llm.provider', 'openai')] },
    ]);
    const res = await post(body, { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect(pb.ExportTraceServiceResponse.decode(new Uint8Array(await res.arrayBuffer())).partialSuccess).toBeFalsy();
    expect(await t.traces.trace('proj_default', trace(2))).toMatchObject([{ kind: 'llm', model: 'gpt-4o', name: 'ChatCompletion', durationMs: 2000 }]);
  });

  it('accepts gzip in both encodings, and x-hangar-key', async () => {
    const json = gzipSync(JSON.stringify(jsonRequest([jsonSpan(trace(3), span(3))])));
    const proto = gzipSync(protobufRequest([{ traceId: trace(3), spanId: span(4), name: 'p' }]));
    const h = { 'content-encoding': 'gzip', 'x-hangar-key': adminKey };
    for (const [body, type] of [[json, 'application/json'], [proto, 'application/x-protobuf']] as const) {
      const res = await t.app.request('/v1/traces', { method: 'POST', headers: { 'content-type': type, ...h }, body: Buffer.from(body) });
      expect(res.status).toBe(200);
    }
    expect((await t.traces.trace('proj_default', trace(3))).map((s) => s.spanId).sort()).toEqual([span(3), span(4)]);
  });

  it('a retried export stores each span once', async () => {
    const body = JSON.stringify(jsonRequest([jsonSpan(trace(5), span(5))]));
    for (let i = 0; i < 2; i++) expect((await post(body, { 'content-type': 'application/json' })).status).toBe(200);
    expect(await t.traces.trace('proj_default', trace(5))).toHaveLength(1);
  });

  it('partial success: spans with bad ids are rejected and counted, the rest stored (JSON)', async () => {
    const body = JSON.stringify(jsonRequest([jsonSpan(trace(6), span(6)), jsonSpan('abc', span(7)), jsonSpan(trace(6), '0'.repeat(16))]));
    const res = await post(body, { 'content-type': 'application/json' });
    expect(res.status).toBe(200);
    const out = (await res.json()) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
    expect(out.partialSuccess.rejectedSpans).toBe(2);
    expect(out.partialSuccess.errorMessage).toMatch(/traceId/);
    expect(await t.traces.trace('proj_default', trace(6))).toHaveLength(1);
  });

  it('partial success in protobuf', async () => {
    const body = protobufRequest([
      { traceId: trace(8), spanId: span(8), name: 'ok' },
      { traceId: '00', spanId: span(9), name: 'short trace id' },
    ]);
    const res = await post(body, { 'content-type': 'application/x-protobuf' });
    const decoded = pb.ExportTraceServiceResponse.decode(new Uint8Array(await res.arrayBuffer()));
    const obj = pb.ExportTraceServiceResponse.toObject(decoded, { longs: Number }) as { partialSuccess: { rejectedSpans: number; errorMessage: string } };
    expect(obj.partialSuccess.rejectedSpans).toBe(1);
    expect(obj.partialSuccess.errorMessage).toMatch(/short trace id/);
  });

  describe('malformed payloads get 400 with the reason and write nothing', () => {
    const cases: [string, string | Uint8Array, Record<string, string>, number, string, RegExp][] = [
      ['not JSON', '{"resourceSpans": [', { 'content-type': 'application/json' }, 400, 'invalid_json', /not valid JSON/],
      ['wrong shape', JSON.stringify({ resourceSpans: { nope: 1 } }), { 'content-type': 'application/json' }, 400, 'validation_failed', /resourceSpans: expected an array/],
      [
        'a bad value deep inside, after good spans',
        JSON.stringify(jsonRequest([jsonSpan(trace(10), span(10)), jsonSpan(trace(10), span(11), { startTimeUnixNano: 'soon' })])),
        { 'content-type': 'application/json' },
        400,
        'validation_failed',
        /resourceSpans\.0\.scopeSpans\.0\.spans\.1\.startTimeUnixNano/,
      ],
      [
        'a bad value inside a nested attribute, named by its path',
        JSON.stringify(
          jsonRequest([
            jsonSpan(trace(10), span(12), {
              attributes: [kv('ok', 'fine'), { key: 'list', value: { arrayValue: { values: [{ boolValue: true }, { kvlistValue: { values: [{ key: 'k', value: { boolValue: 'yes' } }] } }] } } }],
            }),
          ]),
        ),
        { 'content-type': 'application/json' },
        400,
        'validation_failed',
        /spans\.0\.attributes\.1\.value\.arrayValue\.values\.1\.kvlistValue\.values\.0\.value\.boolValue: expected a boolean/,
      ],
      [
        'a bad status, after the span fields',
        JSON.stringify(jsonRequest([jsonSpan(trace(10), span(13), { status: { code: 'STATUS_CODE_MAYBE' } })])),
        { 'content-type': 'application/json' },
        400,
        'validation_failed',
        /spans\.0\.status\.code: expected one of STATUS_CODE_UNSET/,
      ],
      ['not protobuf', new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]), { 'content-type': 'application/x-protobuf' }, 400, 'validation_failed', /protobuf/],
      ['not gzip', 'plain', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 400, 'validation_failed', /gzip/],
      ['unknown encoding', '{}', { 'content-type': 'application/json', 'content-encoding': 'br' }, 415, 'unsupported_media_type', /br/],
      ['unknown content type', 'x', { 'content-type': 'text/plain' }, 415, 'unsupported_media_type', /x-protobuf/],
    ];
    for (const [name, body, headers, status, code, message] of cases) {
      it(name, async () => {
        const before = await count();
        const res = await post(body, headers);
        const json = (await res.json()) as { error: { code: string; message: string } };
        expect([res.status, json.error.code]).toEqual([status, code]);
        expect(json.error.message).toMatch(message);
        expect(await count()).toBe(before);
      });
    }
  });

  it('limits the body, before and after gunzip (64 KiB here)', async () => {
    const big = JSON.stringify(jsonRequest([jsonSpan(trace(12), span(12), { name: 'x'.repeat(70_000) })]));
    const res = await post(big, { 'content-type': 'application/json' });
    expect(res.status).toBe(413);
    // a declared length past the limit is refused as such; one within it is read
    const declared = await post(big, { 'content-type': 'application/json', 'content-length': String(big.length) });
    expect([declared.status, ((await declared.json()) as { error: { code: string } }).error.code]).toEqual([413, 'payload_too_large']);
    const fits = JSON.stringify(jsonRequest([jsonSpan(trace(12), span(14))]));
    expect((await post(fits, { 'content-type': 'application/json', 'content-length': String(fits.length) })).status).toBe(200);
    const bomb = gzipSync(Buffer.alloc(10_000_000, 0x20)); // 10 MB of spaces in ~10 KB
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res2 = await post(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect([res2.status, ((await res2.json()) as { error: { code: string } }).error.code]).toEqual([413, 'payload_too_large']);
  });

  it('needs a key with ingest permission', async () => {
    const body = JSON.stringify(jsonRequest([jsonSpan(trace(13), span(13))]));
    const readOnly = (await t.request('POST', '/v1/keys', { body: { name: 'viewer', role: 'read-only' } })).json.key as string;
    const ingestOnly = (await t.request('POST', '/v1/keys', { body: { name: 'exporter', role: 'ingest-only' } })).json.key as string;
    const anon = await t.app.request('/v1/traces', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(anon.status).toBe(401);
    expect((await post(body, { 'content-type': 'application/json' }, readOnly)).status).toBe(403);
    expect(await t.traces.trace('proj_default', trace(13))).toEqual([]);
    expect((await post(body, { 'content-type': 'application/json' }, ingestOnly)).status).toBe(200);
    expect(await t.traces.trace('proj_default', trace(13))).toHaveLength(1);
  });

  it('is described in /openapi.json with both encodings', async () => {
    const doc = (await t.request('GET', '/openapi.json', { key: null })).json;
    expect(Object.keys(doc.paths['/v1/traces'].post.requestBody.content).sort()).toEqual(['application/json', 'application/x-protobuf']);
  });
});

for (const dialect of DIALECTS) {
  it(`ingests in one transaction on ${dialect}`, async () => {
    const t = await createTestApp(dialect);
    try {
      const spans = Array.from({ length: 250 }, (_, i) => jsonSpan(trace(100), span(i + 1)));
      const res = await t.request('POST', '/v1/traces', { body: jsonRequest(spans) });
      expect(res.status).toBe(200);
      const stored = await t.traces.trace('proj_default', trace(100));
      expect(stored).toHaveLength(250);
      expect(stored.every((s) => s.costMicros === 450 && s.inputSha256 !== null)).toBe(true);
    } finally {
      await t.close();
    }
  });
}
