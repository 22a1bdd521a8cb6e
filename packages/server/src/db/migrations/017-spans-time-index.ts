import type { Kysely } from 'kysely';

/**
 * One fewer index write per span (see docs/benchmarks.md, "ingest"): `spans_time (project_id,
 * start_time)` is a prefix of `spans_time_order (project_id, start_time, trace_id, span_id)`, so every
 * query that could walk the first walks the second in the same order.
 *
 * `spans_trace_time (project_id, trace_id, start_time, span_id)` stays, though the primary key's
 * (project_id, trace_id) prefix finds a trace's spans too: without it, on a database never ANALYZEd
 * (the server does not), SQLite's planner reads a trace's spans in start order by walking the
 * project's whole `spans_time_order`, not by looking the trace up.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('spans_time').execute();
}
