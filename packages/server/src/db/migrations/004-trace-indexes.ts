import type { Kysely } from 'kysely';

/**
 * Indexes for querying traces (trace-query-store.ts):
 * - spans_time_order walks a project's spans newest first in the exact order lists are sorted by
 *   (start time, then trace and span id), so a page stops after `limit` rows instead of sorting the
 *   whole window;
 * - spans_trace_time finds a trace's earliest span (the row the trace list is keyed on) with one probe
 *   and reads a trace's spans in start order.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('spans_time_order')
    .on('spans')
    .columns(['project_id', 'start_time', 'trace_id', 'span_id'])
    .execute();
  await db.schema
    .createIndex('spans_trace_time')
    .on('spans')
    .columns(['project_id', 'trace_id', 'start_time', 'span_id'])
    .execute();
}
