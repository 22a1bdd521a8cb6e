import type { Kysely } from 'kysely';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('gateway_providers')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('base_url', 'text')
    // AES-256-GCM under a key derived from HANGAR_SECRET: "v1.<iv>.<tag>.<ciphertext>", base64url
    .addColumn('key_ciphertext', 'text')
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('gateway_providers_pk', ['project_id', 'name'])
    .execute();

  await db.schema
    .createTable('gateway_routes')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('gateway_routes_pk', ['project_id', 'name'])
    .execute();

  // Which journal event holds the answer to a canonical request: the response cache and replay read it.
  await db.schema
    .createTable('gateway_answers')
    .addColumn('project_id', 'text', (c) => c.notNull())
    .addColumn('request_sha256', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('gateway_answers_pk', ['project_id', 'stream', 'seq'])
    .execute();
  await db.schema
    .createIndex('gateway_answers_request')
    .on('gateway_answers')
    .columns(['project_id', 'request_sha256', 'created_at'])
    .execute();
}
