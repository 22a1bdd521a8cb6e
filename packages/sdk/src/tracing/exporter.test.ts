import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  HangarExporter,
  HangarSpanProcessor,
  retryAfterMillis,
  type HangarExporterOptions,
} from './exporter.js';
import { setupHangarTracing } from './setup.js';

// ---------------------------------------------------------------------------------------------
// A small OTLP/HTTP receiver: decodes what arrives and answers as told.

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

interface OtlpRequest {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: OtlpSpan[] }[];
  }[];
}

// A protobuf reader for the OTLP fields these tests look at (opentelemetry-proto field numbers).
type Field = { n: number; wire: number; bytes: Uint8Array; int: bigint };

function readFields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const wire = tag & 7;
    const field: Field = { n: tag >> 3, wire, bytes: new Uint8Array(), int: 0n };
    if (wire === 0) field.int = varint();
    else if (wire === 2) {
      const len = Number(varint());
      field.bytes = buf.subarray(pos, pos + len);
      pos += len;
    } else if (wire === 1) {
      field.bytes = buf.subarray(pos, pos + 8);
      pos += 8;
    } else if (wire === 5) {
      field.bytes = buf.subarray(pos, pos + 4);
      pos += 4;
    } else throw new Error(`wire type ${wire}`);
    out.push(field);
  }
  return out;
}

const text = (f: Field) => Buffer.from(f.bytes).toString('utf8');
const hex = (f: Field) => Buffer.from(f.bytes).toString('hex');

function decodeKeyValue(buf: Uint8Array): { key: string; value: Record<string, unknown> } {
  let key = '';
  const value: Record<string, unknown> = {};
  for (const f of readFields(buf)) {
    if (f.n === 1) key = text(f);
    if (f.n === 2) {
      for (const v of readFields(f.bytes)) {
        if (v.n === 1) value.stringValue = text(v);
        if (v.n === 2) value.boolValue = v.int === 1n;
        if (v.n === 3) value.intValue = String(v.int);
        if (v.n === 4) value.doubleValue = Buffer.from(v.bytes).readDoubleLE(0);
      }
    }
  }
  return { key, value };
}

function decodeProtobufRequest(buf: Uint8Array): OtlpRequest {
  return {
    resourceSpans: readFields(buf)
      .filter((f) => f.n === 1)
      .map((rs) => {
        const fields = readFields(rs.bytes);
        const resource = fields.find((f) => f.n === 1);
        return {
          resource: {
            attributes: resource
              ? readFields(resource.bytes)
                  .filter((f) => f.n === 1)
                  .map((f) => decodeKeyValue(f.bytes) as { key: string; value: { stringValue?: string } })
              : [],
          },
          scopeSpans: fields
            .filter((f) => f.n === 2)
            .map((ss) => ({
              spans: readFields(ss.bytes)
                .filter((f) => f.n === 2)
                .map((sp): OtlpSpan => {
                  const span: OtlpSpan = { traceId: '', spanId: '', name: '', attributes: [] };
                  for (const f of readFields(sp.bytes)) {
                    if (f.n === 1) span.traceId = hex(f);
                    if (f.n === 2) span.spanId = hex(f);
                    if (f.n === 4 && f.bytes.length > 0) span.parentSpanId = hex(f);
                    if (f.n === 5) span.name = text(f);
                    if (f.n === 9) span.attributes!.push(decodeKeyValue(f.bytes));
                  }
                  return span;
                }),
            })),
        };
      }),
  };
}

interface Received {
  headers: IncomingMessage['headers'];
  service: string | undefined;
  spans: OtlpSpan[];
}

type Reply = (res: ServerResponse) => void;

const ok: Reply = (res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{}');
};

function startReceiver() {
  const received: Received[] = [];
  const replies: Reply[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body =
        req.headers['content-type'] === 'application/x-protobuf'
          ? decodeProtobufRequest(raw)
          : (JSON.parse(raw.toString('utf8')) as OtlpRequest);
      for (const rs of body.resourceSpans) {
        received.push({
          headers: req.headers,
          service: rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue,
          spans: rs.scopeSpans.flatMap((s) => s.spans),
        });
      }
      (replies.shift() ?? ok)(res);
    });
  });
  return {
    received,
    /** Answers the next requests with these, in order; then 200. */
    replies,
    spans: () => received.flatMap((r) => r.spans),
    url: '',
    async start() {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const status =
  (code: number, headers: Record<string, string> = {}, body = '{}'): Reply =>
  (res) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };

const attr = (span: OtlpSpan, key: string) => span.attributes?.find((a) => a.key === key)?.value;

let receiver: ReturnType<typeof startReceiver>;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  receiver = startReceiver();
  await receiver.start();
});
afterAll(() => receiver.close());
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  receiver.received.length = 0;
  receiver.replies.length = 0;
});

