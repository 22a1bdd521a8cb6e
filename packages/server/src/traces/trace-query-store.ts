import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { AggregateGroupBy } from '@hangar/protocol';
import type { DialectFunctions } from '../db/dialects/dialect.js';
import type { Database } from '../db/schema.js';
import type { TraceSummaryRow } from './trace-summaries-store.js';
import type { SpanRow } from './traces-store.js';

/** A filter as the store applies it: times already normalized to the stored format. */
export interface SpanConditions {
  from: string;
  to: string;
  agent?: string | undefined;
  model?: string | undefined;
  kinds?: string[] | undefined;
  status?: string | undefined;
  minCostMicros?: number | undefined;
  minDurationMs?: number | undefined;
  /** A LIKE pattern, lower-case, with `\` as the escape character. */
  namePattern?: string | undefined;
  /** Per attribute key, the JSON texts it may equal. */
  attributes?: Array<{ key: string; jsonTexts: string[] }> | undefined;
}

/** Where the previous page of spans ended (the last row's sort key). */
export interface SpanPosition {
  startTime: string;
  traceId: string;
  spanId: string;
}

/** Where the previous page of traces ended (its last trace's first span). */
export interface TracePosition {
  startTime: string;
  traceId: string;
}

export interface TraceLabelRow {
  trace_id: string;
  span_id: string;
  agent: string | null;
  model: string | null;
}

export interface AggregateSqlRow {
  key: string | null;
  /** The second dimension's value when split, else undefined. */
  split?: string | null;
  calls: number;
  errors: number;
  cost_micros: number;
  tokens_input: number;
  tokens_output: number;
  p50: number | null;
  p95: number | null;
}

type Columns = keyof Database['spans'];

/** The most matching spans read by one query while collecting candidate traces. */
const MAX_CANDIDATE_PAGE = 5000;

/**
 * Read-only queries over `spans` for search, the trace list, trace trees and aggregates. Conditions are
 * portable SQL (row values, window functions, LIKE … ESCAPE); the one dialect-specific piece, reading a
 * JSON attribute, comes from the dialect's functions.
 */
