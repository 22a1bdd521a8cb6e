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
import { createCallRecorder, type CallRecord } from './call-records.js';
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

describe('gateway call records, written on a thread of their own (the server on SQLite)', () => {
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
