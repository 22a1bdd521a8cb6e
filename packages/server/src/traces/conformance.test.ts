import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Span } from '@hangar/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobStore } from '../blobs/blob-store.js';
import { ADMIN_KEY, createTestApp, type TestApp } from '../test-app.js';
import { FAKE_MODEL, FAKE_TEXT, FAKE_TOOL_CALL, startFakeOpenAI } from './conformance/fake-openai.js';

/**
 * Conformance: spans made by the real instrumentation packages — OpenInference's OpenAI
 * instrumentation, OpenTelemetry's GenAI-convention OpenAI instrumentation, and the Vercel AI SDK's
 * experimental_telemetry — around real clients calling a fake OpenAI on a socket, exported by the
 * real OTLP exporters (configured by OTEL_* env vars alone) to Hangar's endpoint on a socket.
 * Every mapped field is checked against what the fake provider answered.
 */
const APP = fileURLToPath(new URL('./conformance/instrumented-app.cjs', import.meta.url));
const run = promisify(execFile);

// the fake's usage: 1200 prompt tokens (400 of them cached), 700 completion tokens; gpt-4o-mini costs
// $0.15 / $0.075 cached / $0.60 per M: 800 × 0.15 + 400 × 0.075 + 700 × 0.60 = 120 + 30 + 420 micro-USD
const COST_WITH_CACHE = 570;
// an instrumentation that does not report the cached count: 1200 × 0.15 + 700 × 0.60 = 180 + 420
const COST_WITHOUT_CACHE = 600;

