import { sql, type Kysely } from 'kysely';

/**
 * One row per trace, kept by every span insert in the same transaction (trace-summaries-store.ts), so
 * the trace list walks traces instead of spans. It holds what a list row shows and what tells a filter
 * a trace cannot match:
 * - the first span (earliest start, ties by span id): its start, id and name;
 * - totals: span and error counts, token and cost sums, the last end time;
 * - for filters: the largest span cost and duration, and the trace's agent (null when it has none or
 *   several; `multi_agent` says which).
 * Every column is a sum, a minimum, a maximum or an equality over the trace's spans, so spans of one
 * trace arriving in any order and over any number of requests give the same row. Existing spans are
 * summarized here, in one statement.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('trace_summaries')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('trace_id', 'text', (c) => c.notNull())
    .addColumn('start_time', 'text', (c) => c.notNull())
    .addColumn('root_span_id', 'text', (c) => c.notNull())
    .addColumn('root_name', 'text', (c) => c.notNull())
    .addColumn('end_time', 'text', (c) => c.notNull())
    .addColumn('span_count', 'integer', (c) => c.notNull())
    .addColumn('error_count', 'integer', (c) => c.notNull())
    .addColumn('tokens_input', 'bigint', (c) => c.notNull())
    .addColumn('tokens_output', 'bigint', (c) => c.notNull())
    .addColumn('cost_micros', 'bigint', (c) => c.notNull())
    .addColumn('max_cost_micros', 'bigint')
    .addColumn('max_duration_ms', 'real', (c) => c.notNull())
    .addColumn('agent', 'text')
    .addColumn('multi_agent', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('trace_summaries_pk', ['project_id', 'trace_id'])
    .execute();

  await sql`
    insert into trace_summaries (project_id, trace_id, start_time, root_span_id, root_name, end_time, span_count,
      error_count, tokens_input, tokens_output, cost_micros, max_cost_micros, max_duration_ms, agent, multi_agent)
    select f.project_id, f.trace_id, f.start_time, f.span_id, f.name, a.end_time, a.span_count, a.error_count,
      a.tokens_input, a.tokens_output, a.cost_micros, a.max_cost_micros, a.max_duration_ms, a.agent, a.multi_agent
    from (
      select project_id, trace_id, span_id, name, start_time,
        row_number() over (partition by project_id, trace_id order by start_time, span_id) as rn
      from spans
    ) f
    join (
      select project_id, trace_id, max(end_time) as end_time, count(*) as span_count,
        sum(case when status = 'error' then 1 else 0 end) as error_count,
        coalesce(sum(tokens_input), 0) as tokens_input, coalesce(sum(tokens_output), 0) as tokens_output,
        coalesce(sum(cost_micros), 0) as cost_micros, max(cost_micros) as max_cost_micros,
        max(duration_ms) as max_duration_ms,
        case when count(distinct agent) = 1 then min(agent) end as agent,
        case when count(distinct agent) > 1 then 1 else 0 end as multi_agent
      from spans
      group by project_id, trace_id
    ) a on a.project_id = f.project_id and a.trace_id = f.trace_id
    where f.rn = 1
  `.execute(db);

  // the trace list's walk: a project's traces by first start time, newest first, ties by trace id
  await db.schema
    .createIndex('trace_summaries_time')
    .on('trace_summaries')
    .columns(['project_id', 'start_time', 'trace_id'])
    .execute();
}
