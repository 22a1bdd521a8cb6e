import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../test-app.js';
import type { SpanInput } from './traces-service.js';

const TRACE = 'a'.repeat(32);
const from = '2026-03-01T00:00:00Z';
const to = '2026-03-02T00:00:00Z';

function span(spanId: string, parentSpanId: string | null, more: Partial<SpanInput> = {}): SpanInput {
  return {
    traceId: TRACE,
    spanId,
    parentSpanId,
    name: 'agent run',
    kind: 'agent',
    status: 'ok',
    statusMessage: null,
    errorType: null,
    startTime: '2026-03-01T10:00:00.000Z',
    endTime: '2026-03-01T10:00:02.000Z',
    durationMs: 2000,
    serviceName: 'svc',
    agent: 'planner',
    provider: null,
    model: null,
    usage: { input: null, output: null, cacheRead: null, cacheWrite: null, reasoning: null },
    providerCostMicros: null,
    toolName: null,
    attributes: {},
    source: 'otlp',
    ...more,
  };
}

describe('trace query routes', () => {
  let t: TestApp;
  const get = (path: string, key?: string) => t.request('GET', path, key === undefined ? {} : { key });

  beforeAll(async () => {
    t = await createTestApp();
    await t.traces.record('proj_default', [
      span('1'.repeat(16), null),
      span('2'.repeat(16), '1'.repeat(16), {
        name: 'chat gpt-4o',
        kind: 'llm',
        model: 'gpt-4o',
        startTime: '2026-03-01T10:00:00.500Z',
        endTime: '2026-03-01T10:00:01.500Z',
        durationMs: 1000,
        usage: { input: 12, output: 3, cacheRead: null, cacheWrite: null, reasoning: null },
        attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.request.max_tokens': 256 },
        input: [{ role: 'user', content: 'hi' }],
        output: [{ role: 'assistant', content: 'hello' }],
      }),
    ]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('searches spans over HTTP, with attribute filters as attr.<key>', async () => {
    const all = await get(`/v1/spans?from=${from}&to=${to}`);
    expect(all.status).toBe(200);
    expect(all.json.spans.map((s: { name: string }) => s.name)).toEqual(['chat gpt-4o', 'agent run']);
    const byAttr = await get(`/v1/spans?from=${from}&to=${to}&attr.gen_ai.request.model=gpt-4o&attr.gen_ai.request.max_tokens=256`);
    expect(byAttr.json.spans.map((s: { name: string }) => s.name)).toEqual(['chat gpt-4o']);
    const byKinds = await get(`/v1/spans?from=${from}&to=${to}&kind=tool,llm`);
    expect(byKinds.json.spans).toHaveLength(1);
    const paged = await get(`/v1/spans?from=${from}&to=${to}&limit=1`);
    const next = await get(`/v1/spans?from=${from}&to=${to}&limit=1&cursor=${paged.json.nextCursor}`);
    expect([paged.json.spans[0].name, next.json.spans[0].name, next.json.nextCursor]).toEqual(['chat gpt-4o', 'agent run', null]);
  });

  it('refuses a search without a window, with an inverted one, or with a filter it does not know', async () => {
    const cases: Array<[string, string]> = [
      [`/v1/spans?to=${to}`, 'query.from'],
      [`/v1/traces?from=${to}&to=${from}`, 'query.to'],
      [`/v1/spans?from=last%20week&to=${to}`, 'query.from'],
      [`/v1/spans?from=${from}&to=${to}&modle=gpt-4o`, 'query.modle'],
      [`/v1/spans?from=${from}&to=${to}&attr.bad%22key=x`, 'query.attr.bad"key'],
      [`/v1/spans?from=${from}&to=${to}&kind=llm,robot`, 'query.kind'],
      [`/v1/spans?from=${from}&to=${to}&model=a&model=b`, 'query.model'],
      [`/v1/spans?from=${from}&to=${to}&limit=5000`, 'query.limit'],
      [`/v1/spans?from=${from}&to=${to}&cursor=nope`, 'query.cursor'],
      [`/v1/spans/aggregates?from=${from}&to=${to}&groupBy=color`, 'query.groupBy'],
      [`/v1/spans/aggregates?from=${from}&to=${to}&groupBy=day&percentiles=no`, 'query.percentiles'],
      [`/v1/spans/aggregates?from=${from}&to=${to}&groupBy=day&splitBy=day`, 'query.splitBy'],
      [`/v1/spans/aggregates?from=${from}&to=${to}&groupBy=day&splitBy=colour`, 'query.splitBy'],
      [`/v1/traces/not-a-trace-id`, 'param.traceId'],
    ];
    for (const [path, field] of cases) {
      const res = await get(path);
      expect([path, res.status, res.json.error.code]).toEqual([path, 400, 'validation_failed']);
      expect(res.json.error.details.issues.map((i: { path: string }) => i.path)).toContain(field);
    }
  });

  it('lists traces, returns one as a tree and a span with its messages', async () => {
    const list = await get(`/v1/traces?from=${from}&to=${to}&model=gpt-4o`);
    expect(list.json.traces).toEqual([
      expect.objectContaining({ traceId: TRACE, rootName: 'agent run', spanCount: 2, totalTokens: 15, models: ['gpt-4o'], agent: 'planner' }),
    ]);
    const tree = await get(`/v1/traces/${TRACE}`);
    expect(tree.json.spans.map((s: { name: string; depth: number }) => [s.name, s.depth])).toEqual([
      ['agent run', 0],
      ['chat gpt-4o', 1],
    ]);
    const detail = await get(`/v1/traces/${TRACE}/spans/${'2'.repeat(16)}`);
    expect([detail.json.input, detail.json.output]).toEqual([[{ role: 'user', content: 'hi' }], [{ role: 'assistant', content: 'hello' }]]);

    const missing = await get(`/v1/traces/${'b'.repeat(32)}`);
    expect([missing.status, missing.json.error.code]).toEqual([404, 'not_found']);
    const missingSpan = await get(`/v1/traces/${TRACE}/spans/${'3'.repeat(16)}`);
    expect([missingSpan.status, missingSpan.json.error.code]).toEqual([404, 'not_found']);
  });

  it('aggregates by day', async () => {
    const res = await get(`/v1/spans/aggregates?from=${from}&to=${to}&groupBy=day&kind=llm`);
    expect(res.json).toEqual({
      groupBy: 'day',
      groups: [
        {
          key: '2026-03-01',
          calls: 1,
          errors: 0,
          errorRate: 0,
          costMicros: 60, // gpt-4o from the price table: 12 × $2.50 + 3 × $10 per million tokens
          tokensInput: 12,
          tokensOutput: 3,
          totalTokens: 15,
          p50DurationMs: 1000,
          p95DurationMs: 1000,
        },
      ],
    });
  });

  it('lets read-only keys search, and not ingest-only keys', async () => {
    const make = async (role: string) => (await t.request('POST', '/v1/keys', { body: { name: role, role } })).json.key as string;
    expect((await get(`/v1/traces?from=${from}&to=${to}`, await make('read-only'))).status).toBe(200);
    const denied = await get(`/v1/traces/${TRACE}`, await make('ingest-only'));
    expect([denied.status, denied.json.error.code]).toEqual([403, 'forbidden']);
  });

  it('documents the routes and their filters in the OpenAPI document', async () => {
    const doc = (await t.request('GET', '/openapi.json', { key: null })).json;
    const params = doc.paths['/v1/spans'].get.parameters.map((p: { name: string; required?: boolean }) => [p.name, p.required ?? false]);
    expect(params).toEqual(expect.arrayContaining([['from', true], ['to', true], ['model', false], ['cursor', false]]));
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/traces', '/v1/traces/{traceId}', '/v1/traces/{traceId}/spans/{spanId}', '/v1/spans/aggregates']),
    );
  });
});
