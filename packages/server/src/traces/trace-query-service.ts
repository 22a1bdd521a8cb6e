import type { Kysely } from 'kysely';
import type {
  AggregateGroupBy,
  AggregateReport,
  AggregateRow,
  SpanDetail,
  SpanKind,
  SpanPage,
  SpanStatus,
  TracePage,
  TraceSpan,
  TraceSummary,
  TraceTree,
} from '@hangar/protocol';
import type { BlobStore } from '../blobs/blob-store.js';
import type { DialectFunctions } from '../db/dialects/dialect.js';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { toSpan, type SpanRow } from './traces-store.js';
import {
  createTraceQueryStore,
  type SpanConditions,
  type SpanPosition,
  type TraceLabelRow,
  type TracePosition,
} from './trace-query-store.js';
import type { TraceSummaryRow } from './trace-summaries-store.js';

/** A search as the service takes it; `from` and `to` are RFC 3339 times. */
export interface TraceQuery {
  from: string;
  to: string;
  agent?: string | undefined;
  model?: string | undefined;
  kinds?: SpanKind[] | undefined;
  status?: SpanStatus | undefined;
  minCostMicros?: number | undefined;
  minDurationMs?: number | undefined;
  name?: string | undefined;
  /** Attribute key → the value it must equal (as a string, a number or a boolean). */
  attributes?: Record<string, string> | undefined;
}

export interface PageRequest {
  cursor?: string | undefined;
  limit: number;
}

export interface TraceQueryOptions {
  db: Kysely<Database>;
  functions: DialectFunctions;
  blobs: BlobStore;
  /** The most spans a trace fetch returns; the rest are counted in the summary. */
  maxTraceSpans?: number;
  /**
   * A filtered trace list first looks among this many traces of the window (newest first, from the
   * cursor): when they fill the page, or are all the window has, that is the page. A common filter is
   * answered here.
   */
  firstScanTraces?: number;
  /**
   * Otherwise it collects up to this many traces with a matching span; if that is all of them, it looks
   * those up, otherwise it walks the window.
   */
  maxCandidateTraces?: number;
}

/** An attribute key a filter may name: what OTel and the conventions use, and no quote characters. */
export const ATTRIBUTE_KEY = /^[A-Za-z0-9_.:/@-]{1,200}$/;

const DEFAULT_MAX_TRACE_SPANS = 5000;
const DEFAULT_FIRST_SCAN_TRACES = 2000;
const DEFAULT_MAX_CANDIDATE_TRACES = 200;

