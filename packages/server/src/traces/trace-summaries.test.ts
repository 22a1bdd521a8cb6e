import { sql } from 'kysely';
import type { PriceEntry, SpanStatus, TraceSummary } from '@hangar/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBlobStore } from '../blobs/blob-store.js';
import * as traceSummariesMigration from '../db/migrations/015-trace-summaries.js';
import { DIALECTS, openTestDatabase, type TestDatabase } from '../db/test-databases.js';
import { createPricing } from '../pricing/pricing.js';
import { createTraceQuery, type TraceQuery, type TraceQueryService } from './trace-query-service.js';
import { createTraces, type SpanInput, type Traces } from './traces-service.js';

// The trace list reads one summary row per trace, kept by every span insert. These tests send the same
// spans split over many requests, out of order, with retries, and check that every list answers as the
// definition says it should (docs/traces.md): traces whose earliest span starts in the window and that
// have a span matching every filter, each described by all of its spans.

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

const PRICES: PriceEntry[] = [
  { provider: 'openai', model: 'gpt-4o', effectiveFrom: '2024-01-01', input: 10_000_000, output: 0 },
  { provider: 'anthropic', model: 'claude-sonnet-4', effectiveFrom: '2024-01-01', input: 3_000_000, output: 0 },
];
const COST_PER_TOKEN: Record<string, number> = { 'gpt-4o': 10, 'claude-sonnet-4': 3 };
const PROVIDER: Record<string, string> = { 'gpt-4o': 'openai', 'claude-sonnet-4': 'anthropic' };

/** mulberry32: the same spans on every run. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeSpan(trace: number, id: number, startMs: number, durationMs: number, more: Partial<SpanInput>): SpanInput {
  return {
    traceId: hex(trace, 32),
    spanId: hex(id, 16),
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

/**
 * Traces of 1–7 spans: start times on a coarse grid (so first spans tie, within and across traces),
 * one, two or no agents per trace, model calls on two priced models, 20% failures, some traces starting
 * before the windows the tests ask for with spans inside them.
 */
function workload(seed: number, traces: number): SpanInput[] {
  const random = rng(seed);
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const spans: SpanInput[] = [];
  let id = 1;
  for (let t = 1; t <= traces; t++) {
    const base = Math.floor(random() * 40) * 250 - 2000;
    const agents = pick([['a'], ['b'], ['a', 'b'], ['b', 'a'], [null], ['a', null]] as const);
    const n = 1 + Math.floor(random() * 7);
    for (let i = 0; i < n; i++) {
      const model = random() < 0.5 ? pick(['gpt-4o', 'claude-sonnet-4'] as const) : null;
      const tokens = 10 + Math.floor(random() * 300);
      const kind = model ? 'llm' : pick(['tool', 'agent', 'chain'] as const);
      const status: SpanStatus = random() < 0.2 ? 'error' : 'ok';
      spans.push(
        makeSpan(t, id++, base + Math.floor(random() * 6) * 250, 10 + Math.floor(random() * 3000), {
          name: `${kind} ${t}.${i}`,
          kind,
          status,
          agent: pick(agents),
          model,
          provider: model ? PROVIDER[model]! : null,
          usage: { input: model ? tokens : null, output: model ? 5 : null, cacheRead: null, cacheWrite: null, reasoning: null },
        }),
      );
    }
  }
  return spans;
}

/** The trace list as docs/traces.md defines it, computed from the spans stored. */
function expectedList(spans: SpanInput[], q: TraceQuery): TraceSummary[] {
  const cost = (s: SpanInput) => (s.model ? COST_PER_TOKEN[s.model]! * s.usage.input! : null);
  const matches = (s: SpanInput) =>
    (q.agent === undefined || s.agent === q.agent) &&
    (q.model === undefined || s.model === q.model) &&
    (q.kinds === undefined || q.kinds.includes(s.kind)) &&
    (q.status === undefined || s.status === q.status) &&
    (q.minCostMicros === undefined || (cost(s) ?? -1) >= q.minCostMicros) &&
    (q.minDurationMs === undefined || s.durationMs >= q.minDurationMs);
  const byTrace = new Map<string, SpanInput[]>();
  for (const s of spans) (byTrace.get(s.traceId) ?? byTrace.set(s.traceId, []).get(s.traceId)!).push(s);
  const rows: TraceSummary[] = [];
  for (const [traceId, own] of byTrace) {
    own.sort((x, y) => (x.startTime < y.startTime ? -1 : x.startTime > y.startTime ? 1 : x.spanId < y.spanId ? -1 : 1));
    const first = own[0]!;
    if (first.startTime < q.from || first.startTime >= q.to || !own.some(matches)) continue;
    const endTime = own.map((s) => s.endTime).reduce((x, y) => (y > x ? y : x));
    const tokensInput = own.reduce((a, s) => a + (s.usage.input ?? 0), 0);
    const tokensOutput = own.reduce((a, s) => a + (s.usage.output ?? 0), 0);
    rows.push({
      traceId,
      rootSpanId: first.spanId,
      rootName: first.name,
      startTime: first.startTime,
      endTime,
      durationMs: Date.parse(endTime) - Date.parse(first.startTime),
      spanCount: own.length,
      errorCount: own.filter((s) => s.status === 'error').length,
      tokensInput,
      tokensOutput,
      totalTokens: tokensInput + tokensOutput,
      costMicros: own.reduce((a, s) => a + (cost(s) ?? 0), 0),
      agent: own.find((s) => s.agent !== null)?.agent ?? null,
      models: [...new Set(own.flatMap((s) => (s.model ? [s.model] : [])))],
    });
  }
  return rows.sort((x, y) => (x.startTime !== y.startTime ? (x.startTime < y.startTime ? 1 : -1) : x.traceId < y.traceId ? 1 : -1));
}