describe('conformance with real instrumentation packages', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<TestApp['listen']>>;
  let hangarUrl: string;
  let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
  const blobs = () => createBlobStore({ dir: t.database.blobDir });
  const content = async (sha: string | null) => (sha ? JSON.parse(Buffer.from((await blobs().get(t.database.db, sha))!).toString()) : null);

  beforeAll(async () => {
    t = await createTestApp();
    fake = await startFakeOpenAI();
    server = await t.listen();
    hangarUrl = server.url;
  });
  afterAll(async () => {
    await server.close();
    await fake.close();
    await t.close();
  });

  /** Runs the instrumented app in its own process and returns the spans Hangar stored from it. */
  async function spansOf(mode: string): Promise<Span[]> {
    const service = `conformance-${mode}`;
    await run(process.execPath, [APP, mode], {
      env: {
        PATH: process.env.PATH,
        FAKE_OPENAI_URL: fake.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: hangarUrl,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${ADMIN_KEY}`,
        OTEL_SERVICE_NAME: service,
      },
      timeout: 30_000,
    });
    const rows = await t.database.db.selectFrom('spans').select(['trace_id', 'span_id']).where('service_name', '=', service).execute();
    const traceIds = [...new Set(rows.map((r) => r.trace_id))];
    const spans = (await Promise.all(traceIds.map((id) => t.traces.trace('proj_default', id)))).flat();
    return spans.sort((a, b) => a.startTime.localeCompare(b.startTime));
  }

  it('OpenInference (@arizeai/openinference-instrumentation-openai), over OTLP/protobuf', async () => {
    const spans = await spansOf('openinference');
    const llm = spans.filter((s) => s.kind === 'llm');
    // a call that fails upstream leaves its span unended in this package (4.2.x: the rejection path
    // never calls span.end()), so it is never exported; error mapping is checked with the others
    expect(llm).toHaveLength(2);
    const [hello, weather] = llm;
    for (const s of [hello!, weather!]) {
      expect(s).toMatchObject({
        provider: 'openai',
        model: FAKE_MODEL,
        status: 'ok',
        serviceName: 'conformance-openinference',
        usage: { input: 1200, output: 700, cacheRead: 400 },
        costMicros: COST_WITH_CACHE,
        source: 'otlp',
      });
    }
    expect(await content(hello!.inputSha256)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello' },
    ]);
    expect(await content(hello!.outputSha256)).toEqual([{ role: 'assistant', content: FAKE_TEXT }]);
    expect(await content(weather!.inputSha256)).toEqual([{ role: 'user', content: 'What is the weather in Oslo?' }]);
    expect(await content(weather!.outputSha256)).toEqual([
      { role: 'assistant', content: '', toolCalls: [{ id: FAKE_TOOL_CALL.id, name: FAKE_TOOL_CALL.name, arguments: { city: 'Oslo' } }] },
    ]);
    // OpenInference records no token counts on embedding spans
    const embedding = spans.find((s) => s.kind === 'embedding');
    expect(embedding).toMatchObject({ provider: 'openai', model: 'text-embedding-3-small', usage: { input: null } });
    expect(await content(embedding!.inputSha256)).toBe('embed me');
    // message content lives in the blob store, not in the span's attributes
    expect(Object.keys(hello!.attributes).filter((k) => k.includes('messages') || k.endsWith('.value'))).toEqual([]);
  });

  it('GenAI semantic conventions (@opentelemetry/instrumentation-openai), over OTLP/protobuf', async () => {
    const spans = await spansOf('genai');
    const llm = spans.filter((s) => s.kind === 'llm');
    expect(llm.map((s) => s.name)).toEqual(['chat gpt-4o-mini', 'chat gpt-4o-mini', 'chat gpt-4o-mini']);
    const [hello, weather, failed] = llm;
    for (const s of [hello!, weather!]) {
      expect(s).toMatchObject({ provider: 'openai', model: FAKE_MODEL, usage: { input: 1200, output: 700, cacheRead: null }, costMicros: COST_WITHOUT_CACHE });
    }
    // this instrumentation sends message content as OTel log events, not on spans: nothing to map
    expect(hello!.inputSha256).toBeNull();
    expect(failed).toMatchObject({ status: 'error', model: 'gpt-4o-mini', costMicros: null });
    expect(failed!.errorType).toBeTruthy();
    expect(spans.find((s) => s.kind === 'embedding')).toMatchObject({ provider: 'openai', model: 'text-embedding-3-small', usage: { input: 5 } });
  });

  it('Vercel AI SDK experimental_telemetry, over OTLP/JSON', async () => {
    const spans = await spansOf('ai-sdk');
    const byName = (name: string) => spans.filter((s) => s.name === name);
    // operations are chains without tokens; their provider calls are llm spans with them
    const operations = byName('ai.generateText');
    expect(operations).toHaveLength(3);
    for (const op of operations) expect(op).toMatchObject({ kind: 'chain', usage: { input: null }, costMicros: null });
    const calls = [...byName('ai.generateText.doGenerate'), ...byName('ai.streamText.doStream')];
    const ok = calls.filter((s) => s.status !== 'error');
    expect(ok).toHaveLength(4); // hello, weather (tool call, then answer), stream
    for (const s of ok) {
      expect(s).toMatchObject({ kind: 'llm', provider: 'openai', usage: { input: 1200, output: 700, cacheRead: 400 }, costMicros: COST_WITH_CACHE });
      expect(s.model).toMatch(/^gpt-4o-mini/);
    }
    const [hello, weather1, weather2] = byName('ai.generateText.doGenerate');
    expect(await content(hello!.inputSha256)).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello' },
    ]);
    expect(await content(hello!.outputSha256)).toEqual([{ role: 'assistant', content: FAKE_TEXT }]);
    expect(await content(weather1!.outputSha256)).toEqual([
      { role: 'assistant', content: '', toolCalls: [{ id: FAKE_TOOL_CALL.id, name: 'get_weather', arguments: { city: 'Oslo' } }] },
    ]);
    // the second step sees the tool's result
    const secondInput = (await content(weather2!.inputSha256)) as { role: string; toolCallId?: string }[];
    expect(secondInput.at(-1)).toMatchObject({ role: 'tool', toolCallId: FAKE_TOOL_CALL.id });
    const tool = byName('ai.toolCall')[0];
    expect(tool).toMatchObject({ kind: 'tool', toolName: 'get_weather' });
    expect(await content(tool!.inputSha256)).toEqual({ city: 'Oslo' });
    expect(await content(tool!.outputSha256)).toEqual({ city: 'Oslo', forecast: 'rain' });
    const stream = byName('ai.streamText.doStream')[0];
    expect(await content(stream!.outputSha256)).toEqual([{ role: 'assistant', content: FAKE_TEXT }]);
    const failed = calls.filter((s) => s.status === 'error');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.statusMessage).toMatch(/failed on purpose/);
    expect(spans.find((s) => s.name === 'ai.embed.doEmbed')).toMatchObject({ kind: 'embedding', model: 'text-embedding-3-small', usage: { input: 5 } });
  });
});