/** Searches spans and traces, builds trace trees, aggregates; read-only. */
export function createTraceQuery(options: TraceQueryOptions) {
  const { db, blobs } = options;
  const store = createTraceQueryStore(db, options.functions);
  const maxTraceSpans = options.maxTraceSpans ?? DEFAULT_MAX_TRACE_SPANS;
  const maxCandidates = options.maxCandidateTraces ?? DEFAULT_MAX_CANDIDATE_TRACES;
  const firstScan = options.firstScanTraces ?? DEFAULT_FIRST_SCAN_TRACES;

  /**
   * The page's traces: among the next traces of the window when they hold the page (a common filter),
   * else from the matching traces when they are few (a rare one), else by walking the window.
   */
  async function pageOfTraces(projectId: string, c: SpanConditions, after: TracePosition | null, limit: number) {
    if (hasFilters(c)) {
      if (firstScan > 0) {
        const near = await store.traceSummariesAmongNext(projectId, c, after, limit, firstScan);
        if (near) return near;
      }
      const candidates = await store.matchingTraceIds(projectId, c, maxCandidates);
      if (candidates) return store.traceSummariesOf(projectId, candidates, c, after, limit);
    }
    return store.traceSummaries(projectId, c, after, limit);
  }

  /**
   * List rows from the traces' summaries, with the agent and models of their spans (read here unless
   * given: a trace fetch has the spans already).
   */
  async function summarize(projectId: string, summaries: TraceSummaryRow[], given?: TraceLabelRow[]): Promise<TraceSummary[]> {
    const labels = given ?? (await store.traceLabels(projectId, summaries.map((t) => t.trace_id)));
    const labelsById = new Map<string, typeof labels>();
    for (const l of labels) (labelsById.get(l.trace_id) ?? labelsById.set(l.trace_id, []).get(l.trace_id)!).push(l);
    return summaries.map((t): TraceSummary => {
      const own = labelsById.get(t.trace_id) ?? [];
      const rootAgent = own.find((l) => l.span_id === t.root_span_id)?.agent;
      const tokensInput = Number(t.tokens_input);
      const tokensOutput = Number(t.tokens_output);
      return {
        traceId: t.trace_id,
        rootSpanId: t.root_span_id,
        rootName: t.root_name,
        startTime: t.start_time,
        endTime: t.end_time,
        durationMs: Math.max(0, Date.parse(t.end_time) - Date.parse(t.start_time)),
        spanCount: Number(t.span_count),
        errorCount: Number(t.error_count),
        tokensInput,
        tokensOutput,
        totalTokens: tokensInput + tokensOutput,
        costMicros: Number(t.cost_micros),
        agent: rootAgent ?? own.find((l) => l.agent !== null)?.agent ?? null,
        models: [...new Set(own.flatMap((l) => (l.model === null ? [] : [l.model])))],
      };
    });
  }

  async function readJson(sha256: string | null): Promise<unknown> {
    if (sha256 === null) return null;
    const content = await blobs.get(db, sha256);
    // A blob removed by retention leaves the span without its messages, not a failed request.
    if (content === null) return null;
    return JSON.parse(Buffer.from(content).toString('utf8')) as unknown;
  }

  return {
    /** Spans matching the query, newest first. */
    async searchSpans(projectId: string, query: TraceQuery, page: PageRequest): Promise<SpanPage> {
      const conditions = toConditions(query);
      const after = page.cursor === undefined ? null : decodeCursor(page.cursor, 'span');
      const rows = await store.searchSpans(projectId, conditions, after, page.limit + 1);
      const more = rows.length > page.limit;
      const shown = rows.slice(0, page.limit);
      const last = shown.at(-1);
      return {
        spans: shown.map(toSpan),
        nextCursor: more && last ? encodeCursor({ kind: 'span', startTime: last.start_time, traceId: last.trace_id, spanId: last.span_id }) : null,
      };
    },

    /** Traces that start in the window and contain a span matching every filter, newest first. */
    async listTraces(projectId: string, query: TraceQuery, page: PageRequest): Promise<TracePage> {
      const conditions = toConditions(query);
      const after = page.cursor === undefined ? null : decodeCursor(page.cursor, 'trace');
      const found = await pageOfTraces(projectId, conditions, after, page.limit + 1);
      const more = found.length > page.limit;
      const shown = found.slice(0, page.limit);
      const last = shown.at(-1);
      return {
        traces: await summarize(projectId, shown),
        nextCursor: more && last ? encodeCursor({ kind: 'trace', startTime: last.start_time, traceId: last.trace_id }) : null,
      };
    },

    /** A trace as a tree; null when the project has no span of it. */
    async trace(projectId: string, traceId: string): Promise<TraceTree | null> {
      const [rows, stored] = await Promise.all([
        store.traceSpans(projectId, traceId, maxTraceSpans + 1),
        store.traceSummary(projectId, traceId),
      ]);
      if (!rows.length || !stored) return null;
      const truncated = rows.length > maxTraceSpans;
      // the spans, in start order, are the labels' rows unless some were left out
      const labels = truncated ? undefined : rows.filter((r) => r.agent !== null || r.model !== null);
      const [summary] = await summarize(projectId, [stored], labels);
      return { traceId, summary: summary!, spans: depthFirst(rows.slice(0, maxTraceSpans)), truncated };
    },

    /** One span with its input and output read from the blob store; null when there is no such span. */
    async span(projectId: string, traceId: string, spanId: string): Promise<SpanDetail | null> {
      const row = await store.span(projectId, traceId, spanId);
      if (!row) return null;
      const [input, output] = await Promise.all([readJson(row.input_sha256), readJson(row.output_sha256)]);
      return { ...toSpan(row), input, output };
    },

    /**
     * Calls, errors, cost, tokens and latency percentiles per model, agent or UTC day. Ranking spans for
     * percentiles is most of the work; `percentiles: false` skips it and leaves them null.
     */
    async aggregates(
      projectId: string,
      query: TraceQuery,
      groupBy: AggregateGroupBy,
      options: { percentiles?: boolean; splitBy?: AggregateGroupBy } = {},
    ): Promise<AggregateReport> {
      const { splitBy } = options;
      const rows = await store.aggregates(projectId, toConditions(query), groupBy, options.percentiles ?? true, splitBy);
      const groups = rows.map(
        (r): AggregateRow => ({
          key: r.key,
          ...(splitBy ? { split: r.split ?? null } : {}),
          calls: r.calls,
          errors: r.errors,
          errorRate: r.calls === 0 ? 0 : r.errors / r.calls,
          costMicros: r.cost_micros,
          tokensInput: r.tokens_input,
          tokensOutput: r.tokens_output,
          totalTokens: r.tokens_input + r.tokens_output,
          p50DurationMs: r.p50,
          p95DurationMs: r.p95,
        }),
      );
      // Days in time order; models and agents by what they cost (then calls), most first, then by name.
      // Split rows stay with their group (ranked by the group's totals), ordered the same way by the split.
      const totals = new Map<string | null, { cost: number; calls: number }>();
      for (const g of groups) {
        const t = totals.get(g.key) ?? { cost: 0, calls: 0 };
        totals.set(g.key, { cost: t.cost + g.costMicros, calls: t.calls + g.calls });
      }
      const rank = (by: AggregateGroupBy, a: string | null, b: string | null, ta: { cost: number; calls: number }, tb: typeof ta) =>
        by === 'day' ? (a ?? '').localeCompare(b ?? '') : tb.cost - ta.cost || tb.calls - ta.calls || (a ?? '').localeCompare(b ?? '');
      const own = (g: AggregateRow) => ({ cost: g.costMicros, calls: g.calls });
      groups.sort(
        (a, b) =>
          rank(groupBy, a.key, b.key, totals.get(a.key)!, totals.get(b.key)!) ||
          (splitBy ? rank(splitBy, a.split ?? null, b.split ?? null, own(a), own(b)) : 0),
      );
      return { groupBy, ...(splitBy ? { splitBy } : {}), groups };
    },
  };
}