/** The same spans as requests of 1–5 spans in shuffled order, some sent twice, one holding a span twice. */
function messyRequests(spans: SpanInput[], seed: number): SpanInput[][] {
  const random = rng(seed);
  const shuffled = [...spans];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const requests: SpanInput[][] = [];
  for (let i = 0; i < shuffled.length; ) {
    const n = 1 + Math.floor(random() * 5);
    requests.push(shuffled.slice(i, i + n));
    i += n;
  }
  // an exporter's retries: requests sent again, later, and a request that repeats one of its spans
  for (let k = 0; k < 4; k++) requests.push(requests[Math.floor(random() * requests.length)]!);
  requests[1] = [...requests[1]!, requests[1]![0]!];
  return requests;
}

const QUERIES: Array<Partial<TraceQuery>> = [
  {},
  { agent: 'a' },
  { agent: 'b' },
  { status: 'error' },
  { minCostMicros: 2000 },
  { minDurationMs: 2500 },
  { agent: 'a', minCostMicros: 1000 },
  { agent: 'b', status: 'error' },
  { model: 'gpt-4o', status: 'error' },
  { kinds: ['tool'], minDurationMs: 1000 },
  { agent: 'nobody' },
];
const WINDOWS = [
  { from: at(-10_000), to: at(20_000) },
  { from: at(0), to: at(5000) },
  { from: at(1000), to: at(1250) },
];