/** An exporter behind its own tracer provider (not registered globally). */
function traced(options: Partial<HangarExporterOptions> = {}) {
  const warnings: string[] = [];
  const exporter = new HangarExporter({
    baseUrl: receiver.url,
    apiKey: 'hk_test_key',
    initialBackoffMillis: 5,
    onWarning: (m) => warnings.push(m),
    ...options,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'exporter-test' }),
    spanProcessors: [new HangarSpanProcessor(exporter)],
  });
  cleanups.push(() => provider.shutdown());
  const tracer = provider.getTracer('test');
  const emit = (n: number, prefix = 'span') => {
    for (let i = 0; i < n; i++) tracer.startSpan(`${prefix}-${i}`, { attributes: { i } }).end();
  };
  return { exporter, tracer, emit, warnings };
}

describe('HangarExporter', () => {
  it('delivers spans as OTLP/JSON with the key, the resource, ids and attributes', async () => {
    const { exporter, tracer } = traced();
    const parent = tracer.startSpan('parent');
    const attributes = { 'gen_ai.request.model': 'gpt-4o-mini', n: 3, ok: true };
    tracer.startSpan('child', { attributes }, trace.setSpan(context.active(), parent)).end();
    parent.end();
    await exporter.flush();

    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request!.headers.authorization).toBe('Bearer hk_test_key');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(request!.service).toBe('exporter-test');
    const sentParent = request!.spans.find((s) => s.name === 'parent')!;
    const child = request!.spans.find((s) => s.name === 'child')!;
    expect(child.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(child.traceId).toBe(sentParent.traceId);
    expect(child.parentSpanId).toBe(sentParent.spanId);
    expect(attr(child, 'gen_ai.request.model')).toEqual({ stringValue: 'gpt-4o-mini' });
    expect(attr(child, 'ok')).toEqual({ boolValue: true });
    expect(exporter.stats()).toMatchObject({ exported: 2, pending: 0, dropped: 0, failed: 0, requests: 1 });
  });

  it('speaks OTLP/protobuf too, and reads a protobuf partial-success response', async () => {
    // ExportTraceServiceResponse { partial_success { rejected_spans: 1, error_message: "no" } }
    const partial = Buffer.from([0x0a, 0x06, 0x08, 0x01, 0x12, 0x02, 0x6e, 0x6f]);
    receiver.replies.push((res) => {
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(partial);
    });
    const { exporter, tracer, warnings } = traced({ encoding: 'protobuf' });
    const parent = tracer.startSpan('parent');
    const attributes = { 'gen_ai.request.model': 'gpt-4o-mini', n: 3, ok: true, temperature: 0.5 };
    tracer.startSpan('child', { attributes }, trace.setSpan(context.active(), parent)).end();
    parent.end();
    await exporter.flush();

    const [request] = receiver.received;
    expect(request!.headers['content-type']).toBe('application/x-protobuf');
    expect(request!.service).toBe('exporter-test');
    const sentParent = request!.spans.find((s) => s.name === 'parent')!;
    const child = request!.spans.find((s) => s.name === 'child')!;
    expect(child.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(child.traceId).toBe(sentParent.traceId);
    expect(child.parentSpanId).toBe(sentParent.spanId);
    expect(Object.fromEntries(child.attributes!.map((a) => [a.key, a.value]))).toEqual({
      'gen_ai.request.model': { stringValue: 'gpt-4o-mini' },
      n: { intValue: '3' },
      ok: { boolValue: true },
      temperature: { doubleValue: 0.5 },
    });
    expect(exporter.stats()).toMatchObject({ exported: 1, rejected: 1 });
    expect(warnings).toEqual(['Hangar rejected 1 span(s): no']);
  });

  it('sends batches of at most maxBatchSize, and a partial batch after the delay without a flush', async () => {
    const { exporter, emit } = traced({ maxBatchSize: 3, scheduledDelayMillis: 20 });
    emit(7);
    await exporter.flush();
    expect(receiver.received.map((r) => r.spans.length).sort()).toEqual([1, 3, 3]);

    receiver.received.length = 0;
    emit(1, 'late');
    await expect.poll(() => receiver.spans().map((s) => s.name), { timeout: 2000 }).toEqual(['late-0']);
  });

  it('drops spans past the queue bound, counts them and warns once', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    receiver.replies.push((res) => void held.then(() => ok(res)));
    const { exporter, emit, warnings } = traced({ maxQueueSize: 5, maxBatchSize: 5 });

    emit(5); // a full batch: sent at once, and held by the receiver
    await expect.poll(() => receiver.received.length).toBe(1);
    emit(4, 'overflow'); // the queue bound counts the spans in flight: no room
    expect(exporter.stats()).toMatchObject({ pending: 5, dropped: 4 });
    emit(3, 'more');
    expect(exporter.stats().dropped).toBe(7);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/dropping spans.*queue is full \(5 spans\)/);

    release();
    await exporter.flush();
    expect(exporter.stats()).toMatchObject({ exported: 5, dropped: 7, pending: 0 });
    expect(receiver.spans().map((s) => s.name)).toEqual(['span-0', 'span-1', 'span-2', 'span-3', 'span-4']);
  });

  it('keeps at most maxConcurrentRequests requests in flight', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    for (let i = 0; i < 5; i++) receiver.replies.push((res) => void held.then(() => ok(res)));
    const { exporter, emit } = traced({ maxBatchSize: 1, maxConcurrentRequests: 2 });
    emit(5);
    await expect.poll(() => receiver.received.length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(receiver.received).toHaveLength(2);
    expect(exporter.stats().pending).toBe(5);
    release();
    await exporter.flush();
    expect(
      receiver
        .spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['span-0', 'span-1', 'span-2', 'span-3', 'span-4']);
  });

  it('retries after a 503 and delivers the same spans once accepted', async () => {
    receiver.replies.push(status(503, {}, '{"error":{"code":"unavailable","message":"starting"}}'));
    const { exporter, emit } = traced();
    emit(2);
    await exporter.flush();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1]!.spans).toEqual(receiver.received[0]!.spans);
    expect(exporter.stats()).toMatchObject({
      exported: 2,
      retries: 1,
      failed: 0,
      lastError: 'HTTP 503: unavailable: starting',
    });
  });

  it('honours Retry-After on a 429 instead of its own backoff', async () => {
    receiver.replies.push(status(429, { 'retry-after': '0' }));
    // Without Retry-After the first retry would wait 2.5–5 s.
    const { exporter, emit } = traced({ initialBackoffMillis: 5000 });
    emit(1);
    const started = performance.now();
    await exporter.flush();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(exporter.stats()).toMatchObject({ exported: 1, retries: 1 });
  });

  it('retries after a network error', async () => {
    receiver.replies.push((res) => res.socket?.destroy());
    const { exporter, emit } = traced();
    emit(1);
    await exporter.flush();
    expect(exporter.stats()).toMatchObject({ exported: 1, retries: 1 });
    expect(receiver.spans().map((s) => s.name)).toEqual(['span-0', 'span-0']);
  });

  it('gives up after maxAttempts, and at once on an error a retry cannot fix; both counted and warned', async () => {
    receiver.replies.push(status(500), status(502), status(503));
    const retried = traced({ maxAttempts: 3 });
    retried.emit(2);
    await retried.exporter.flush();
    expect(receiver.received).toHaveLength(3);
    expect(retried.exporter.stats()).toMatchObject({ exported: 0, failed: 2, retries: 2 });
    expect(retried.warnings).toEqual([
      expect.stringMatching(/could not export 2 span\(s\): HTTP 503.*after 3 tries/),
    ]);

    receiver.received.length = 0;
    receiver.replies.push(
      status(401, {}, '{"error":{"code":"invalid_key","message":"The API key is not valid."}}'),
    );
    const refused = traced();
    refused.emit(1);
    await refused.exporter.flush();
    expect(receiver.received).toHaveLength(1);
    expect(refused.exporter.stats()).toMatchObject({
      failed: 1,
      retries: 0,
      lastError: 'HTTP 401: invalid_key: The API key is not valid.',
    });
    expect(refused.warnings[0]).toContain('invalid_key');
  });

  it('counts spans refused in an OTLP partial-success response', async () => {
    receiver.replies.push(
      status(200, {}, JSON.stringify({ partialSuccess: { rejectedSpans: 2, errorMessage: 'bad span ids' } })),
    );
    const { exporter, emit, warnings } = traced();
    emit(3);
    await exporter.flush();
    expect(exporter.stats()).toMatchObject({ exported: 1, rejected: 2 });
    expect(warnings[0]).toContain('bad span ids');
  });

  it('works as the SpanExporter of any processor, and stops after shutdown', async () => {
    const warnings: string[] = [];
    const exporter = new HangarExporter({
      baseUrl: receiver.url,
      apiKey: 'k',
      onWarning: (m) => warnings.push(m),
    });
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.getTracer('t').startSpan('before').end();
    await provider.forceFlush(); // SimpleSpanProcessor passes forceFlush on to the exporter
    expect(receiver.spans().map((s) => s.name)).toEqual(['before']);
    provider.getTracer('t').startSpan('at shutdown').end();
    const listeners = process.listenerCount('beforeExit');
    await provider.shutdown();
    expect(receiver.spans().map((s) => s.name)).toEqual(['before', 'at shutdown']); // shutdown flushed
    expect(process.listenerCount('beforeExit')).toBe(listeners - 1);

    const results: number[] = [];
    exporter.export([], (r) => results.push(r.code));
    await new Promise<void>((resolve) =>
      exporter.export([{} as never], (r) => (results.push(r.code), resolve())),
    );
    expect(results).toEqual([0, 1]); // SUCCESS for nothing, FAILED once shut down
    expect(exporter.stats().dropped).toBe(1);
    expect(warnings[0]).toContain('shut down');
  });
});