export type TraceQueryService = ReturnType<typeof createTraceQuery>;

// ---------------------------------------------------------------------------------------------

function invalid(path: string, message: string): ApiError {
  return new ApiError('validation_failed', `${path}: ${message}`, { details: { issues: [{ path, message }] } });
}

/** RFC 3339 in the stored form (UTC, milliseconds), so it compares with stored times as text. */
function storedTime(value: string, path: string): string {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value) || Number.isNaN(ms)) {
    throw invalid(path, 'must be an RFC 3339 time, e.g. 2026-11-25T09:00:00Z');
  }
  return new Date(ms).toISOString();
}

/** The JSON texts an attribute given as a string in a query may equal: the string, or the literal. */
function jsonTextsOf(value: string): string[] {
  const texts = [JSON.stringify(value)];
  if (value === 'true' || value === 'false' || value === 'null') texts.push(value);
  else if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value) && Number.isFinite(Number(value))) texts.push(JSON.stringify(Number(value)));
  return texts;
}

/**
 * A query's window as spans store their times (UTC, milliseconds), so it compares as text; a time that
 * is not RFC 3339, or a window that is empty or inverted, is `validation_failed` naming the parameter.
 */
export function spanWindow(q: { from: string; to: string }): { from: string; to: string } {
  const from = storedTime(q.from, 'query.from');
  const to = storedTime(q.to, 'query.to');
  if (to <= from) throw invalid('query.to', `the window is empty or inverted: to (${q.to}) must be after from (${q.from})`);
  return { from, to };
}