for (const dialect of DIALECTS) {
  describe(`trace summaries on ${dialect}`, () => {
    let t: TestDatabase;
    let traces: Traces;
    // every way to a filtered page: among the next traces (as configured by default), the filter's few
    // matching traces looked up, the window walked, and a first look at 3 traces before either
    let near: TraceQueryService;
    let lookup: TraceQueryService;
    let walk: TraceQueryService;
    let nearThenWalk: TraceQueryService;
    beforeAll(async () => {
      t = await openTestDatabase(dialect);
      const blobs = createBlobStore({ dir: t.blobDir });
      // as the server builds it: on SQLite, spans go through the synchronous prepared-statement path
      traces = createTraces({ db: t.db, blobs, pricing: createPricing({ db: t.db, table: PRICES }), direct: t.direct });
      near = createTraceQuery({ db: t.db, functions: t.functions, blobs });
      lookup = createTraceQuery({ db: t.db, functions: t.functions, blobs, firstScanTraces: 0 });
      walk = createTraceQuery({ db: t.db, functions: t.functions, blobs, firstScanTraces: 0, maxCandidateTraces: 0 });
      nearThenWalk = createTraceQuery({ db: t.db, functions: t.functions, blobs, firstScanTraces: 3, maxCandidateTraces: 0 });
    });
    afterAll(async () => {
      await t.close();
    });

    async function listAll(service: TraceQueryService, project: string, q: TraceQuery, limit: number) {
      const out: TraceSummary[] = [];
      let cursor: string | undefined;
      do {
        const page = await service.listTraces(project, q, { limit, cursor });
        out.push(...page.traces);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out;
    }

    it('lists what the stored spans say, however they arrived: split, out of order, retried', async () => {
      const spans = workload(1, 30);
      for (const request of messyRequests(spans, 2)) await traces.record('messy', request);
      await traces.record('whole', spans);
      for (const w of WINDOWS) {
        for (const filter of QUERIES) {
          const q = { ...w, ...filter };
          const expected = expectedList(spans, q);
          const label = JSON.stringify(filter);
          expect(await listAll(near, 'messy', q, 200), label).toEqual(expected);
          expect(await listAll(near, 'messy', q, 2), label).toEqual(expected);
          expect(await listAll(lookup, 'messy', q, 200), label).toEqual(expected);
          expect(await listAll(walk, 'messy', q, 200), label).toEqual(expected);
          expect(await listAll(walk, 'messy', q, 3), label).toEqual(expected);
          expect(await listAll(nearThenWalk, 'messy', q, 2), label).toEqual(expected);
          expect(await listAll(lookup, 'whole', q, 200), label).toEqual(expected);
        }
      }
      // the workload covers what it means to: ties, several agents, traces starting before a window
      const all = expectedList(spans, WINDOWS[0]!);
      expect(all).toHaveLength(30);
      expect(new Set(all.map((x) => x.startTime)).size).toBeLessThan(30);
      const agentsOf = (id: string) => new Set(spans.filter((s) => s.traceId === id && s.agent).map((s) => s.agent));
      expect(all.filter((x) => agentsOf(x.traceId).size === 2).length).toBeGreaterThan(2);
    });

    it('describes a trace from all its spans when its root arrives last, in a later request', async () => {
      const root = makeSpan(1, 1, 0, 5000, { name: 'plan trip', kind: 'agent', agent: 'planner' });
      const call = makeSpan(1, 2, 100, 800, {
        parentSpanId: root.spanId,
        kind: 'llm',
        model: 'gpt-4o',
        provider: 'openai',
        agent: 'planner',
        usage: { input: 100, output: 5, cacheRead: null, cacheWrite: null, reasoning: null },
      });
      const tool = makeSpan(1, 3, 1000, 9000, { parentSpanId: root.spanId, kind: 'tool', status: 'error', agent: 'helper' });
      await traces.record('late', [call]);
      const window = { from: at(50), to: at(10_000) };
      // before the root: the call is the trace's first span, inside the window
      expect((await lookup.listTraces('late', window, { limit: 10 })).traces.map((x) => [x.rootName, x.spanCount])).toEqual([
        ['span 2', 1],
      ]);
      await traces.record('late', [tool]);
      await traces.record('late', [root, call]); // the call again: a retry, counted once
      // the root starts before the window now: the trace is listed in a window holding its start
      expect((await lookup.listTraces('late', window, { limit: 10 })).traces).toEqual([]);
      const [row] = (await lookup.listTraces('late', { from: at(0), to: at(50) }, { limit: 10 })).traces;
      expect(row).toEqual({
        traceId: root.traceId,
        rootSpanId: root.spanId,
        rootName: 'plan trip',
        startTime: at(0),
        endTime: at(10_000),
        durationMs: 10_000,
        spanCount: 3,
        errorCount: 1,
        tokensInput: 100,
        tokensOutput: 5,
        totalTokens: 105,
        costMicros: 1000,
        agent: 'planner',
        models: ['gpt-4o'],
      });
      // two agents: either finds the trace, through the span that names it
      for (const agent of ['planner', 'helper']) {
        expect((await walk.listTraces('late', { from: at(0), to: at(50), agent }, { limit: 10 })).traces).toHaveLength(1);
      }
      expect((await walk.listTraces('late', { from: at(0), to: at(50), agent: 'helper', minCostMicros: 1 }, { limit: 10 })).traces).toEqual([]);
      expect((await lookup.trace('late', root.traceId))!.summary).toEqual(row);
    });

    it('keeps the first of a span sent twice in one request, as the span table does', async () => {
      const first = makeSpan(5, 50, 0, 100, { status: 'error', name: 'first' });
      const again = { ...first, status: 'ok' as const, name: 'again', durationMs: 9000 };
      await traces.record('twice', [first, again]);
      const [row] = (await lookup.listTraces('twice', WINDOWS[0]!, { limit: 10 })).traces;
      expect([row!.rootName, row!.spanCount, row!.errorCount]).toEqual(['first', 1, 1]);
    });

    it('summarizes spans stored before the summaries existed when migrating (the backfill)', async () => {
      const spans = workload(3, 12);
      for (const request of messyRequests(spans, 4)) await traces.record('backfill', request);
      const kept = async () =>
        t.db.selectFrom('trace_summaries').selectAll().where('project_id', '=', 'backfill').orderBy('trace_id').execute();
      const maintained = await kept();
      expect(maintained).toHaveLength(12);
      // as a database migrated from 014 would: spans present, no summaries yet
      await sql`drop table trace_summaries`.execute(t.db);
      await traceSummariesMigration.up(t.db);
      expect(await kept()).toEqual(maintained);
      expect(await listAll(lookup, 'backfill', WINDOWS[0]!, 5)).toEqual(expectedList(spans, WINDOWS[0]!));
    });
  });
}