describe('retryAfterMillis', () => {
  it('reads delay-seconds and HTTP dates', () => {
    expect(retryAfterMillis('2')).toBe(2000);
    expect(retryAfterMillis(null)).toBeNull();
    expect(retryAfterMillis('soon')).toBeNull();
    const inFive = retryAfterMillis(new Date(Date.now() + 5000).toUTCString())!;
    expect(inFive).toBeGreaterThan(3000);
    expect(inFive).toBeLessThanOrEqual(5000);
  });
});

describe('setupHangarTracing', () => {
  it('registers a provider that sends to Hangar; a second setup finds it and says so', async () => {
    const tracing = setupHangarTracing({
      baseUrl: receiver.url,
      apiKey: 'hk_setup',
      serviceName: 'support-agent',
      flushOnExit: false,
    });
    cleanups.push(() => tracing.shutdown());
    expect(tracing.registered).toBe(true);
    trace.getTracer('app').startActiveSpan('outer', (outer) => {
      trace.getTracer('app').startSpan('inner').end();
      outer.end();
    });
    await tracing.flush();
    expect(receiver.received[0]!.service).toBe('support-agent');
    const [inner, outer] = receiver.spans();
    expect(inner!.parentSpanId).toBe(outer!.spanId);

    const warnings: string[] = [];
    const second = setupHangarTracing({
      baseUrl: receiver.url,
      apiKey: 'k',
      onWarning: (m) => warnings.push(m),
      flushOnExit: false,
    });
    cleanups.push(() => second.shutdown());
    expect(second.registered).toBe(false);
    expect(warnings[0]).toMatch(/already registered.*HangarSpanProcessor/);
  });

  it('sends what is queued when the process exits on its own, with no flush()', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hangar-sdk-exit-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const setup = path.join(path.dirname(fileURLToPath(import.meta.url)), 'setup.ts');
    const spans = path.join(path.dirname(fileURLToPath(import.meta.url)), 'spans.ts');
    const script = path.join(dir, 'app.mts');
    writeFileSync(
      script,
      [
        `import { setupHangarTracing } from ${JSON.stringify(setup)};`,
        `import { withSpan } from ${JSON.stringify(spans)};`,
        // a long delay: only the exit hook can send the span in time
        `setupHangarTracing({ baseUrl: ${JSON.stringify(receiver.url)}, apiKey: 'hk_exit', serviceName: 'short-lived', scheduledDelayMillis: 60_000 });`,
        `await withSpan('last words', async () => {});`,
      ].join('\n'),
    );
    const tsx = import.meta.resolve('tsx');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['--import', tsx, script], { stdio: 'inherit' });
      child.on('exit', resolve);
    });
    expect(code).toBe(0);
    expect(receiver.received.map((r) => [r.service, r.spans.map((s) => s.name)])).toEqual([
      ['short-lived', ['last words']],
    ]);
  });
});