function toConditions(q: TraceQuery): SpanConditions {
  const { from, to } = spanWindow(q);
  const attributes = Object.entries(q.attributes ?? {}).map(([key, value]) => {
    if (!ATTRIBUTE_KEY.test(key)) throw invalid(`query.attr.${key}`, 'attribute keys are letters, digits and _ . : / @ - only');
    return { key, jsonTexts: jsonTextsOf(value) };
  });
  return {
    from,
    to,
    agent: q.agent,
    model: q.model,
    kinds: q.kinds,
    status: q.status,
    minCostMicros: q.minCostMicros,
    minDurationMs: q.minDurationMs,
    namePattern: q.name === undefined ? undefined : `%${q.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
    attributes,
  };
}

function hasFilters(c: SpanConditions): boolean {
  const { from: _from, to: _to, attributes, kinds, ...rest } = c;
  return Boolean(attributes?.length || kinds?.length || Object.values(rest).some((v) => v !== undefined));
}

type Cursor = ({ kind: 'span' } & SpanPosition) | ({ kind: 'trace' } & TracePosition);

/** Opaque to clients: base64url JSON of the last row's sort key, tagged with the list it belongs to. */
function encodeCursor(c: Cursor): string {
  const key = c.kind === 'span' ? ['s', c.startTime, c.traceId, c.spanId] : ['t', c.startTime, c.traceId];
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string, kind: 'span'): SpanPosition;
function decodeCursor(cursor: string, kind: 'trace'): TracePosition;
function decodeCursor(cursor: string, kind: Cursor['kind']): SpanPosition | TracePosition {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = null;
  }
  const strings = Array.isArray(key) && key.every((k) => typeof k === 'string') ? (key as string[]) : [];
  if (kind === 'span' && strings.length === 4 && strings[0] === 's') {
    return { startTime: strings[1]!, traceId: strings[2]!, spanId: strings[3]! };
  }
  if (kind === 'trace' && strings.length === 3 && strings[0] === 't') {
    return { startTime: strings[1]!, traceId: strings[2]! };
  }
  throw invalid('query.cursor', `not a cursor of this list; pass back the nextCursor of a ${kind} page`);
}

/**
 * Spans in depth-first order, children by start time. A span whose parent is not in the trace (not
 * sent, or sent by another service) is a root; spans caught in a parent cycle become roots too.
 */
function depthFirst(rows: SpanRow[]): TraceSpan[] {
  const ids = new Set(rows.map((r) => r.span_id));
  const children = new Map<string, SpanRow[]>();
  const roots: SpanRow[] = [];
  for (const r of rows) {
    if (r.parent_span_id !== null && r.parent_span_id !== r.span_id && ids.has(r.parent_span_id)) {
      (children.get(r.parent_span_id) ?? children.set(r.parent_span_id, []).get(r.parent_span_id)!).push(r);
    } else {
      roots.push(r);
    }
  }
  const out: TraceSpan[] = [];
  const seen = new Set<string>();
  const walk = (root: SpanRow) => {
    const stack: Array<[SpanRow, number]> = [[root, 0]];
    while (stack.length) {
      const [row, depth] = stack.pop()!;
      if (seen.has(row.span_id)) continue;
      seen.add(row.span_id);
      out.push({ ...toSpan(row), depth });
      const kids = children.get(row.span_id) ?? [];
      for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, depth + 1]);
    }
  };
  for (const root of roots) walk(root);
  for (const r of rows) if (!seen.has(r.span_id)) walk(r);
  return out;
}
