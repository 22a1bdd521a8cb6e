import type { Kysely } from 'kysely';

/** Indexes for the payment recovery sweep (payments by status) and the rail statement (by date). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('payments_status').on('payments').columns(['status', 'updated_at']).execute();
  await db.schema.createIndex('payments_created').on('payments').columns(['project_id', 'created_at']).execute();
  await db.schema.createIndex('sandbox_rail_entries_created').on('sandbox_rail_entries').columns(['created_at']).execute();
}
