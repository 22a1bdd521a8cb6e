import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';

export type LimitsRow = Selectable<Database['payment_limits']>;
export type SignerRow = Selectable<Database['mandate_signers']>;
export type MandateRow = Selectable<Database['mandates']>;
export type PaymentRow = Selectable<Database['payments']>;

export function createPaymentsStore(db: Kysely<Database>) {
  return {
    async putLimits(row: LimitsRow): Promise<void> {
      const { project_id: _p, agent_id: _a, currency: _c, ...changes } = row;
      await db
        .insertInto('payment_limits')
        .values(row)
        .onConflict((oc) => oc.columns(['project_id', 'agent_id', 'currency']).doUpdateSet(changes))
        .execute();
    },

    async getLimits(projectId: string, agentId: string, currency: string): Promise<LimitsRow | undefined> {
      return db
        .selectFrom('payment_limits')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('agent_id', '=', agentId)
        .where('currency', '=', currency)
        .executeTakeFirst();
    },

    async insertSigner(row: SignerRow): Promise<void> {
      await db.insertInto('mandate_signers').values(row).execute();
    },

    async getSigner(projectId: string, id: string): Promise<SignerRow | undefined> {
      return db.selectFrom('mandate_signers').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    },

    /** Inserts the mandate unless the same signature was registered; true when inserted. */
    async insertMandate(row: Omit<MandateRow, 'uses'>): Promise<boolean> {
      const r = await db
        .insertInto('mandates')
        .values(row)
        .onConflict((oc) => oc.columns(['project_id', 'signature']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async getMandate(projectId: string, id: string): Promise<MandateRow | undefined> {
      return db.selectFrom('mandates').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    },

    async getMandateBySignature(projectId: string, signature: string): Promise<MandateRow | undefined> {
      return db.selectFrom('mandates').selectAll().where('project_id', '=', projectId).where('signature', '=', signature).executeTakeFirst();
    },

    async listMandates(projectId: string): Promise<MandateRow[]> {
      return db.selectFrom('mandates').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
    },

    /** Counts one use; a single-use mandate only the first time. True when the use was counted. */
    async useMandate(projectId: string, id: string): Promise<boolean> {
      const r = await db
        .updateTable('mandates')
        .set((eb) => ({ uses: eb('uses', '+', 1) }))
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where((eb) => eb.or([eb('single_use', '=', 0), eb('uses', '=', 0)]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async unuseMandate(projectId: string, id: string): Promise<void> {
      await db
        .updateTable('mandates')
        .set((eb) => ({ uses: eb('uses', '-', 1) }))
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('uses', '>', 0)
        .execute();
    },

    /** Inserts the payment unless its idempotency key is taken; true when inserted. */
    async insertPayment(row: PaymentRow): Promise<boolean> {
      const r = await db
        .insertInto('payments')
        .values(row)
        .onConflict((oc) => oc.columns(['project_id', 'idempotency_key']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async getPayment(projectId: string, id: string): Promise<PaymentRow | undefined> {
      return db.selectFrom('payments').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    },

    async getPaymentByKey(projectId: string, key: string): Promise<PaymentRow | undefined> {
      return db.selectFrom('payments').selectAll().where('project_id', '=', projectId).where('idempotency_key', '=', key).executeTakeFirst();
    },

    async listPayments(projectId: string, limit: number): Promise<PaymentRow[]> {
      return db.selectFrom('payments').selectAll().where('project_id', '=', projectId).orderBy('id', 'desc').limit(limit).execute();
    },

    /**
     * Payments of any project left between the rail and the ledger, or whose action is not recorded
     * yet, untouched since `before`.
     */
    async stuckPayments(before: string, limit: number): Promise<PaymentRow[]> {
      const [between, unrecorded] = await Promise.all([
        db
          .selectFrom('payments')
          .selectAll()
          .where('status', 'in', ['authorizing', 'authorized', 'settling'])
          .where('updated_at', '<=', before)
          .orderBy('updated_at')
          .limit(limit)
          .execute(),
        db
          .selectFrom('payments')
          .selectAll()
          .where('action_context', 'is not', null)
          .where('updated_at', '<=', before)
          .orderBy('updated_at')
          .limit(limit)
          .execute(),
      ]);
      const byId = new Map([...between, ...unrecorded].map((r) => [r.id, r]));
      return [...byId.values()].sort((a, b) => a.updated_at.localeCompare(b.updated_at)).slice(0, limit);
    },

    /**
     * Marks the payment's action recorded (in the transaction of its record): true when this call
     * did, false when its context was taken already — the action is recorded, by another process.
     */
    async takeActionContext(projectId: string, id: string): Promise<boolean> {
      const r = await db
        .updateTable('payments')
        .set({ action_context: null })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('action_context', 'is not', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Payments of the project with a rail reference, created in [from, to). */
    async paymentsBetween(projectId: string, from: string, to: string): Promise<PaymentRow[]> {
      return db
        .selectFrom('payments')
        .selectAll()
        .where('project_id', '=', projectId)
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .orderBy('id')
        .execute();
    },

    /** Moves a payment from one status to the next; false when it was not in `from` any more. */
    async updatePayment(
      projectId: string,
      id: string,
      from: string,
      changes: Partial<Pick<PaymentRow, 'status' | 'rail_ref' | 'hold_ids' | 'failure_reason' | 'updated_at'>>,
    ): Promise<boolean> {
      const r = await db
        .updateTable('payments')
        .set(changes)
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .where('status', '=', from)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
  };
}
