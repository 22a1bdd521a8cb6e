import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';

export type PolicyRow = Selectable<Database['policies']>;

/** A project's Cedar policies. */
export function createPolicyStore(db: Kysely<Database>) {
  return {
    async list(projectId: string): Promise<PolicyRow[]> {
      return db.selectFrom('policies').selectAll().where('project_id', '=', projectId).orderBy('name').execute();
    },

    async get(projectId: string, id: string): Promise<PolicyRow | undefined> {
      return db.selectFrom('policies').selectAll().where('project_id', '=', projectId).where('id', '=', id).executeTakeFirst();
    },

    async byName(projectId: string, name: string): Promise<PolicyRow | undefined> {
      return db.selectFrom('policies').selectAll().where('project_id', '=', projectId).where('name', '=', name).executeTakeFirst();
    },

    async insert(row: PolicyRow): Promise<void> {
      await db.insertInto('policies').values(row).execute();
    },

    async update(projectId: string, id: string, changes: { name: string; description: string; text: string; updatedAt: string }): Promise<void> {
      await db
        .updateTable('policies')
        .set({ name: changes.name, description: changes.description, text: changes.text, updated_at: changes.updatedAt })
        .where('project_id', '=', projectId)
        .where('id', '=', id)
        .execute();
    },

    async remove(projectId: string, id: string): Promise<void> {
      await db.deleteFrom('policies').where('project_id', '=', projectId).where('id', '=', id).execute();
    },
  };
}
