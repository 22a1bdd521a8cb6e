import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';

export type BudgetRow = Selectable<Database['budgets']>;

export function createBudgetsStore(db: Kysely<Database>) {
  return {
    async insert(row: BudgetRow): Promise<void> {
      await db.insertInto('budgets').values(row).execute();
    },

    async get(projectId: string, id: string): Promise<BudgetRow | undefined> {
      return db.selectFrom('budgets').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    },

    async list(projectId: string): Promise<BudgetRow[]> {
      return db.selectFrom('budgets').selectAll().where('project_id', '=', projectId).orderBy('id').execute();
    },

    /** Records that a threshold fired in a period; false when it had fired already. */
    async insertAlert(row: Selectable<Database['budget_alerts']>): Promise<boolean> {
      const result = await db
        .insertInto('budget_alerts')
        .values(row)
        .onConflict((oc) => oc.columns(['budget_id', 'period_key', 'threshold']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async alerts(budgetId: string) {
      return db.selectFrom('budget_alerts').selectAll().where('budget_id', '=', budgetId).orderBy('threshold').execute();
    },
  };
}
