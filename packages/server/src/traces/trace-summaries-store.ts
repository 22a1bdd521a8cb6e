import { sql, type Kysely, type Selectable } from 'kysely';
import { createBulkInsert } from '../db/bulk-insert.js';
import type { Database } from '../db/schema.js';

export type TraceSummaryRow = Selectable<Database['trace_summaries']>;

/** The columns of a summary row, in the order `traceSummaryValues` gives them. */
export const TRACE_SUMMARY_COLUMNS = [
  'project_id',
  'trace_id',
  'start_time',
  'root_span_id',
  'root_name',
  'end_time',
  'span_count',
  'error_count',
  'tokens_input',
  'tokens_output',
  'cost_micros',
  'max_cost_micros',
  'max_duration_ms',
  'agent',
  'multi_agent',
] as const satisfies ReadonlyArray<keyof TraceSummaryRow>;

/** The span columns a summary is made of. */
type SpanField =
  | 'project_id'
  | 'trace_id'
  | 'span_id'
  | 'name'
  | 'status'
  | 'start_time'
  | 'end_time'
  | 'duration_ms'
  | 'agent'
  | 'tokens_input'
  | 'tokens_output'
  | 'cost_micros';

/**
 * Per trace, the summary of the given span rows (values in `columns` order, as ingest inserts them):
 * what `upsertTraceSummaries` adds to the stored summary. Pass only the rows that were actually stored
 * (not an exporter's retry of a stored span), or they are counted twice.
 */
export function traceSummaryValues(
  rows: Iterable<readonly unknown[]>,
  columns: ReadonlyArray<string>,
): unknown[][] {
  const at = (c: SpanField) => columns.indexOf(c);
  const [P, T, S, N, ST, START, END, DUR, AG, TIN, TOUT, COST] = (
    ['project_id', 'trace_id', 'span_id', 'name', 'status', 'start_time', 'end_time', 'duration_ms', 'agent', 'tokens_input', 'tokens_output', 'cost_micros'] as const
  ).map(at) as [number, number, number, number, number, number, number, number, number, number, number, number];
  // one value array per trace, in TRACE_SUMMARY_COLUMNS order
  const byTrace = new Map<string, unknown[]>();
  for (const r of rows) {
    const project = r[P] as string;
    const trace = r[T] as string;
    const key = `${project}\n${trace}`;
    const start = r[START] as string;
    const spanId = r[S] as string;
    const cost = r[COST] as number | null;
    const agent = r[AG] as string | null;
    const s = byTrace.get(key);
    if (!s) {
      byTrace.set(key, [
        project,
        trace,
        start,
        spanId,
        r[N],
        r[END],
        1,
        r[ST] === 'error' ? 1 : 0,
        (r[TIN] as number | null) ?? 0,
        (r[TOUT] as number | null) ?? 0,
        cost ?? 0,
        cost,
        r[DUR],
        agent,
        0,
      ]);
      continue;
    }
    if (start < (s[2] as string) || (start === s[2] && spanId < (s[3] as string))) {
      s[2] = start;
      s[3] = spanId;
      s[4] = r[N];
    }
    if ((r[END] as string) > (s[5] as string)) s[5] = r[END];
    (s[6] as number)++;
    if (r[ST] === 'error') (s[7] as number)++;
    s[8] = (s[8] as number) + ((r[TIN] as number | null) ?? 0);
    s[9] = (s[9] as number) + ((r[TOUT] as number | null) ?? 0);
    if (cost !== null) {
      s[10] = (s[10] as number) + cost;
      if (s[11] === null || cost > (s[11] as number)) s[11] = cost;
    }
    if ((r[DUR] as number) > (s[12] as number)) s[12] = r[DUR];
    if (agent !== null && s[14] === 0) {
      if (s[13] === null) s[13] = agent;
      else if (s[13] !== agent) {
        s[13] = null;
        s[14] = 1;
      }
    }
  }
  return [...byTrace.values()];
}

const INSERT_CHUNK = 200;

// The stored row (trace_summaries) and the batch's (excluded) combine column by column: sums add,
// the first span is the earlier, the end the later, maxima the larger, and the agent stays single only
// while every span that names one names the same.
const several = sql`(trace_summaries.multi_agent = 1 or excluded.multi_agent = 1 or trace_summaries.agent <> excluded.agent)`;
const earlier = sql`(excluded.start_time < trace_summaries.start_time or (excluded.start_time = trace_summaries.start_time and excluded.root_span_id < trace_summaries.root_span_id))`;
const add = (c: string) => sql<number>`${sql.ref(`trace_summaries.${c}`)} + ${sql.ref(`excluded.${c}`)}`;
const larger = <T>(c: string) =>
  sql<T>`case when ${sql.ref(`trace_summaries.${c}`)} is null or ${sql.ref(`excluded.${c}`)} > ${sql.ref(`trace_summaries.${c}`)} then ${sql.ref(`excluded.${c}`)} else ${sql.ref(`trace_summaries.${c}`)} end`;
const firstOf = (c: string) => sql<string>`case when ${earlier} then ${sql.ref(`excluded.${c}`)} else ${sql.ref(`trace_summaries.${c}`)} end`;

const upsertRows = createBulkInsert<TraceSummaryRow>(TRACE_SUMMARY_COLUMNS, (db, rows) =>
  db
    .insertInto('trace_summaries')
    .values(rows)
    .onConflict((oc) =>
      oc.columns(['project_id', 'trace_id']).doUpdateSet({
        start_time: firstOf('start_time'),
        root_span_id: firstOf('root_span_id'),
        root_name: firstOf('root_name'),
        end_time: larger<string>('end_time'),
        span_count: add('span_count'),
        error_count: add('error_count'),
        tokens_input: add('tokens_input'),
        tokens_output: add('tokens_output'),
        cost_micros: add('cost_micros'),
        max_cost_micros: larger<number | null>('max_cost_micros'),
        max_duration_ms: larger<number>('max_duration_ms'),
        agent: sql<string | null>`case when ${several} then null else coalesce(trace_summaries.agent, excluded.agent) end`,
        multi_agent: sql<number>`case when ${several} then 1 else 0 end`,
      }),
    ),
);

/**
 * Adds summaries given as `traceSummaryValues` to the stored ones (inserting those of new traces).
 * Every column combines commutatively, so concurrent requests with spans of one trace add up right.
 */
export async function upsertTraceSummaries(db: Kysely<Database>, rows: ReadonlyArray<readonly unknown[]>): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await upsertRows.insertValues(db, rows.slice(i, i + INSERT_CHUNK));
  }
}
