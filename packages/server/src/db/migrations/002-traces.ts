import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('spans')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('trace_id', 'text', (c) => c.notNull())
    .addColumn('span_id', 'text', (c) => c.notNull())
    .addColumn('parent_span_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_message', 'text')
    .addColumn('error_type', 'text')
    .addColumn('start_time', 'text', (c) => c.notNull())
    .addColumn('end_time', 'text', (c) => c.notNull())
    .addColumn('duration_ms', 'real', (c) => c.notNull())
    .addColumn('service_name', 'text')
    .addColumn('agent', 'text')
    .addColumn('provider', 'text')
    .addColumn('model', 'text')
    .addColumn('tokens_input', 'integer')
    .addColumn('tokens_output', 'integer')
    .addColumn('tokens_cache_read', 'integer')
    .addColumn('tokens_cache_write', 'integer')
    .addColumn('tokens_reasoning', 'integer')
    .addColumn('cost_micros', 'bigint')
    .addColumn('provider_cost_micros', 'bigint')
    .addColumn('tool_name', 'text')
    .addColumn('input_sha256', 'text')
    .addColumn('output_sha256', 'text')
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('spans_pk', ['project_id', 'trace_id', 'span_id'])
    .execute();
  await db.schema.createIndex('spans_time').on('spans').columns(['project_id', 'start_time']).execute();
  await db.schema.createIndex('spans_model_time').on('spans').columns(['project_id', 'model', 'start_time']).execute();
  await db.schema.createIndex('spans_agent_time').on('spans').columns(['project_id', 'agent', 'start_time']).execute();
}
