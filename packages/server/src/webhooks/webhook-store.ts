import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';

export type DeliveryRow = Selectable<Database['webhook_deliveries']>;

/** The outbox of webhook deliveries: enqueued in the sender's transaction, claimed and retried here. */
export function createWebhookStore(db: Kysely<Database>) {
  return {
    async insert(row: Omit<DeliveryRow, 'attempts'>): Promise<void> {
      await db.insertInto('webhook_deliveries').values(row).execute();
    },

    async due(now: string, limit: number): Promise<DeliveryRow[]> {
      return db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('next_attempt_at', '<=', now)
        .where('delivered_at', 'is', null)
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute();
    },

    /** Takes a due delivery for `leaseUntil` unless another process took it first; true when taken. */
    async claim(id: string, seenNextAttempt: string, leaseUntil: string): Promise<boolean> {
      const result = await db
        .updateTable('webhook_deliveries')
        .set({ next_attempt_at: leaseUntil })
        .where('id', '=', id)
        .where('next_attempt_at', '=', seenNextAttempt)
        .where('delivered_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async finish(id: string, outcome: { attempts: number; deliveredAt: string | null; nextAttemptAt: string | null; lastError: string | null }) {
      await db
        .updateTable('webhook_deliveries')
        .set({
          attempts: outcome.attempts,
          delivered_at: outcome.deliveredAt,
          next_attempt_at: outcome.nextAttemptAt,
          last_error: outcome.lastError,
        })
        .where('id', '=', id)
        .execute();
    },

    async list(projectId: string): Promise<DeliveryRow[]> {
      return db.selectFrom('webhook_deliveries').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
    },
  };
}
