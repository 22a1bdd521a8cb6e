import type { Kysely } from 'kysely';

/**
 * Actions an agent executes itself (POST /v1/actions): authorized by the pipeline, pending until the
 * agent reports the result or the sweeper finds them expired. `context` is the pipeline's state of the
 * action (decision, holds), so that any process can settle it. A key is used once per project.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('agent_actions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('principal', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('context', 'text', (c) => c.notNull())
    .addColumn('result_hash', 'text')
    .addColumn('result', 'text')
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('agent_actions_key').unique().on('agent_actions').columns(['project_id', 'idempotency_key']).execute();
  // the sweeper's read: unfinished actions by when they are due
  await db.schema.createIndex('agent_actions_due').on('agent_actions').columns(['status', 'expires_at']).execute();
}
