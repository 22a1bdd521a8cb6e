import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';

export type SandboxEntryRow = Selectable<Database['sandbox_rail_entries']>;

/** The sandbox rail's own books: the simulated external side of every sandbox payment. */
export function createSandboxRailStore(db: Kysely<Database>) {
  return {
    async byKey(idempotencyKey: string): Promise<SandboxEntryRow | undefined> {
      return db.selectFrom('sandbox_rail_entries').selectAll().where('idempotency_key', '=', idempotencyKey).executeTakeFirst();
    },
    async byRef(ref: string): Promise<SandboxEntryRow | undefined> {
      return db.selectFrom('sandbox_rail_entries').selectAll().where('ref', '=', ref).executeTakeFirst();
    },
    /** Entries captured or refunded, created in [from, to). */
    async settled(from: string, to: string): Promise<SandboxEntryRow[]> {
      return db
        .selectFrom('sandbox_rail_entries')
        .selectAll()
        .where('status', 'in', ['captured', 'refunded'])
        .where('created_at', '>=', from)
        .where('created_at', '<', to)
        .orderBy('created_at')
        .execute();
    },
    async insert(row: SandboxEntryRow): Promise<void> {
      await db.insertInto('sandbox_rail_entries').values(row).execute();
    },
    /** Moves an entry from `from` to `to` (already at `to` counts as moved); false otherwise. */
    async move(ref: string, from: string, to: string, at: string): Promise<boolean> {
      const r = await db
        .updateTable('sandbox_rail_entries')
        .set({ status: to, updated_at: at })
        .where('ref', '=', ref)
        .where('status', 'in', [from, to])
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
  };
}
