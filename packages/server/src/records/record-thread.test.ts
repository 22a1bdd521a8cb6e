import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { createBlobStore } from '../blobs/blob-store.js';
import { createJournal } from '../journal/journal-service.js';
import { createTraces } from '../traces/traces-service.js';
import { startServer, type RunningServer } from '../serve.js';
import { createCallRecorder, type CallRecord } from '../gateway/call-records.js';
import { createRecordThread } from './record-thread.js';

/** Logs as JSON lines, to look for the record thread's complaints. */
function capturedLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, errors: () => lines.filter((l) => l.level >= 50).map((l) => l.msg) };
}

const dirs: string[] = [];
function dataDir() {
  const dir = mkdtempSync(path.join(tmpdir(), 'hangar-record-thread-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('gateway call records and OTLP spans, written on a thread of their own (the server on SQLite)', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('records every call of a burst, priced as the project said when the call was made, and shutdown loses none', async () => {
    const dir = dataDir();
    const { logger, errors } = capturedLogger();
    server = await startServer(loadConfig({ HANGAR_DATA_DIR: dir, HANGAR_PORT: '0' }, { webDir: null }), { logger });
    const key = server.createdAdminKey!;
    const api = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(server!.url + url, {
        method,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    // $1 per million input tokens and $2 per million output tokens: a call costs input + 2 × output micro-USD
    const price = { provider: 'hangar', model: '*', effectiveFrom: '2020-01-01', input: 1_000_000, output: 2_000_000 };
    expect((await api('PUT', '/v1/prices', { overrides: [price] })).status).toBe(200);

    const calls = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        api('POST', '/v1/chat/completions', { model: 'hangar/echo', messages: [{ role: 'user', content: `ticket ${i} ${'x'.repeat(i)}` }] }),
      ),
    );
    expect(calls.map((c) => c.status)).toEqual(calls.map(() => 200));

    // a read right after the calls sees all of them (it waits for this process's pending records)
    const { json: page } = await api('GET', '/v1/streams/gateway/events?limit=100');
    const events = page.events as Array<{ payload: { usage: { input: number; output: number }; costMicros: number; request: { messages: Array<{ content: string }> } } }>;
    expect(events).toHaveLength(40);
    for (const e of events) expect(e.payload.costMicros).toBe(e.payload.usage.input + 2 * e.payload.usage.output);
    expect(new Set(events.map((e) => e.payload.request.messages[0]!.content)).size).toBe(40);
    expect(errors()).toEqual([]);

    // a price changed between two calls: the second call is costed at the new price
    expect((await api('PUT', '/v1/prices', { overrides: [{ ...price, input: 3_000_000 }] })).status).toBe(200);
    expect((await api('POST', '/v1/chat/completions', { model: 'hangar/echo', messages: [{ role: 'user', content: 'after' }] })).status).toBe(200);
    const { json: last } = await api('GET', '/v1/streams/gateway/events?afterSeq=40');
    const [after] = last.events as Array<{ payload: { usage: { input: number; output: number }; costMicros: number } }>;
    expect(after!.payload.costMicros).toBe(3 * after!.payload.usage.input + 2 * after!.payload.usage.output);

    // calls answered just before shutdown are committed before the server stops
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api('POST', '/v1/chat/completions', { model: 'hangar/echo', messages: [{ role: 'user', content: `late ${i}` }] })),
    );
    expect(burst.every((c) => c.status === 200)).toBe(true);
    await server.close();
    server = undefined;
    expect(errors()).toEqual([]);

    const reopened = await startServer(loadConfig({ HANGAR_DATA_DIR: dir, HANGAR_PORT: '0' }, { webDir: null }), { logger: pino({ level: 'silent' }) });
    server = reopened;
    const res = await fetch(`${reopened.url}/v1/streams/gateway/events?limit=100`, { headers: { authorization: `Bearer ${key}` } });
    expect(((await res.json()) as { events: unknown[] }).events).toHaveLength(61);
    const verify = await fetch(`${reopened.url}/v1/journal/verify`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
    expect(((await verify.json()) as { ok: boolean }).ok).toBe(true);
  }, 60_000);

  it('writes OTLP exports on the thread, each in one transaction committed before it is answered', async () => {
    const dir = dataDir();
    const { logger, errors } = capturedLogger();
    server = await startServer(loadConfig({ HANGAR_DATA_DIR: dir, HANGAR_PORT: '0' }, { webDir: null }), { logger });
    const key = server.createdAdminKey!;
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(server!.url + path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // $1 per million input tokens and $2 per million output tokens, set before the exports: the thread prices with it
    const price = { provider: 'openai', model: 'gpt-4o-mini', effectiveFrom: '2020-01-01', input: 1_000_000, output: 2_000_000 };
    expect((await post('/v1/prices', { overrides: [price] }, 'PUT')).status).toBe(200);

    const T0 = 1_760_000_000_000_000_000n;
    const kv = (k: string, v: string | number) => ({ key: k, value: typeof v === 'string' ? { stringValue: v } : { intValue: v } });
    // export e, span i: traces of 7 spans, so traces straddle the thread's parts of 100 spans
    const span = (e: number, i: number) => ({
      traceId: (e * 1000 + Math.floor(i / 7) + 1).toString(16).padStart(32, '0'),
      spanId: (e * 1000 + i + 1).toString(16).padStart(16, '0'),
      name: 'chat gpt-4o-mini',
      kind: 3,
      startTimeUnixNano: String(T0 + BigInt(i) * 1_000_000n),
      endTimeUnixNano: String(T0 + BigInt(i) * 1_000_000n + 500_000_000n),
      attributes: [
        kv('gen_ai.operation.name', 'chat'),
        kv('gen_ai.provider.name', 'openai'),
        kv('gen_ai.request.model', 'gpt-4o-mini'),
        kv('gen_ai.usage.input_tokens', 100 + i),
        kv('gen_ai.usage.output_tokens', 10),
        kv('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `question ${e}/${i}` }] }])),
      ],
      status: { code: 1 },
    });
    const exportOf = (spans: object[]) => ({ resourceSpans: [{ resource: { attributes: [kv('service.name', 'bot')] }, scopeSpans: [{ scope: { name: 't' }, spans }] }] });
    // six exporters at once, 245 spans each; one span of the last has an all-zero id and is rejected alone
    const bodies = Array.from({ length: 6 }, (_, e) => Array.from({ length: 245 }, (_, i) => span(e, i)));
    bodies[5]![3] = { ...bodies[5]![3]!, spanId: '0'.repeat(16) };
    const answers = await Promise.all(bodies.map((spans) => post('/v1/traces', exportOf(spans))));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const last = (await answers[5]!.json()) as { partialSuccess?: { rejectedSpans: number } };
    expect(last.partialSuccess?.rejectedSpans).toBe(1);
    // a malformed export writes nothing, and takes nothing else down
    const bad = await fetch(server.url + '/v1/traces', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"resourceSpans": [' });
    expect(bad.status).toBe(400);
    // so does one whose fault is near its end, found once the thread is writing its first parts
    const late = Array.from({ length: 245 }, (_, i) => span(7, i));
    late[230] = { ...late[230]!, startTimeUnixNano: 'soon' };
    const lateAnswer = await post('/v1/traces', exportOf(late));
    expect(lateAnswer.status).toBe(400);
    expect(((await lateAnswer.json()) as { error: { message: string } }).error.message).toMatch(/spans\.230\.startTimeUnixNano/);

    // answered means committed: read right away, each export's spans are all there, priced and summarized
    const get = async (path: string) => (await fetch(server!.url + path, { headers: { authorization: `Bearer ${key}` } })).json() as Promise<Record<string, unknown>>;
    const trace = (e: number, t: number) => (e * 1000 + t + 1).toString(16).padStart(32, '0');
    // trace 14 of export 2 has spans 98..104: the thread wrote them in two parts of one transaction
    const tree = (await get(`/v1/traces/${trace(2, 14)}`)) as { spans: Array<{ costMicros: number; usage: { input: number } }>; summary: { spanCount: number; costMicros: number } };
    expect(tree.spans).toHaveLength(7);
    for (const s of tree.spans) expect(s.costMicros).toBe(s.usage.input + 2 * 10);
    expect(tree.summary.spanCount).toBe(7);
    expect(tree.summary.costMicros).toBe(tree.spans.reduce((a, s) => a + s.costMicros, 0));
    // its input, stored by the thread in the blob store, reads back as sent (a span of each of two parts)
    for (const i of [99, 100]) {
      const spanId = (2 * 1000 + i + 1).toString(16).padStart(16, '0');
      const detail = (await get(`/v1/traces/${trace(2, 14)}/spans/${spanId}`)) as { input: unknown };
      expect(detail.input).toEqual([expect.objectContaining({ role: 'user', content: `question 2/${i}` })]);
    }
    const calls = async () =>
      ((await get('/v1/spans/aggregates?groupBy=model&from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z')) as { groups: Array<{ calls: number }> }).groups.reduce((a, g) => a + g.calls, 0);
    expect(await calls()).toBe(6 * 245 - 1);

    // an exporter's retry of a whole export stores nothing twice
    expect((await post('/v1/traces', exportOf(bodies[0]!))).status).toBe(200);
    expect(((await get(`/v1/traces/${trace(0, 14)}`)) as { summary: { spanCount: number } }).summary.spanCount).toBe(7);
    expect(await calls()).toBe(6 * 245 - 1);
    expect(errors()).toEqual([]);
  }, 60_000);

  it('falls back to writing on the main thread when the thread cannot open the database, losing no record', async () => {
    const dir = dataDir();
    const database = await openDatabase({ dataDir: dir });
    const blobs = createBlobStore({ dir: database.blobDir, direct: database.direct });
    const journal = createJournal({ db: database.db, blobs });
    const traces = createTraces({ db: database.db, blobs, direct: database.direct });
    const { logger, errors } = capturedLogger();
    // a data dir that is a file: the thread's connection cannot be opened
    const notADir = path.join(dir, 'not-a-dir');
    writeFileSync(notADir, '');
    const recorder = createRecordThread({
      database: { kind: 'sqlite', dataDir: notADir, checkpointed: false },
      delayMs: 0,
      logger,
      fallback: () => createCallRecorder({ db: database.db, traces, journal }),
    });
    const record = (i: number): CallRecord => ({
      projectId: 'proj_default',
      endpoint: 'chat',
      request: { model: 'hangar/echo', messages: [{ role: 'user', content: `ticket ${i}` }] },
      response: null,
      span: {
        traceId: `${i}`.padStart(32, '0'),
        spanId: `${i}`.padStart(16, '0'),
        parentSpanId: null,
        name: 'chat hangar/echo',
        kind: 'llm',
        status: 'ok',
        statusMessage: null,
        errorType: null,
        startTime: '2026-11-25T10:00:00.000Z',
        endTime: '2026-11-25T10:00:00.010Z',
        durationMs: 10,
        serviceName: 'hangar-gateway',
        agent: null,
        provider: 'hangar',
        model: 'echo',
        usage: { input: 3, output: 2, cacheRead: null, cacheWrite: null, reasoning: null },
        providerCostMicros: null,
        toolName: null,
        attributes: {},
        source: 'gateway',
      },
      actor: { type: 'key', id: 'key_test' },
      payload: { callId: `call_${i}` },
      cacheHit: false,
      answer: null,
    });
    // an OTLP batch sent to the thread before it failed: written here instead, in full
    const ingesting = createTraces({ db: database.db, blobs, direct: database.direct, spanSink: recorder });
    const spans = Array.from({ length: 150 }, (_, i) => ({ ...record(100 + i).span, source: 'otlp' as const, input: { i } }));
    await ingesting.ingest('proj_default', spans);
    expect(await traces.trace('proj_default', spans[0]!.traceId)).toHaveLength(1);
    const stored = await database.db.selectFrom('spans').select((eb) => eb.fn.countAll<number>().as('n')).where('source', '=', 'otlp').executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(150);
    const written = await Promise.all([1, 2, 3].map((i) => recorder.write(record(i))));
    expect(written).toHaveLength(3);
    expect(await recorder.write(record(4))).toBeDefined();
    expect(errors()).toEqual([expect.stringMatching(/record thread .*recorded on the main thread from now on/)]);
    const { events } = await journal.read('proj_default', 'gateway', 0, 10);
    expect(events.map((e) => (e.payload as { callId: string }).callId)).toEqual(['call_1', 'call_2', 'call_3', 'call_4']);
    await recorder.close();
    await database.close();
  }, 30_000);
});
