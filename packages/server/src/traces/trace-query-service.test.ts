import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PriceEntry } from '@hangar/protocol';
import { createBlobStore } from '../blobs/blob-store.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { createPricing } from '../pricing/pricing.js';
import { createTraceQuery, type TraceQuery, type TraceQueryService } from './trace-query-service.js';
import { createTraceQueryStore } from './trace-query-store.js';
import { createTraces, type SpanInput, type Traces } from './traces-service.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
const traceId = (n: number) => hex(n, 32);
const spanId = (n: number) => hex(n, 16);

/** A span `startMs` after T0 lasting `durationMs`; everything else overridable. */
function span(
  trace: number,
  id: number,
  startMs: number,
  durationMs: number,
  more: Partial<SpanInput> = {},
): SpanInput {
  return {
    traceId: traceId(trace),
    spanId: spanId(id),
    parentSpanId: null,
    name: `span ${id}`,
    kind: 'other',
    status: 'ok',
    statusMessage: null,
    errorType: null,
    startTime: at(startMs),
    endTime: at(startMs + durationMs),
    durationMs,
    serviceName: 'svc',
    agent: null,
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

const usage = (input: number, output: number) => ({
  input,
  output,
  cacheRead: null,
  cacheWrite: null,
  reasoning: null,
});

/**
 * Prices that make round costs: gpt-4o 15 micro-USD per input token (100 tokens: 1500), claude-sonnet-4
 * 14 (300 tokens: 4200), output free.
 */
const PRICES: PriceEntry[] = [
  { provider: 'openai', model: 'gpt-4o', effectiveFrom: '2024-01-01', input: 15_000_000, output: 0 },
  { provider: 'anthropic', model: 'claude-sonnet-4', effectiveFrom: '2024-01-01', input: 14_000_000, output: 0 },
];

const DAY = 86_400_000;
const window = (more: Partial<TraceQuery> = {}): TraceQuery => ({ from: at(-DAY), to: at(DAY), ...more });

for (const dialect of DIALECTS) {
  describe(`trace queries on ${dialect}`, () => {
    let t: TestDatabase;
    let traces: Traces;
    let query: TraceQueryService;
    // One database per dialect (PGlite takes a while to start); each test has projects of its own.
    let n = 0;
    let p = '';
    let other = '';

    /** Trace 1 (planner: agent → llm + failing tool) and trace 2 (writer: chain → llm), one minute apart. */
    async function seedTwoTraces() {
      await traces.record(p, [
        span(1, 1, 0, 3000, { name: 'plan trip', kind: 'agent', agent: 'planner' }),
        span(1, 2, 100, 1200, {
          parentSpanId: spanId(1),
          name: 'chat gpt-4o',
          kind: 'llm',
          agent: 'planner',
          provider: 'openai',
          model: 'gpt-4o',
          usage: usage(100, 20),
          attributes: {
            'gen_ai.request.model': 'gpt-4o',
            'gen_ai.request.temperature': 0.2,
            'llm.stream': true,
          },
          input: [{ role: 'user', content: 'Plan a trip to Lisbon' }],
          output: [
            {
              role: 'assistant',
              content: 'Day 1: Alfama',
              toolCalls: [{ id: 'c1', name: 'web_search', arguments: { q: 'Lisbon' } }],
            },
          ],
        }),
        span(1, 3, 1400, 500, {
          parentSpanId: spanId(1),
          name: 'execute_tool',
          kind: 'tool',
          agent: 'planner',
          toolName: 'web_search',
          status: 'error',
          statusMessage: 'timeout',
          input: { q: 'Lisbon' },
        }),
      ]);
      await traces.record(p, [
        span(2, 4, 60_000, 2000, { name: 'Write Summary', kind: 'chain', agent: 'writer' }),
        span(2, 5, 60_100, 1800, {
          parentSpanId: spanId(4),
          name: 'chat claude',
          kind: 'llm',
          agent: 'writer',
          provider: 'anthropic',
          model: 'claude-sonnet-4',
          usage: usage(300, 80),
          attributes: { 'gen_ai.request.model': 'claude-sonnet-4', 'llm.stream': false },
        }),
      ]);
      // the same trace id in another project must never show up in p1
      await traces.record(other, [
        span(1, 9, 50, 10, { name: 'other project', kind: 'llm', model: 'gpt-4o' }),
      ]);
    }

    beforeEach(() => {
      n++;
      p = `p${n}`;
      other = `p${n}-other`;
    });
    beforeAll(async () => {
      t = await openTestDatabase(dialect);
      const blobs = createBlobStore({ dir: t.blobDir });
      traces = createTraces({ db: t.db, blobs, pricing: createPricing({ db: t.db, table: PRICES }) });
      query = createTraceQuery({ db: t.db, functions: t.functions, blobs });
    });
    afterAll(async () => {
      await t.close();
    });

    const names = async (q: TraceQuery) =>
      (await query.searchSpans(p, q, { limit: 100 })).spans.map((s) => s.name);

    it('searches spans newest first, by every filter', async () => {
      await seedTwoTraces();
      expect(await names(window())).toEqual([
        'chat claude',
        'Write Summary',
        'execute_tool',
        'chat gpt-4o',
        'plan trip',
      ]);
      expect(await names(window({ agent: 'writer' }))).toEqual(['chat claude', 'Write Summary']);
      expect(await names(window({ model: 'gpt-4o' }))).toEqual(['chat gpt-4o']);
      expect(await names(window({ kinds: ['tool', 'agent'] }))).toEqual(['execute_tool', 'plan trip']);
      expect(await names(window({ status: 'error' }))).toEqual(['execute_tool']);
      expect(await names(window({ minCostMicros: 2000 }))).toEqual(['chat claude']);
      expect(await names(window({ minCostMicros: 0 }))).toEqual(['chat claude', 'chat gpt-4o']);
      expect(await names(window({ minDurationMs: 1800 }))).toEqual([
        'chat claude',
        'Write Summary',
        'plan trip',
      ]);
      expect(await names(window({ name: 'summ' }))).toEqual(['Write Summary']);
      expect(await names(window({ name: 'WEB_SEARCH' }))).toEqual(['execute_tool']); // the tool name counts
      expect(await names(window({ name: '%' }))).toEqual([]); // LIKE wildcards are literal text
      expect(await names(window({ agent: 'planner', kinds: ['llm'] }))).toEqual(['chat gpt-4o']);
    });

    it('filters on attribute equality for strings, numbers and booleans', async () => {
      await seedTwoTraces();
      expect(await names(window({ attributes: { 'gen_ai.request.model': 'gpt-4o' } }))).toEqual([
        'chat gpt-4o',
      ]);
      expect(await names(window({ attributes: { 'gen_ai.request.temperature': '0.2' } }))).toEqual([
        'chat gpt-4o',
      ]);
      expect(await names(window({ attributes: { 'llm.stream': 'false' } }))).toEqual(['chat claude']);
      expect(
        await names(
          window({ attributes: { 'llm.stream': 'true', 'gen_ai.request.model': 'claude-sonnet-4' } }),
        ),
      ).toEqual([]);
      expect(await names(window({ attributes: { 'no.such.key': 'x' } }))).toEqual([]);
      // "gen_ai" is not an object holding "request": the dots belong to the key
      expect(await names(window({ attributes: { gen_ai: 'x' } }))).toEqual([]);
    });

    it('takes the window as [from, to) on start time, and refuses an inverted or empty one', async () => {
      await seedTwoTraces();
      expect(await names({ from: at(100), to: at(60_000) })).toEqual(['execute_tool', 'chat gpt-4o']);
      expect(await names({ from: '2026-03-01T11:00:01+01:00', to: at(60_100) })).toEqual([
        'Write Summary',
        'execute_tool',
      ]);
      for (const bad of [
        { from: at(10), to: at(0) },
        { from: at(0), to: at(0) },
        { from: 'yesterday', to: at(0) },
      ]) {
        await expect(query.searchSpans(p, bad, { limit: 10 })).rejects.toMatchObject({
          code: 'validation_failed',
        });
      }
    });

    it('pages spans with cursors: every span once, in a stable order, even with equal start times', async () => {
      // 23 spans in 3 traces, all starting at the same millisecond
      const many = Array.from({ length: 23 }, (_, i) =>
        span(10 + (i % 3), 100 + i, 5000, 10, { name: `s${i}` }),
      );
      await traces.record(p, many);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await query.searchSpans(p, window(), { limit: 10, cursor });
        seen.push(...page.spans.map((s) => `${s.traceId}/${s.spanId}`));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      const all = (await query.searchSpans(p, window(), { limit: 100 })).spans.map(
        (s) => `${s.traceId}/${s.spanId}`,
      );
      expect(seen).toEqual(all);
      expect(new Set(seen).size).toBe(23);
    });

    it('refuses a cursor that is not one, or belongs to the other list', async () => {
      await seedTwoTraces();
      const spanCursor = (await query.searchSpans(p, window(), { limit: 1 })).nextCursor!;
      const traceCursor = (await query.listTraces(p, window(), { limit: 1 })).nextCursor!;
      for (const [fn, cursor] of [
        [query.searchSpans, 'garbage'],
        [query.searchSpans, traceCursor],
        [query.listTraces, spanCursor],
        [query.listTraces, Buffer.from('["t",1,2]').toString('base64url')],
      ] as const) {
        await expect(fn(p, window(), { limit: 5, cursor })).rejects.toMatchObject({
          code: 'validation_failed',
        });
      }
    });

    it('lists one row per trace with its totals, agent and models', async () => {
      await seedTwoTraces();
      const page = await query.listTraces(p, window(), { limit: 10 });
      expect(page.nextCursor).toBeNull();
      expect(page.traces).toEqual([
        {
          traceId: traceId(2),
          rootSpanId: spanId(4),
          rootName: 'Write Summary',
          startTime: at(60_000),
          endTime: at(62_000),
          durationMs: 2000,
          spanCount: 2,
          errorCount: 0,
          tokensInput: 300,
          tokensOutput: 80,
          totalTokens: 380,
          costMicros: 4200,
          agent: 'writer',
          models: ['claude-sonnet-4'],
        },
        {
          traceId: traceId(1),
          rootSpanId: spanId(1),
          rootName: 'plan trip',
          startTime: at(0),
          endTime: at(3000),
          durationMs: 3000,
          spanCount: 3,
          errorCount: 1,
          tokensInput: 100,
          tokensOutput: 20,
          totalTokens: 120,
          costMicros: 1500,
          agent: 'planner',
          models: ['gpt-4o'],
        },
      ]);
    });

    // Filtered lists look among the window's next traces first, then up the matching traces when they
    // are few, and walk the window otherwise; each way is forced here and checked against the same
    // answers (a first scan of 1 trace never holds a page of 10; a candidate limit of 1 forces the walk).
    for (const [way, options] of [
      ['among the next traces', {}],
      ['from the matches', { firstScanTraces: 1 }],
      ['walking the window', { firstScanTraces: 0, maxCandidateTraces: 1 }],
    ] as const) {
      it(`lists the traces that contain a matching span, whole (${way})`, async () => {
        await seedTwoTraces();
        const q2 = createTraceQuery({
          db: t.db,
          functions: t.functions,
          blobs: createBlobStore({ dir: t.blobDir }),
          ...options,
        });
        const ids = async (q: TraceQuery) =>
          (await q2.listTraces(p, q, { limit: 10 })).traces.map((x) => x.rootName);
        expect(await ids(window({ model: 'claude-sonnet-4' }))).toEqual(['Write Summary']);
        expect(await ids(window({ status: 'error' }))).toEqual(['plan trip']);
        expect(await ids(window({ minCostMicros: 1000 }))).toEqual(['Write Summary', 'plan trip']);
        expect(await ids(window({ attributes: { 'gen_ai.request.model': 'gpt-4o' } }))).toEqual([
          'plan trip',
        ]);
        expect(await ids(window({ agent: 'writer', status: 'error' }))).toEqual([]);
        // a trace belongs to the window its first span starts in
        expect(await ids({ from: at(50), to: at(DAY) })).toEqual(['Write Summary']);
        const filtered = await q2.listTraces(p, window({ kinds: ['tool'] }), { limit: 10 });
        expect(filtered.traces[0]!.spanCount).toBe(3); // totals cover the whole trace, not only the matching span
        // a filter matching both traces, a page at a time
        const first = await q2.listTraces(p, window({ kinds: ['llm'] }), { limit: 1 });
        const second = await q2.listTraces(p, window({ kinds: ['llm'] }), {
          limit: 1,
          cursor: first.nextCursor!,
        });
        expect([...first.traces, ...second.traces].map((x) => x.rootName)).toEqual([
          'Write Summary',
          'plan trip',
        ]);
        expect(second.nextCursor).toBeNull();
      });
    }

    it('collects candidate traces page by page, across spans that start at one instant', async () => {
      // trace 20: twelve matching spans at one instant; trace 21: three later; trace 22: one more
      const inputs: SpanInput[] = [];
      for (let i = 0; i < 12; i++) inputs.push(span(20, 2000 + i, 100, 10, { agent: 'coder' }));
      for (let i = 0; i < 3; i++) inputs.push(span(21, 2100 + i, 200 + i, 10, { agent: 'coder' }));
      inputs.push(span(22, 2200, 300, 10, { agent: 'coder' }), span(23, 2300, 50, 10, { agent: 'other' }));
      await traces.record(p, inputs);
      const store = createTraceQueryStore(t.db, t.functions);
      const conditions = { from: at(-DAY), to: at(DAY), agent: 'coder' };
      // pages of 3, 6, 12, … rows: the first pages hold trace 20 alone, and resume at its instant
      expect((await store.matchingTraceIds(p, conditions, 3))?.sort()).toEqual([traceId(20), traceId(21), traceId(22)]);
      expect(await store.matchingTraceIds(p, conditions, 2)).toBeNull();
      expect(await store.matchingTraceIds(p, { ...conditions, from: at(150) }, 2)).toEqual([traceId(21), traceId(22)]);
      expect(await store.matchingTraceIds(p, { ...conditions, agent: 'nobody' }, 2)).toEqual([]);
    });

    it('lists a trace whose root was never sent once, keyed on its earliest span', async () => {
      await traces.record(p, [
        span(7, 71, 200, 50, { parentSpanId: spanId(70), name: 'child b' }),
        span(7, 72, 100, 50, { parentSpanId: spanId(70), name: 'child a' }),
        span(7, 73, 100, 50, { parentSpanId: spanId(70), name: 'child a twin' }),
      ]);
      const page = await query.listTraces(p, window(), { limit: 10 });
      expect(page.traces.map((x) => [x.rootName, x.spanCount, x.startTime])).toEqual([
        ['child a', 3, at(100)],
      ]);
    });

    it('pages traces with cursors, each trace once, even with equal start times', async () => {
      const inputs: SpanInput[] = [];
      for (let i = 0; i < 12; i++) {
        inputs.push(span(100 + i, 1000 + i * 2, (i % 4) * 1000, 500, { name: `root ${i}` }));
        inputs.push(
          span(100 + i, 1001 + i * 2, (i % 4) * 1000 + 10, 100, { parentSpanId: spanId(1000 + i * 2) }),
        );
      }
      await traces.record(p, inputs);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await query.listTraces(p, window(), { limit: 5, cursor });
        seen.push(...page.traces.map((x) => x.traceId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toHaveLength(12);
      expect(new Set(seen).size).toBe(12);
      const all = (await query.listTraces(p, window(), { limit: 100 })).traces.map((x) => x.traceId);
      expect(seen).toEqual(all);
    });

    it('returns a trace as a depth-first tree, and nothing for another project', async () => {
      await seedTwoTraces();
      await traces.record(p, [
        span(1, 6, 150, 100, { parentSpanId: spanId(2), name: 'stream chunk' }),
        span(1, 8, 2000, 10, { parentSpanId: spanId(99), name: 'orphan' }),
      ]);
      const tree = (await query.trace(p, traceId(1)))!;
      expect(tree.spans.map((s) => [s.name, s.depth])).toEqual([
        ['plan trip', 0],
        ['chat gpt-4o', 1],
        ['stream chunk', 2],
        ['execute_tool', 1],
        ['orphan', 0],
      ]);
      expect(tree.summary).toMatchObject({
        spanCount: 5,
        errorCount: 1,
        costMicros: 1500,
        rootName: 'plan trip',
      });
      expect(tree.truncated).toBe(false);
      expect(await query.trace(p, traceId(3))).toBeNull();
      expect((await query.trace(other, traceId(1)))!.spans.map((s) => s.name)).toEqual(['other project']);
    });

    it('cuts a very large trace at the limit and says so', async () => {
      const small = createTraceQuery({
        db: t.db,
        functions: t.functions,
        blobs: createBlobStore({ dir: t.blobDir }),
        maxTraceSpans: 3,
      });
      await traces.record(
        p,
        Array.from({ length: 5 }, (_, i) => span(3, 30 + i, i * 10, 5)),
      );
      const tree = (await small.trace(p, traceId(3)))!;
      expect([tree.spans.length, tree.truncated, tree.summary.spanCount]).toEqual([3, true, 5]);
    });

    it('returns a span with its messages from the blob store', async () => {
      await seedTwoTraces();
      const llm = (await query.span(p, traceId(1), spanId(2)))!;
      expect(llm.input).toEqual([{ role: 'user', content: 'Plan a trip to Lisbon' }]);
      expect(llm.output).toEqual([
        {
          role: 'assistant',
          content: 'Day 1: Alfama',
          toolCalls: [{ id: 'c1', name: 'web_search', arguments: { q: 'Lisbon' } }],
        },
      ]);
      expect([llm.model, llm.costMicros, llm.usage.input]).toEqual(['gpt-4o', 1500, 100]);
      const tool = (await query.span(p, traceId(1), spanId(3)))!;
      expect([tool.input, tool.output]).toEqual([{ q: 'Lisbon' }, null]);
      expect(await query.span(other, traceId(1), spanId(2))).toBeNull();
    });

    it('aggregates by model with nearest-rank p50 and p95', async () => {
      // gpt-4o: 20 calls lasting 1..20 ms (p50 = 10, p95 = 19), 2 of them errors, 100 micros each
      const inputs = Array.from({ length: 20 }, (_, i) =>
        span(200 + i, 2000 + i, i * 1000, i + 1, {
          kind: 'llm',
          model: 'gpt-4o',
          agent: i < 15 ? 'a' : 'b',
          status: i < 2 ? 'error' : 'ok',
          usage: usage(10, 5),
        }),
      );
      // mini: 3 calls of 30, 10 and 20 ms (p50 = 20, p95 = 30); a span without a model
      inputs.push(
        ...[30, 10, 20].map((d, i) =>
          span(300 + i, 3000 + i, DAY * 0.6 + i, d, { kind: 'llm', model: 'gpt-4o-mini', agent: 'b' }),
        ),
        span(400, 4000, 5, 7, { kind: 'tool' }),
      );
      await traces.record(p, inputs);
      await t.db
        .updateTable('spans')
        .set({ cost_micros: 100 })
        .where('project_id', '=', p)
        .where('model', '=', 'gpt-4o')
        .execute();
      const report = await query.aggregates(p, window(), 'model');
      expect(report.groups).toEqual([
        {
          key: 'gpt-4o',
          calls: 20,
          errors: 2,
          errorRate: 0.1,
          costMicros: 2000,
          tokensInput: 200,
          tokensOutput: 100,
          totalTokens: 300,
          p50DurationMs: 10,
          p95DurationMs: 19,
        },
        expect.objectContaining({
          key: 'gpt-4o-mini',
          calls: 3,
          costMicros: 0,
          p50DurationMs: 20,
          p95DurationMs: 30,
        }),
        expect.objectContaining({ key: null, calls: 1, p50DurationMs: 7, p95DurationMs: 7 }),
      ]);

      // without percentiles: the same totals, no latencies
      const quick = await query.aggregates(p, window(), 'model', { percentiles: false });
      expect(quick.groups).toEqual(
        report.groups.map((g) => ({ ...g, p50DurationMs: null, p95DurationMs: null })),
      );

      const byAgent = await query.aggregates(p, window({ kinds: ['llm'] }), 'agent');
      expect(byAgent.groups.map((g) => [g.key, g.calls, g.costMicros])).toEqual([
        ['a', 15, 1500],
        ['b', 8, 500],
      ]);
      const byDay = await query.aggregates(p, { from: at(-DAY), to: at(2 * DAY) }, 'day');
      expect(byDay.groups.map((g) => [g.key, g.calls])).toEqual([
        ['2026-03-01', 21],
        ['2026-03-02', 3],
      ]);

      // day × agent: one row per pair, agents by cost within each day, with their own percentiles
      const split = await query.aggregates(p, { from: at(-DAY), to: at(2 * DAY) }, 'day', { splitBy: 'agent' });
      expect(split.splitBy).toBe('agent');
      expect(split.groups.map((g) => [g.key, g.split, g.calls, g.costMicros, g.p50DurationMs])).toEqual([
        ['2026-03-01', 'a', 15, 1500, 8],
        ['2026-03-01', 'b', 5, 500, 18],
        ['2026-03-01', null, 1, 0, 7],
        ['2026-03-02', 'b', 3, 0, 20],
      ]);
      const splitQuick = await query.aggregates(p, { from: at(-DAY), to: at(2 * DAY) }, 'day', { splitBy: 'agent', percentiles: false });
      expect(splitQuick.groups).toEqual(split.groups.map((g) => ({ ...g, p50DurationMs: null, p95DurationMs: null })));
      // model × agent: models by their total cost, then their agents
      const byModelAgent = await query.aggregates(p, window({ kinds: ['llm'] }), 'model', { splitBy: 'agent', percentiles: false });
      expect(byModelAgent.groups.map((g) => [g.key, g.split, g.costMicros])).toEqual([
        ['gpt-4o', 'a', 1500],
        ['gpt-4o', 'b', 500],
        ['gpt-4o-mini', 'b', 0],
      ]);
      expect(byDay.groups[0]).not.toHaveProperty('split');
    });
  });
}