export function createTraceQueryStore(db: Kysely<Database>, functions: DialectFunctions) {
  /** The span conditions on the table aliased `alias`, time window excluded. */
  function filters(alias: string, f: SpanConditions): Array<Expression<SqlBool>> {
    const col = (name: Columns) => sql.ref(`${alias}.${name}`);
    const out: Array<RawBuilder<SqlBool>> = [];
    if (f.agent !== undefined) out.push(sql<SqlBool>`${col('agent')} = ${f.agent}`);
    if (f.model !== undefined) out.push(sql<SqlBool>`${col('model')} = ${f.model}`);
    if (f.kinds?.length) out.push(sql<SqlBool>`${col('kind')} in (${sql.join(f.kinds)})`);
    if (f.status !== undefined) out.push(sql<SqlBool>`${col('status')} = ${f.status}`);
    if (f.minCostMicros !== undefined) out.push(sql<SqlBool>`${col('cost_micros')} >= ${f.minCostMicros}`);
    if (f.minDurationMs !== undefined) out.push(sql<SqlBool>`${col('duration_ms')} >= ${f.minDurationMs}`);
    if (f.namePattern !== undefined) {
      out.push(
        sql<SqlBool>`(lower(${col('name')}) like ${f.namePattern} escape '\\' or lower(${col('tool_name')}) like ${f.namePattern} escape '\\')`,
      );
    }
    for (const { key, jsonTexts } of f.attributes ?? []) {
      out.push(sql<SqlBool>`${functions.jsonMemberText(`${alias}.attributes`, key)} in (${sql.join(jsonTexts)})`);
    }
    return out;
  }

  const window = (alias: string, f: SpanConditions) => [
    sql<SqlBool>`${sql.ref(`${alias}.start_time`)} >= ${f.from}`,
    sql<SqlBool>`${sql.ref(`${alias}.start_time`)} < ${f.to}`,
  ];

  /** Traces (aliased `t`) whose first span starts in the window. */
  const summaryWindow = (f: SpanConditions): Array<Expression<SqlBool>> => window('t', f);

  /**
   * Traces (aliased `t`) after the previous page's last, in list order. Spelt out, not as a row value:
   * with one project in the table, SQLite's planner turned `(start_time, trace_id) < (…)` into a
   * skip-scan over project_id and sorted the whole window (250 ms for page 2 of a month of 100,000
   * traces, against 1 ms).
   */
  const pageAfter = (after: TracePosition | null): Array<Expression<SqlBool>> =>
    after
      ? [
          sql<SqlBool>`t.start_time <= ${after.startTime}`,
          sql<SqlBool>`(t.start_time < ${after.startTime} or (t.start_time = ${after.startTime} and t.trace_id < ${after.traceId}))`,
        ]
      : [];

  /**
   * Traces (aliased `t`) with a span matching every filter: what the summary rules out, then a span of
   * the trace that matches. The summary's tests are necessary conditions only (a trace with an error
   * and a gpt-4o call may still have no failed gpt-4o call), never the answer.
   */
  function summaryFilters(f: SpanConditions): Array<Expression<SqlBool>> {
    const matching = filters('m', f);
    if (!matching.length) return [];
    const out: Array<Expression<SqlBool>> = [];
    if (f.status === 'error') out.push(sql<SqlBool>`t.error_count > 0`);
    if (f.minCostMicros !== undefined) out.push(sql<SqlBool>`t.max_cost_micros >= ${f.minCostMicros}`);
    if (f.minDurationMs !== undefined) out.push(sql<SqlBool>`t.max_duration_ms >= ${f.minDurationMs}`);
    if (f.agent !== undefined) out.push(sql<SqlBool>`(t.agent = ${f.agent} or t.multi_agent = 1)`);
    out.push(
      sql<SqlBool>`exists (select 1 from spans m where m.project_id = t.project_id and m.trace_id = t.trace_id
        and ${sql.join(matching, sql` and `)})`,
    );
    return out;
  }

  return {
    /** Spans in the window matching every filter, newest first (start time, trace id, span id). */
    async searchSpans(projectId: string, f: SpanConditions, after: SpanPosition | null, limit: number): Promise<SpanRow[]> {
      const conditions = [...window('s', f), ...filters('s', f)];
      if (after) {
        conditions.push(
          sql<SqlBool>`s.start_time <= ${after.startTime}`,
          sql<SqlBool>`(s.start_time, s.trace_id, s.span_id) < (${after.startTime}, ${after.traceId}, ${after.spanId})`,
        );
      }
      return db
        .selectFrom('spans as s')
        .selectAll('s')
        .where('s.project_id', '=', projectId)
        .where((eb) => eb.and(conditions))
        .orderBy('s.start_time', 'desc')
        .orderBy('s.trace_id', 'desc')
        .orderBy('s.span_id', 'desc')
        .limit(limit)
        .execute();
    },

    /**
     * The summaries of traces whose first span starts in the window and that have a span matching every
     * filter, newest first (first start time, then trace id). Walks trace_summaries_time backwards and
     * stops after `limit` traces; a filter first rules out, from the summary alone, the traces it
     * cannot match (no error, no span that costly or that long, another agent), then looks for a
     * matching span among the trace's own.
     */
    async traceSummaries(projectId: string, f: SpanConditions, after: TracePosition | null, limit: number): Promise<TraceSummaryRow[]> {
      return db
        .selectFrom('trace_summaries as t')
        .selectAll('t')
        .where('t.project_id', '=', projectId)
        .where((eb) => eb.and([...summaryWindow(f), ...pageAfter(after), ...summaryFilters(f)]))
        .orderBy('t.start_time', 'desc')
        .orderBy('t.trace_id', 'desc')
        .limit(limit)
        .execute();
    },

    /**
     * As traceSummaries, looking only at the next `scan` traces of the window: their answer when they
     * fill the page or are all the window has left, else null. A common filter's page is found among
     * the first few hundred traces; a rare one's costs at most `scan` probes here before the caller
     * tries another way.
     */
    async traceSummariesAmongNext(
      projectId: string,
      f: SpanConditions,
      after: TracePosition | null,
      limit: number,
      scan: number,
    ): Promise<TraceSummaryRow[] | null> {
      const next = db
        .selectFrom('trace_summaries as t')
        .selectAll('t')
        .where('t.project_id', '=', projectId)
        .where((eb) => eb.and([...summaryWindow(f), ...pageAfter(after)]))
        .orderBy('t.start_time', 'desc')
        .orderBy('t.trace_id', 'desc')
        .limit(scan);
      const rows = await db
        .selectFrom(next.as('t'))
        .selectAll('t')
        .where((eb) => eb.and(summaryFilters(f)))
        .orderBy('t.start_time', 'desc')
        .orderBy('t.trace_id', 'desc')
        .limit(limit)
        .execute();
      if (rows.length >= limit) return rows;
      const seen = await db
        .selectFrom(next.clearSelect().select('t.trace_id').as('n'))
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(seen.n) < scan ? rows : null;
    },

    /**
     * The distinct traces with a span starting at or after the window's start that matches every
     * filter, or null when there are more than `max`. Used to tell a selective filter, whose few traces
     * are cheaper to look up than to find by walking the window. Matching spans are read oldest first,
     * in pages, on a time-ordered index (spans_agent_time, spans_model_time or spans_time_order), so a common
     * filter is told after a page or two; one DISTINCT query let the planner walk the primary key over
     * the whole project instead. Pages are ordered by start time alone (the index order; a full sort
     * key made the planner sort or switch indexes) and resume at the last start time read.
     */
    async matchingTraceIds(projectId: string, f: SpanConditions, max: number): Promise<string[] | null> {
      const found = new Set<string>();
      let since = f.from;
      for (let page = max + 1; ; page = Math.min(page * 2, MAX_CANDIDATE_PAGE)) {
        const rows = await db
          .selectFrom('spans as m')
          .select(['m.trace_id', 'm.start_time'])
          .where('m.project_id', '=', projectId)
          .where((eb) => eb.and([sql<SqlBool>`m.start_time >= ${since}`, ...filters('m', f)]))
          .orderBy('m.start_time')
          .limit(page)
          .execute();
        for (const r of rows) found.add(r.trace_id);
        if (found.size > max) return null;
        if (rows.length < page) return [...found];
        const last = rows.at(-1)!.start_time;
        // a page of spans all starting at one instant: give up on candidates rather than loop
        if (last === since && page === MAX_CANDIDATE_PAGE) return null;
        since = last;
      }
    },

    /** The summaries of the given traces whose first span starts in the window, newest first (as traceSummaries). */
    async traceSummariesOf(
      projectId: string,
      traceIds: string[],
      f: SpanConditions,
      after: TracePosition | null,
      limit: number,
    ): Promise<TraceSummaryRow[]> {
      if (traceIds.length === 0) return [];
      const conditions = [...summaryWindow(f), ...pageAfter(after)];
      return db
        .selectFrom('trace_summaries as t')
        .selectAll('t')
        .where('t.project_id', '=', projectId)
        .where('t.trace_id', 'in', traceIds)
        .where((eb) => eb.and(conditions))
        .orderBy('t.start_time', 'desc')
        .orderBy('t.trace_id', 'desc')
        .limit(limit)
        .execute();
    },

    /** A trace's summary. */
    async traceSummary(projectId: string, traceId: string): Promise<TraceSummaryRow | undefined> {
      return db
        .selectFrom('trace_summaries')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('trace_id', '=', traceId)
        .executeTakeFirst();
    },

    /** The agents and models of the traces' spans, in start order. */
    async traceLabels(projectId: string, traceIds: string[]): Promise<TraceLabelRow[]> {
      if (traceIds.length === 0) return [];
      return db
        .selectFrom('spans')
        .select(['trace_id', 'span_id', 'agent', 'model'])
        .where('project_id', '=', projectId)
        .where('trace_id', 'in', traceIds)
        .where((eb) => eb.or([eb('agent', 'is not', null), eb('model', 'is not', null)]))
        .orderBy('trace_id')
        .orderBy('start_time')
        .orderBy('span_id')
        .execute();
    },

    /** A trace's spans in start order, at most `limit`. */
    async traceSpans(projectId: string, traceId: string, limit: number): Promise<SpanRow[]> {
      return db
        .selectFrom('spans')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('trace_id', '=', traceId)
        .orderBy('start_time')
        .orderBy('span_id')
        .limit(limit)
        .execute();
    },

    async span(projectId: string, traceId: string, spanId: string): Promise<SpanRow | undefined> {
      return db
        .selectFrom('spans')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('trace_id', '=', traceId)
        .where('span_id', '=', spanId)
        .executeTakeFirst();
    },

    /**
     * Totals per group. Percentiles are nearest-rank, from window functions: each span is numbered
     * within its group by duration, and the p-th percentile is the span numbered ceil(p/100 × n),
     * written (p·n + 99) / 100 in integer arithmetic so SQLite and Postgres compute the same rank.
     */
    async aggregates(
      projectId: string,
      f: SpanConditions,
      groupBy: AggregateGroupBy,
      percentiles: boolean,
      splitBy?: AggregateGroupBy,
    ): Promise<AggregateSqlRow[]> {
      const dimension = (by: AggregateGroupBy) =>
        by === 'day' ? sql<string>`substr(s.start_time, 1, 10)` : by === 'model' ? sql<string>`s.model` : sql<string>`s.agent`;
      const group = dimension(groupBy);
      // Unsplit, the second dimension is a constant: the same statements group by one column in effect.
      const split = splitBy ? dimension(splitBy) : sql<string>`null`;
      const partition = splitBy ? sql`${group}, ${split}` : group;
      const splitOf = (value: unknown) => (splitBy ? { split: (value as string | null) ?? null } : {});
      if (!percentiles) {
        // Without percentiles there is nothing to rank: a plain GROUP BY, several times cheaper.
        const rows = await db
          .selectFrom('spans as s')
          .select([
            group.as('key'),
            split.as('split'),
            sql<number>`count(*)`.as('calls'),
            sql<number>`sum(case when s.status = 'error' then 1 else 0 end)`.as('errors'),
            sql<number>`coalesce(sum(s.cost_micros), 0)`.as('cost_micros'),
            sql<number>`coalesce(sum(s.tokens_input), 0)`.as('tokens_input'),
            sql<number>`coalesce(sum(s.tokens_output), 0)`.as('tokens_output'),
          ])
          .where('s.project_id', '=', projectId)
          .where((eb) => eb.and([...window('s', f), ...filters('s', f)]))
          .groupBy(splitBy ? [group, split] : [group])
          .execute();
        return rows.map((r) => ({
          key: r.key as string | null,
          ...splitOf(r.split),
          calls: Number(r.calls),
          errors: Number(r.errors),
          cost_micros: Number(r.cost_micros),
          tokens_input: Number(r.tokens_input),
          tokens_output: Number(r.tokens_output),
          p50: null,
          p95: null,
        }));
      }
      const ranked = db
        .selectFrom('spans as s')
        .select([
          group.as('grp'),
          split.as('spl'),
          's.status',
          's.cost_micros',
          's.tokens_input',
          's.tokens_output',
          's.duration_ms',
          sql<number>`row_number() over (partition by ${partition} order by s.duration_ms)`.as('rn'),
          sql<number>`count(*) over (partition by ${partition})`.as('n'),
        ])
        .where('s.project_id', '=', projectId)
        .where((eb) => eb.and([...window('s', f), ...filters('s', f)]));
      const rows = await db
        .selectFrom(ranked.as('r'))
        .select([
          sql<string | null>`r.grp`.as('key'),
          sql<string | null>`r.spl`.as('split'),
          sql<number>`count(*)`.as('calls'),
          sql<number>`sum(case when r.status = 'error' then 1 else 0 end)`.as('errors'),
          sql<number>`coalesce(sum(r.cost_micros), 0)`.as('cost_micros'),
          sql<number>`coalesce(sum(r.tokens_input), 0)`.as('tokens_input'),
          sql<number>`coalesce(sum(r.tokens_output), 0)`.as('tokens_output'),
          sql<number>`max(case when r.rn = (50 * r.n + 99) / 100 then r.duration_ms end)`.as('p50'),
          sql<number>`max(case when r.rn = (95 * r.n + 99) / 100 then r.duration_ms end)`.as('p95'),
        ])
        .groupBy(['r.grp', 'r.spl'])
        .execute();
      return rows.map((r) => ({
        key: r.key,
        ...splitOf(r.split),
        calls: Number(r.calls),
        errors: Number(r.errors),
        cost_micros: Number(r.cost_micros),
        tokens_input: Number(r.tokens_input),
        tokens_output: Number(r.tokens_output),
        p50: Number(r.p50),
        p95: Number(r.p95),
      }));
    },
  };
}

export type TraceQueryStore = ReturnType<typeof createTraceQueryStore>;
