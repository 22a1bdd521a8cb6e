import { sql, type Kysely } from 'kysely';

/**
 * A payment requested as an action (`POST /v1/payments`) keeps its action's id, and the action's
 * pipeline state until the action is recorded: a process killed between paying and recording leaves
 * the context for the recovery sweep, which finishes the payment and then records its action.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('payments').addColumn('action_id', 'text').execute();
  await db.schema.alterTable('payments').addColumn('action_context', 'text').execute();
  await db.schema
    .createIndex('payments_unrecorded')
    .on('payments')
    .column('updated_at')
    .where(sql.ref('action_context'), 'is not', null)
    .execute();
}
