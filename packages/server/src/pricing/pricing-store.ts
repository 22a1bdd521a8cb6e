import type { PriceEntry } from '@hangar/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { nowIso } from '../util/ids.js';

/** A project's price overrides: one JSON list per project, read and replaced whole. */
export function createPricingStore(db: Kysely<Database>) {
  return {
    async overrides(projectId: string): Promise<PriceEntry[]> {
      const row = await db.selectFrom('price_overrides').select('entries').where('project_id', '=', projectId).executeTakeFirst();
      return row ? (JSON.parse(row.entries) as PriceEntry[]) : [];
    },

    async setOverrides(projectId: string, entries: PriceEntry[]): Promise<void> {
      if (entries.length === 0) {
        await db.deleteFrom('price_overrides').where('project_id', '=', projectId).execute();
        return;
      }
      const values = { project_id: projectId, entries: JSON.stringify(entries), updated_at: nowIso() };
      await db
        .insertInto('price_overrides')
        .values(values)
        .onConflict((oc) => oc.column('project_id').doUpdateSet({ entries: values.entries, updated_at: values.updated_at }))
        .execute();
    },
  };
}
